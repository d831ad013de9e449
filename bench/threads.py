"""Thread memory benchmark: how long a follow-up's research memory takes to build, and how big it is.

Usage: python bench/threads.py [--turns 1,5,20,50] [--budgets 1000,4000,16000] [--repeat 30] [--database-url URL]

Two measurements, each the median and p95 of `--repeat` builds:
- `thread_memory` alone (agent/memory.py): earlier turns shaped like real ones (an answer of ~600 characters, four
  checked citations with quotes, ten tool calls of which facts/read/series found figures, a five-point chart), for
  each number of turns and memory budget;
- the runner's whole build for a follow-up (api/thread_turns.py): the thread's earlier runs read from the database
  (SQLite in a temporary directory, or `--database-url`), the cited filings looked up in the catalog, then the memory
  of each arm of a compare turn.

Printed: a table per measurement: turns, budget, ms (median, p95), memory tokens, turns summarized and left out.
Target: under 50 ms for a 50-turn thread (issue 20).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.answer import Answer, AnswerChart, AnswerCitation, ChartPoint, ToolRecord  # noqa: E402
from agent.memory import Turn, thread_memory  # noqa: E402


def answer(n: int) -> Answer:
    """An answer shaped like a real cited one (turn `n` of a thread about 3M's cash flow)."""
    year = 2000 + n % 23
    cites = [
        AnswerCitation(
            doc_id=f"3M_{year}_10K",
            page=60 + i,
            quote=f"Purchases of property, plant and equipment (PP&E) ({1500 + i},{n:03d})",
            verified=True,
        )
        for i in range(4)
    ]
    steps = [
        ToolRecord(
            name=name,
            arguments={"doc_id": f"3M_{year}_10K", "query": "capital expenditure"},
            summary="1 line items for 'capex' " * 4,
        )
        for name in ("list_documents", "facts", "read", "grep", "series", "read", "outline", "facts", "read", "grep")
    ]
    chart = AnswerChart(
        title="Capex",
        unit="USD millions",
        points=[ChartPoint(label=f"FY{year - k}", value=1500 + k, doc_id=f"3M_{year}_10K", page=60) for k in range(5)],
    )
    text = (
        f"3M's FY{year} capital expenditure (purchases of PP&E) was $1,{n:03d} million, up from the year before; "
        "depreciation and amortization was $1,488 million, so capex ran about 1.06 times D&A. "
    ) * 3
    return Answer(mode="agentic", question=f"q{n}", text=text, status="answered", citations=cites, steps=steps, chart=chart)


def timed(build, repeat: int) -> tuple[float, float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = build()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))], result


def bench_memory(turn_counts: list[int], budgets: list[int], repeat: int) -> None:
    print("## thread_memory (agent/memory.py)\n")
    print("| turns | budget | median ms | p95 ms | memory tokens | summarized | left out |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count in turn_counts:
        turns = [
            Turn(question=f"What was 3M's capex in turn {n}, and how does it compare with D&A?", answer=answer(n))
            for n in range(count)
        ]
        for budget in budgets:
            median, p95, memory = timed(lambda: thread_memory(turns, budget), repeat)
            print(
                f"| {count} | {budget:,} | {median:.2f} | {p95:.2f} | {memory.tokens:,} | {memory.summarized} | {memory.omitted} |"
            )


def bench_stored(turn_counts: list[int], budgets: list[int], repeat: int, database_url: str | None) -> None:
    from api.models import migrate
    from api.run_store import RunStore
    from api.thread_turns import clear_cache, thread_memories
    from corpus.catalog import Corpus
    from corpus.settings import CorpusSettings

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus.open(CorpusSettings(data_dir=Path(tmp) / "data", database_url=database_url))
        try:
            migrate(corpus.engine)
            store = RunStore(corpus.sessions)
            print(f"\n## The runner's build: runs read from {corpus.engine.dialect.name}, filings looked up, both arms' memory\n")
            print("| turns | budget | first build ms | median ms | p95 ms | agentic memory tokens | summarized |")
            print("|---:|---:|---:|---:|---:|---:|---:|")
            for count in turn_counts:
                thread_id = None
                for n in range(count):
                    run = store.create_run(
                        mode="compare",
                        question=f"turn {n}",
                        filters=None,
                        model="m",
                        budgets=None,
                        key_id=None,
                        threaded=True,
                        thread_id=thread_id,
                    )
                    thread_id = run.thread_id
                    one = answer(n).model_dump(mode="json")
                    store.finish(
                        run.id,
                        status="answered",
                        result={"question": "q", "agentic": one, "rag": one | {"mode": "rag"}},
                        error=None,
                        latency_s=1.0,
                    )
                for budget in budgets:

                    def build() -> dict:
                        return thread_memories(corpus.sessions, thread_id, count + 1, "compare", corpus, budget)

                    clear_cache()
                    cold, _, _ = timed(build, 1)  # the first follow-up after a start: every stored answer parsed
                    median, p95, memories = timed(build, repeat)
                    agentic = memories["agentic"]
                    print(
                        f"| {count} | {budget:,} | {cold:.2f} | {median:.2f} | {p95:.2f} | {agentic.tokens:,} | {agentic.summarized} |"
                    )
        finally:
            corpus.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", default="1,5,20,50")
    parser.add_argument("--budgets", default="1000,4000,16000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="A database for the stored build (default: SQLite in a temp dir).")
    args = parser.parse_args()
    turn_counts = [int(x) for x in args.turns.split(",")]
    budgets = [int(x) for x in args.budgets.split(",")]
    bench_memory(turn_counts, budgets, args.repeat)
    bench_stored(turn_counts, budgets, args.repeat, args.database_url)


if __name__ == "__main__":
    main()
