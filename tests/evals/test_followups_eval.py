"""`sleuth eval` on the whole follow-up set in both modes, with a scripted fake: the harness, not a model, is under test.

The fake knows the set. It answers a turn with its gold (citing the gold's quotes) only when it can tell which turn of
which thread it is asked: when the prompt holds the earlier questions of the thread, that is when the memory reached it.
Asked a follow-up alone ("And in 2017?") it cannot, and says it could not find it. In RAG mode it also fails every turn
that goes deeper into a note, so the two modes' per-turn accuracies differ in a way the test computes from the set.
The filings are stand-ins: a text file per filing with the gold quotes on their pages, so citations check and retrieval
finds the quoted lines without extracting 28 PDFs."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from evals.dataset import EvalThread, load_items
from tests.fakes.fake_llm import FakeLLM, Reply

DATA = Path(__file__).resolve().parents[2] / "evals" / "data" / "followups.jsonl"
THREADS: list[EvalThread] = load_items(DATA)  # type: ignore[assignment]
QUOTES = {
    (row["id"], n): turn["evidence"]
    for row in map(json.loads, DATA.read_text().splitlines())
    for n, turn in enumerate(row["thread"], 1)
}
REFUSAL = "I could not find this in the filings."


def _which_turn(text: str) -> tuple[EvalThread, int] | None:
    """The deepest (thread, turn) whose question and every earlier question of its thread are all in `text`."""
    best = None
    for thread in THREADS:
        n = 0
        while n < len(thread.turns) and thread.turns[n].question in text:
            n += 1
        if n and (best is None or n > best[1]):
            best = (thread, n)
    return best


def _is_condense(body: dict) -> bool:
    return "standalone" in body["messages"][0]["content"].lower()


def script(body: dict) -> Reply:
    messages = body["messages"]
    text = "\n".join(str(m.get("content") or "") for m in messages)
    found = _which_turn(text)
    if _is_condense(body):
        # The standalone question names the thread's earlier questions, as a condenser that resolved the reference would.
        if found is None:
            return Reply(content=messages[-1]["content"])
        thread, n = found
        return Reply(content=" ".join(q.question for q in thread.turns[:n]))
    rag = "Passages:" in text
    if found is None or (rag and found[0].turns[found[1] - 1].refers_to == "note"):
        return Reply(tool_calls=[("answer", {"answer": REFUSAL, "status": "unsure", "citations": []})])
    thread, n = found
    turn = thread.turns[n - 1]
    citations = [{"doc_id": e["doc_id"], "page": e["page"], "quote": e["quote"]} for e in QUOTES[(thread.id, n)]]
    return Reply(tool_calls=[("answer", {"answer": turn.answer, "citations": citations})])


@pytest.fixture(scope="module")
def standin_settings(tmp_path_factory):
    """A text file per filing the set cites, its gold quotes on their pages (form feeds between pages), ingested and
    BM25-indexed."""
    from corpus.settings import CorpusSettings
    from tests.conftest import ingest_with_bm25

    pages: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for evidence in QUOTES.values():
        for e in evidence:
            pages[e["doc_id"]][e["page"]].append(e["quote"])
    src = tmp_path_factory.mktemp("standins")
    for doc_id, quoted in pages.items():
        texts = ["\n".join(quoted.get(p, [f"{doc_id} page {p}."])) for p in range(1, max(quoted) + 1)]
        (src / f"{doc_id}.txt").write_text("\f".join(texts), encoding="utf-8")
    settings = CorpusSettings(data_dir=tmp_path_factory.mktemp("followups-data"), ingest_workers=1)
    ingest_with_bm25(settings, sorted(src.iterdir()))
    return settings


@pytest.fixture
def run(standin_settings, tmp_path, monkeypatch, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(standin_settings.data_dir), SLEUTH_DATABASE_URL=None, SLEUTH_LLM_MAX_RETRIES="0")
    monkeypatch.chdir(tmp_path)

    def invoke(fake: FakeLLM, *args: str):
        sleuth_env(SLEUTH_LLM_BASE_URL=fake.base_url)
        return CliRunner().invoke(app, ["eval", *args], catch_exceptions=False)

    return invoke


def _expected(mode: str) -> dict[str, float]:
    """Per-turn accuracy the script makes: every turn right, but RAG misses the turns that go into a note."""
    right: dict[int, list[bool]] = defaultdict(list)
    for thread in THREADS:
        for q in thread.turns:
            right[q.turn].append(not (mode == "rag" and q.refers_to == "note"))
    return {str(t): sum(v) / len(v) for t, v in right.items()}


def test_the_whole_set_in_both_modes_scores_every_turn_with_memory(run, tmp_path):
    out = tmp_path / "out"
    with FakeLLM(script) as fake:
        result = run(fake, str(DATA), "--modes", "agentic,rag", "--out", str(out), "--concurrency", "8")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    turns = sum(len(t.turns) for t in THREADS)
    assert len(records) == 2 * turns and len({(r["qid"], r["mode"]) for r in records}) == 2 * turns
    for r in records:
        assert r["status"] != "failed", r
        if r["turn"] == 1:
            assert r["memory"] is None and r["condensed_question"] is None
            continue
        assert r["memory"]["turns"] == r["turn"] - 1 and r["memory"]["tokens"] > 0, r
        if r["mode"] == "rag":  # the condensed question the fake wrote: the thread's questions up to this turn
            thread = next(t for t in THREADS if t.id == r["thread"])
            assert r["condensed_question"] == " ".join(q.question for q in thread.turns[: r["turn"]])
        else:
            assert r["condensed_question"] is None
    agentic = [r for r in records if r["mode"] == "agentic"]
    assert all(r["correct"] and r["evidence_cited"] and r["citation_precision"] == 1.0 for r in agentic)
    report = json.loads((out / "report.json").read_text())
    rows = {row["mode"]: row for row in report["threads"]}
    for mode in ("agentic", "rag"):
        row = rows[mode]
        assert row["threads"] == len(THREADS) and row["turns"] == turns
        assert {t: a["accuracy"] for t, a in row["by_turn"].items()} == pytest.approx(_expected(mode))
        assert row["later_turns_with_memory"] == turns - len(THREADS)
    assert rows["agentic"]["threads_all_correct"] == 1.0 and rows["agentic"]["condensed_questions"] == 0
    assert rows["rag"]["condensed_questions"] == turns - len(THREADS)
    assert rows["rag"]["by_reference"]["note"]["accuracy"] == 0.0 and rows["rag"]["by_reference"]["year"]["accuracy"] == 1.0
    md = (out / "report.md").read_text()
    assert "## Follow-up threads" in md and "| mode | model | threads | turn 1 | turn 2 | turn 3 | turn 4 |" in md


def test_without_memory_a_follow_up_is_asked_alone_and_fails(run, tmp_path):
    out = tmp_path / "out"
    with FakeLLM(script) as fake:
        result = run(fake, str(DATA), "--modes", "agentic,rag", "--out", str(out), "--limit", "2", "--no-memory")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 2 * sum(len(t.turns) for t in THREADS[:2])
    assert all(r["memory"] is None and r["condensed_question"] is None for r in records)
    assert all(r["correct"] is (r["turn"] == 1) for r in records)
    rows = json.loads((out / "report.json").read_text())["threads"]
    assert all(row["later_turns"]["accuracy"] == 0.0 and row["by_turn"]["1"]["accuracy"] == 1.0 for row in rows)


def test_resume_runs_a_thread_cut_short_again_from_its_first_turn(run, tmp_path):
    out = tmp_path / "out"
    with FakeLLM(script) as fake:
        assert run(fake, str(DATA), "--modes", "agentic", "--out", str(out), "--limit", "2").exit_code == 0
        lines = (out / "results.jsonl").read_text().splitlines()
        cut = [line for line in lines if json.loads(line)["qid"] != f"{THREADS[1].id}#3"]  # the second thread lost its last turn
        (out / "results.jsonl").write_text("\n".join(cut) + "\n")
        first = len(fake.requests)
        again = run(fake, str(DATA), "--modes", "agentic", "--out", str(out), "--limit", "2", "--resume")
        assert again.exit_code == 0, again.output
        assert len(fake.requests) - first == len(THREADS[1].turns)  # the whole second thread, none of the first
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["qid"] for r in records) == sorted(q.id for t in THREADS[:2] for q in t.turns)
    assert all(r["correct"] for r in records)


def test_oracle_and_closed_book_leave_threads_out(run, tmp_path):
    with FakeLLM(script) as fake:
        result = run(fake, str(DATA), "--modes", "oracle", "--out", str(tmp_path / "out"), "--limit", "1")
    assert result.exit_code == 0, result.output
    assert "oracle score single questions only; the 1 thread(s) run in the other modes" in result.stderr
    assert (tmp_path / "out" / "results.jsonl").read_text() == ""


def test_a_failed_turn_stays_in_the_memory_and_the_thread_goes_on(run, tmp_path):
    capex = THREADS[0]  # 3M's FY2018 capex -> "And in 2017?" -> "How does that compare with depreciation ...?"

    def failing_second_turn(body: dict) -> Reply:
        text = "\n".join(str(m.get("content") or "") for m in body["messages"])
        if _which_turn(text) == (capex, 2):
            return Reply(status=500, content="the model crashed")
        return script(body)

    out = tmp_path / "out"
    with FakeLLM(failing_second_turn) as fake:
        result = run(fake, str(DATA), "--modes", "agentic", "--out", str(out), "--limit", "1")
    assert result.exit_code == 0, result.output
    records = sorted((json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()), key=lambda r: r["turn"])
    assert [(r["status"] == "failed", r["correct"]) for r in records] == [(False, True), (True, False), (False, True)]
    assert records[2]["memory"]["turns"] == 2
