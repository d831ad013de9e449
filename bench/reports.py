"""Report benchmark: the time Sleuth itself adds to a report run (plan, sections, memo and its check) on the fake model.

Usage: python bench/reports.py [--repeat N] [--sections N] [--parallel N] [--data-dir DIR] [--pdfs DIR]

Each repeat runs a report over 3M's FY2018 10-K with the scripted model of the tests (tests/fakes/report_script.py):
the plan (one model call), then, once approved, --sections sections researched --parallel at a time (a grep and two
model calls, or one model call, each) and the memo (one model call, then the figure check). The phases are timed from
the run's events; a fake model call's own time (measured alone, median of 20) is subtracted from the plan and the memo,
which make their calls one after another, to leave Sleuth's overhead. Sections are shown as wall time and per section.
When the exports branch's code is present (api.exports), each export format of the finished report is timed too.
The filing is ingested into --data-dir (default: a temporary one) from --pdfs when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.events import Event  # noqa: E402
from agent.llm import LLMClient  # noqa: E402
from agent.report_graph import report  # noqa: E402
from agent.settings import AgentSettings, LLMSettings  # noqa: E402
from corpus.catalog import Corpus  # noqa: E402
from corpus.ingest import ingest_paths  # noqa: E402
from corpus.settings import CorpusSettings  # noqa: E402
from tests.fakes.fake_llm import FakeLLM  # noqa: E402
from tests.fakes.report_script import DOC, ReportModel  # noqa: E402
from tools.context import ToolContext  # noqa: E402


def plan_of(sections: int) -> dict:
    kinds = [("Capital expenditures", "What did 3M spend on PP&E?"), ("Shareholder returns", "What did 3M pay out?")]
    chosen = [kinds[i % 2] for i in range(sections)]
    return {
        "title": "3M: capital allocation, FY2016-FY2018",
        "sections": [
            {"title": f"{t} {i + 1}" if i >= 2 else t, "questions": [q], "filings": [DOC]} for i, (t, q) in enumerate(chosen)
        ],
        "left_out": [],
    }


async def call_seconds(llm: LLMClient, n: int = 20) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await llm.complete([{"role": "user", "content": "ping"}], None)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def one_report(tools: ToolContext, llm: LLMClient, settings: AgentSettings) -> tuple[dict[str, float], object]:
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    question = "3M capital allocation FY2016-FY2018"
    start = time.perf_counter()
    plan = await report(question, llm=llm, tools=tools, settings=settings, emit=emit)
    planned = time.perf_counter() - start
    answer = await report(question, llm=llm, tools=tools, settings=settings, emit=emit, plan=plan, approve=True)
    at = lambda kind, pick=min: pick(e.ts for e in events if e.type == kind)  # noqa: E731
    per_section = {}
    for e in events:
        if e.type in ("section_started", "section_finished"):
            per_section.setdefault(e.data["index"], []).append(e.ts)
    return {
        "plan": planned,
        "sections": at("section_finished", max) - at("section_started"),
        "section": statistics.mean(ts[1] - ts[0] for ts in per_section.values()),
        "memo": at("answer", max) - at("memo_started", max),
        "total": time.perf_counter() - start,
        "llm_calls": answer.metrics.llm_calls,  # the approved run's: sections and memo (the plan's call is the first run's)
    }, answer


def export_times(answer) -> list[tuple[str, float, int]] | str:
    """Seconds and bytes of each export format of the report, when the exports code is present."""
    try:
        from api.exports import build, content_of
        from api.exports.content import RunInfo
    except ImportError as exc:
        return f"skipped (no exports code here: {exc})"
    now = datetime.now(UTC)
    run = RunInfo(
        "bench-report", "report", answer.question, "fake-model", answer.status, answer.model_dump(mode="json"), now, now
    )
    content = content_of(run, base_url="http://127.0.0.1:8000")
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("md", "docx", "pdf", "xlsx"):
            build(fmt, content, None, Path(folder))  # warm-up: imports, fonts
            start = time.perf_counter()
            path = build(fmt, content, None, Path(folder))
            out.append((fmt, time.perf_counter() - start, path.stat().st_size))
    return out


async def bench(args: argparse.Namespace, data_dir: Path) -> None:
    corpus = Corpus.open(CorpusSettings(data_dir=data_dir, ingest_workers=1))
    try:
        if not corpus.store.has(DOC):
            ingest_paths(corpus, [args.pdfs / f"{DOC}.pdf"], workers=1)
        tools = ToolContext(corpus)
        settings = AgentSettings(time_budget_s=120, report_max_sections=8, report_parallel_sections=args.parallel)
        with FakeLLM(ReportModel(plan=plan_of(args.sections), failing=None)) as fake:
            llm = LLMClient(LLMSettings(base_url=fake.base_url, model="fake-model", max_retries=0, timeout_s=10))
            try:
                call = await call_seconds(llm)
                await one_report(tools, llm, settings)  # warm-up: imports, the text cache, the graph
                runs = [await one_report(tools, llm, settings) for _ in range(args.repeat)]
            finally:
                await llm.close()
    finally:
        corpus.close()
    med = {k: statistics.median(r[0][k] for r in runs) for k in runs[0][0]}
    print(f"{args.sections} sections, {args.parallel} at a time; fake model call {call * 1000:.1f} ms; median of {args.repeat}")
    print("| phase | wall s | model calls | Sleuth's overhead s |")
    print("|---|---:|---:|---:|")
    print(f"| plan | {med['plan']:.3f} | 1 | {med['plan'] - call:.3f} |")
    print(f"| sections (all) | {med['sections']:.3f} | {int(med['llm_calls']) - 1} | |")
    print(f"| one section (mean) | {med['section']:.3f} | 1-2 | |")
    print(f"| memo + check | {med['memo']:.3f} | 1 | {med['memo'] - call:.3f} |")
    print(f"| whole report | {med['total']:.3f} | {int(med['llm_calls']) + 1} | |")
    exports = export_times(runs[-1][1])
    if isinstance(exports, str):
        print(f"exports: {exports}")
        return
    print("| export | s | bytes |\n|---|---:|---:|")
    for fmt, seconds, size in exports:
        print(f"| {fmt} | {seconds:.3f} | {size:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sections", type=int, default=4, choices=range(1, 9))
    parser.add_argument("--parallel", type=int, default=3, choices=range(1, 9))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--pdfs", type=Path, default=REPO.parent / "shared" / "financebench" / "pdfs")
    args = parser.parse_args()
    if args.data_dir is not None:
        asyncio.run(bench(args, args.data_dir))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(bench(args, Path(folder)))


if __name__ == "__main__":
    main()
