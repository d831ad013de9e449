"""The report development set: every required figure is printed on its page; a fake-model memo is scored exactly; the
`sleuth eval-reports` harness runs a set end to end and writes its table."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from agent.answer import Answer, AnswerCitation
from agent.citations import figures
from agent.report_graph import report
from agent.scope import Filters
from agent.settings import AgentSettings
from api.cli import app
from evals.dataset import DatasetError
from evals.report_set import DEV_SET, load_requests, score_report
from tests.agent.conftest import client
from tests.fakes.fake_llm import FakeLLM
from tests.fakes.report_script import ReportModel

pytestmark = pytest.mark.financebench


@pytest.fixture
def tools(filings_settings):
    from corpus.catalog import Corpus
    from tools.context import ToolContext

    corpus = Corpus.open(filings_settings)
    yield ToolContext(corpus)
    corpus.close()


def test_the_dev_set_has_five_requests_over_several_companies():
    requests = load_requests(DEV_SET)
    assert len(requests) == 5 and len({r.filters.company for r in requests}) == 5
    assert all(len(r.figures) >= 6 for r in requests)


def test_every_required_figure_is_printed_on_its_page(filing_text):
    for request in load_requests(DEV_SET):
        for fig in request.figures:
            page = filing_text(fig.doc_id).page_text(fig.page)
            assert figures(fig.value)[0] in figures(page), (
                f"{request.id}: {fig.label} {fig.value} not on {fig.doc_id} p.{fig.page}"
            )


def test_a_broken_set_names_its_line(tmp_path):
    bad = tmp_path / "set.jsonl"
    bad.write_text('{"id": "a", "request": "x", "figures": [{"label": "y", "value": "1", "doc_id": "D", "page": 0}]}\n')
    with pytest.raises(DatasetError, match=r"set.jsonl:1: .*figures.0.page"):
        load_requests(bad)


def _fake_report(tools) -> Answer:
    async def go() -> Answer:
        with FakeLLM(ReportModel(failing="Acquisitions")) as fake:
            llm = client(fake.base_url)
            try:
                settings = AgentSettings(time_budget_s=60)
                return await report(
                    "3M capital allocation", llm=llm, tools=tools, settings=settings, filters=Filters(company="3M"), approve=True
                )
            finally:
                await llm.close()

    return asyncio.run(go())


def test_a_fake_model_report_is_scored_by_the_figures_it_states_and_cites(tools):
    request = next(r for r in load_requests(DEV_SET) if r.id == "report-3m-capital-allocation")
    answer = _fake_report(tools)
    text_of = tools.text
    scored = score_report(answer, request, text_of)
    # The scripted memo states capex for three years (prose and table), FY2018 dividends and buybacks, each cited to p.60;
    # it states no operating cash flow and no earlier dividends or buybacks.
    cited = {f["label"] for f in scored["figures"] if f["cited"]}
    assert cited == {
        "Purchases of property, plant and equipment (PP&E), FY2018",
        "Purchases of property, plant and equipment (PP&E), FY2017",
        "Purchases of property, plant and equipment (PP&E), FY2016",
        "Dividends paid to shareholders, FY2018",
        "Purchases of treasury stock, FY2018",
    }
    assert scored["required"] == 13 and scored["stated"] == 5 and scored["cited"] == 5 and scored["score"] == round(5 / 13, 4)
    assert scored["failed_sections"] == 1

    wrong_page = answer.model_copy(
        update={"citations": [AnswerCitation(doc_id="3M_2018_10K", page=61, quote="x") for _ in answer.citations]}
    )
    rescored = score_report(wrong_page, request, text_of)
    assert rescored["stated"] == 5 and rescored["cited"] == 0  # stated, but the cited page does not print them


def test_eval_reports_runs_a_set_and_writes_its_table(filings_settings, tmp_path, monkeypatch, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(filings_settings.data_dir), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)
    one = tmp_path / "one.jsonl"
    one.write_text(DEV_SET.read_text().splitlines()[0] + "\n")
    with FakeLLM(ReportModel(failing=None)) as fake:
        sleuth_env(SLEUTH_LLM_BASE_URL=fake.base_url, SLEUTH_LLM_MAX_RETRIES="0")
        result = CliRunner().invoke(app, ["eval-reports", str(one), "--out", "out"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "| report-3m-capital-allocation | answered | 5/13 | 5/13 | 0.38 |" in result.stdout
    record = json.loads((tmp_path / "out" / "results.jsonl").read_text())
    assert record["cited"] == 5 and record["memo"].startswith("# 3M: capital allocation")
    assert (tmp_path / "out" / "report.md").read_text().startswith("| request |")
