"""`sleuth eval` end to end on dev questions about the ingested filings, with a scripted fake model; resume; the report."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.fakes.fake_llm import FakeLLM, Reply

pytestmark = pytest.mark.financebench
CAPEX = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577)"}


def script(body: dict) -> Reply:
    """Answers the 3M capex question right in every mode; Adobe's ratio right only with the evidence pages (oracle)."""
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    text = body["messages"][1]["content"]  # the question, or the passages and the question
    if system.startswith("You grade"):
        graded = user.split("Answer to grade:")[1]
        right = "1,577" in graded or "0.83" in graded
        return Reply(
            content=json.dumps({"verdict": "correct" if right else "incorrect", "reason": "same figure" if right else "differs"})
        )
    if "3M" in text:
        if "You are Sleuth" in system and not any(m["role"] == "assistant" for m in body["messages"]):
            return Reply(tool_calls=[("read", {"doc_id": "3M_2018_10K", "section": "Cash Flows"})])
        return Reply(
            tool_calls=[("answer", {"answer": "3M's FY2018 capital expenditure was $1,577 million.", "citations": [CAPEX]})]
        )
    if "Passages:" in text and "page 57" in text:  # the oracle got Adobe's evidence pages
        return Reply(tool_calls=[("answer", {"answer": "The operating cash flow ratio was 0.83.", "citations": []})])
    return Reply(
        tool_calls=[
            ("answer", {"answer": "I could not find the operating cash flow in the filing.", "status": "unsure", "citations": []})
        ]
    )


@pytest.fixture
def questions(financebench_dir, tmp_path):
    rows = [json.loads(line) for line in (financebench_dir / "questions_dev.jsonl").read_text().splitlines()]
    chosen = [r for r in rows if r["doc_name"] in {"3M_2018_10K", "ADOBE_2017_10K"}]
    assert len(chosen) == 2
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in chosen) + "\n")
    return path


@pytest.fixture
def run(filings_settings, tmp_path, monkeypatch, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(filings_settings.data_dir), SLEUTH_DATABASE_URL=None, SLEUTH_LLM_MAX_RETRIES="0")
    monkeypatch.chdir(tmp_path)

    def invoke(fake: FakeLLM, *args: str):
        sleuth_env(SLEUTH_LLM_BASE_URL=fake.base_url)
        return CliRunner().invoke(app, ["eval", *args], catch_exceptions=False)

    return invoke


def test_eval_scores_every_mode_and_writes_the_report(run, questions, tmp_path):
    out = tmp_path / "out"
    with FakeLLM(script) as fake:
        result = run(
            fake, str(questions), "--modes", "agentic,rag,oracle,closed_book", "--out", str(out), "--concurrency", "3", "--judge"
        )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 8
    by = {(r["qid"], r["mode"]): r for r in records}
    capex = next(r for r in records if r["mode"] == "agentic" and "3M" in r["question"])
    assert capex["correct"] is True and capex["scored_by"] == "judge" and capex["judge"]["reason"] == "same figure"
    assert capex["numeric"]["correct"] is True and capex["evidence_seen"] is True and capex["evidence_cited"] is True
    assert capex["citation_precision"] == 1.0 and capex["tool_calls"] == 1
    adobe = [r for r in records if "Adobe" in r["question"]]
    assert {r["mode"]: r["correct"] for r in adobe} == {"agentic": False, "rag": False, "oracle": True, "closed_book": False}
    assert all(r["refusal"] for r in adobe if r["mode"] != "oracle")
    assert next(r for r in adobe if r["mode"] == "oracle")["evidence_seen"] is True
    report = json.loads((out / "report.json").read_text())
    oracle = next(row for row in report["summary"] if row["mode"] == "oracle")
    assert oracle["accuracy"] == 1.0 and oracle["questions"] == 2
    assert [d["qid"] for d in report["disagreements"]] == [adobe[0]["qid"]]
    md = (out / "report.md").read_text()
    assert "| mode | model | n | scored | accuracy |" in md and "## Where the modes disagree" in md
    assert len(by) == 8


def test_resume_runs_only_what_is_missing(run, questions, tmp_path):
    out = tmp_path / "out"
    with FakeLLM(script) as fake:
        assert run(fake, str(questions), "--modes", "rag", "--out", str(out)).exit_code == 0
        first = len(fake.requests)
        with (out / "results.jsonl").open("a") as sink:
            sink.write('{"qid": "torn')  # an interrupted write
        again = run(fake, str(questions), "--modes", "rag,oracle", "--out", str(out), "--resume")
        assert again.exit_code == 0, again.output
        assert len(fake.requests) - first == 2  # only the two oracle runs
    lines = [line for line in (out / "results.jsonl").read_text().splitlines() if line.startswith('{"qid": "financebench')]
    assert len(lines) == 4


def test_bad_input(run, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n')
    with FakeLLM([]) as fake:
        assert "bad.jsonl:1: not a FinanceBench-format question" in run(fake, str(bad)).stderr
        assert "unknown mode(s) ['magic']" in run(fake, str(bad), "--modes", "magic").stderr
        assert "no question file" in run(fake, str(tmp_path / "nope.jsonl")).stderr
