"""Report mode's parts on their own: fitting a plan to the budgets and the corpus, reading the model's plan, numbering
the memo's markers and checking the figures they cite."""

from __future__ import annotations

import pytest

from agent.answer import AnswerCitation
from agent.llm import LLMResponse, ToolCallRequest, Usage
from agent.memo import figure_problems, renumber
from agent.report import PlannedSection, Report, ReportPlan, ReportSection, ReportTable
from agent.report_plan import fit_plan, kept_sections, plan_from_reply, plan_problems
from agent.settings import AgentSettings

pytestmark = pytest.mark.financebench
DOC = "3M_2018_10K"


def _plan(n: int, filings: list[str] | None = None) -> ReportPlan:
    return ReportPlan(
        title="3M",
        sections=[PlannedSection(title=f"S{i}", questions=[f"q{i}?"], filings=filings or [DOC]) for i in range(1, n + 1)],
    )


def test_a_plan_too_broad_for_the_budgets_says_what_it_leaves_out(tools):
    fitted, notes = fit_plan(_plan(8, [DOC, "NOPE_2018_10K"]), tools.corpus, [DOC], AgentSettings(report_max_sections=3))
    assert [s.title for s in fitted.sections] == ["S1", "S2", "S3"] and all(s.filings == [DOC] for s in fitted.sections)
    assert fitted.left_out == [f"S{i} (beyond the 3 sections the budgets allow)" for i in range(4, 9)]
    assert any("dropped filings not in the corpus or scope: NOPE_2018_10K" in n for n in notes)


def test_an_edited_plan_is_checked_field_by_field(tools):
    plan = ReportPlan(
        title="x",
        sections=[
            PlannedSection(title=" ", questions=["q?"]),
            PlannedSection(title="t", questions=[], filings=[DOC, "ADOBE_2017_10K"]),
        ],
    )
    problems = plan_problems(plan, tools.corpus, [DOC], AgentSettings(report_max_sections=1))
    assert problems == [
        "plan.sections: 2 sections; this server researches at most 1 (SLEUTH_AGENT_REPORT_MAX_SECTIONS)",
        "plan.sections.0.title: the title is empty",
        "plan.sections.1.questions: give at least one question for the section to answer",
        "plan.sections.1.filings.1: 'ADOBE_2017_10K' is not a filing of the run's filters",
    ]
    assert plan_problems(_plan(2), tools.corpus, None, AgentSettings()) == []


def test_the_models_plan_is_read_from_a_call_or_from_json_text():
    def reply(content: str = "", calls: list[ToolCallRequest] | None = None) -> LLMResponse:
        return LLMResponse(content, calls or [], "stop", Usage())

    plan = {"title": "T", "sections": [{"title": "A", "questions": ["q?"]}]}
    assert plan_from_reply(reply(calls=[ToolCallRequest("1", "report_plan", plan)])).title == "T"
    assert plan_from_reply(reply('```json\n{"title": "T", "sections": [{"title": "A"}]}\n```')).sections[0].title == "A"
    assert "The plan is invalid: sections: List should have at least 1 item" in plan_from_reply(
        reply('{"title": "T", "sections": []}')
    )
    assert plan_from_reply(reply("I would start with capex.")).startswith("Your reply held no plan")


def test_markers_are_numbered_by_first_use_and_figures_checked_on_the_cited_page(tools):
    capex = AnswerCitation(doc_id=DOC, page=60, quote="Purchases of property, plant and equipment (PP&E) (1,577)")
    other = AnswerCitation(doc_id=DOC, page=61, quote="unused")
    dividends = AnswerCitation(doc_id=DOC, page=60, quote="Dividends paid to shareholders (3,193)")
    report = Report(
        plan=_plan(1),
        title="3M",
        summary="Dividends were $3,193 million [3, 1].",
        sections=[
            ReportSection(
                title="S1",
                text="Capex was $1,577 million [1] and $9,999 million [3]; buybacks $4,870 million. Also [7].",
                tables=[ReportTable(title="t", columns=["FY", "Capex"], rows=[["2018", "1,577 [1]"]])],
            )
        ],
    )
    fixed, cited, problems = renumber(report, [capex, other, dividends])
    assert fixed.summary == "Dividends were $3,193 million [1][2]."
    assert fixed.sections[0].text.startswith("Capex was $1,577 million [2] and $9,999 million [1]")
    assert cited == [dividends, capex] and problems == ["marker [7] names no source (there are 3)"]
    checked, failed = figure_problems(fixed, cited, lambda d: tools.text(d))
    assert checked == 4  # the summary, two stretches of prose, the table row
    assert len(failed) == 2 and "9,999" in failed[0] and failed[1] == "S1: figures without a citation: 4870"


def test_a_follow_up_keeps_the_sections_it_leaves_unchanged():
    before = _plan(3)
    previous = Report(
        plan=before,
        title="3M",
        sections=[
            ReportSection(title="S1", text="a"),
            ReportSection(title="S2", status="failed", error="x"),
            ReportSection(title="S3"),
        ],
    )
    revised = before.model_copy(deep=True)
    revised.sections[2].questions = ["a new question?"]
    assert set(kept_sections(revised, previous)) == {0}  # S2 failed: researched again; S3 changed
    assert kept_sections(revised, None) == {}
