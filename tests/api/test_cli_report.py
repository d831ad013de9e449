"""`sleuth report` as a user runs it: the plan shown for approval (or written for editing), then the checked memo."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.fakes.fake_llm import FakeLLM
from tests.fakes.report_script import ReportModel

pytestmark = pytest.mark.financebench


@pytest.fixture
def report(filings_settings, tmp_path, monkeypatch, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(filings_settings.data_dir), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)

    def invoke(fake: FakeLLM, *args: str, input: str | None = None):
        sleuth_env(SLEUTH_LLM_BASE_URL=fake.base_url, SLEUTH_LLM_MAX_RETRIES="0")
        return CliRunner().invoke(app, ["report", *args], input=input, catch_exceptions=False)

    return invoke


def test_report_shows_the_plan_and_writes_the_memo_once_approved(report, tmp_path):
    with FakeLLM(ReportModel()) as fake:
        declined = report(fake, "3M capital allocation FY2016-FY2018", "--company", "3M", input="n\n")
        assert declined.exit_code == 0 and "Plan: 3M: capital allocation" in declined.stderr
        assert "not approved" in declined.stderr and not any("write_memo" in json.dumps(r) for r in fake.requests)

        written = report(fake, "3M capital allocation", "--plan-out", "plan.json")
        plan = json.loads((tmp_path / "plan.json").read_text())
        assert written.exit_code == 0 and plan["sections"][0]["title"] == "Capital expenditures"
        plan["sections"] = plan["sections"][:2]  # the user drops the third section
        (tmp_path / "plan.json").write_text(json.dumps(plan))

        done = report(fake, "3M capital allocation", "--plan", "plan.json", "--yes", "--out", "memo.md")
    assert done.exit_code == 0, done.output
    assert "§1 Capital expenditures: answered" in done.stderr and "§3" not in done.stderr
    assert "== report · answered ==" in done.stdout and "## Sources" in done.stdout
    assert (tmp_path / "memo.md").read_text().startswith("# 3M: capital allocation, FY2016-FY2018")


def test_report_refuses_a_broken_plan_file(report, tmp_path):
    (tmp_path / "plan.json").write_text('{"title": "x", "sections": []}')
    with FakeLLM(ReportModel()) as fake:
        result = report(fake, "3M", "--plan", "plan.json", "--yes")
    assert result.exit_code == 2 and "sections: List should have at least 1 item" in result.stderr
    (tmp_path / "plan.json").write_text(
        json.dumps({"title": "x", "sections": [{"title": "y", "questions": ["z?"], "filings": ["NOPE"]}]})
    )
    with FakeLLM(ReportModel()) as fake:
        result = report(fake, "3M", "--plan", "plan.json", "--yes")
    assert result.exit_code == 2 and "plan.sections.0.filings.0: 'NOPE' is not a filing of the corpus" in result.stderr
