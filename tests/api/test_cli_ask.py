"""`sleuth ask` as a user runs it: live trace on stderr, the cited answer on stdout, exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.agent.test_research import CAPEX_CITATION, answer
from tests.fakes.fake_llm import FakeLLM, Reply

pytestmark = pytest.mark.financebench


@pytest.fixture
def ask(filings_settings, tmp_path, monkeypatch, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(filings_settings.data_dir), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)

    def invoke(fake: FakeLLM | None, *args: str):
        if fake is not None:
            sleuth_env(SLEUTH_LLM_BASE_URL=fake.base_url, SLEUTH_LLM_MAX_RETRIES="0")
        return CliRunner().invoke(app, ["ask", *args], catch_exceptions=False)

    return invoke


def test_ask_streams_the_trace_and_prints_the_checked_answer(ask):
    script = [
        Reply(tool_calls=[("grep", {"pattern": "Purchases of property", "glob": "3M_2018*"})]),
        answer("$1,577 million", CAPEX_CITATION),
    ]
    with FakeLLM(script) as fake:
        result = ask(fake, "What was 3M's FY2018 capex?", "--company", "3M")

    assert result.exit_code == 0, result.output
    assert "▶ agentic: What was 3M's FY2018 capex?" in result.stderr
    assert "turn 1 (" in result.stderr and "grep(pattern='Purchases of property', glob='3M_2018*')" in result.stderr
    assert "✓ grep" in result.stderr and "citations checked: 1, all good" in result.stderr
    assert "== agentic · answered ==\n$1,577 million" in result.stdout
    assert '✓ 3M_2018_10K p.60 l.2528 "Purchases of property' in result.stdout


def test_ask_compare_as_json(ask):
    def script(body: dict) -> Reply:
        return answer("$1,577 million", CAPEX_CITATION)

    with FakeLLM(script) as fake:
        result = ask(fake, "What was 3M's FY2018 capex?", "--mode", "compare", "--json", "--quiet")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["agentic"]["status"] == data["rag"]["status"] == "answered"
    assert data["rag"]["metrics"]["llm_calls"] == 1


def test_ask_exit_codes(ask):
    with FakeLLM([Reply(status=500, content="engine down")]) as fake:
        failed = ask(fake, "What was 3M's FY2018 capex?")
    assert failed.exit_code == 1 and "== agentic · failed ==" in failed.stdout and "engine down" in failed.stdout

    with FakeLLM([]) as fake:
        bad_mode = ask(fake, "q", "--mode", "magic")
        unknown = ask(fake, "q", "--doc-id", "3M_2018_10Q")
        empty = ask(fake, "  ")
        assert fake.requests == []
    assert bad_mode.exit_code == 2 and "--mode must be agentic, rag or compare" in bad_mode.stderr
    assert unknown.exit_code == 2 and "unknown doc_ids: '3M_2018_10Q' (closest: 3M_2018_10K" in unknown.stderr
    assert empty.exit_code == 2 and "the question is empty" in empty.stderr
