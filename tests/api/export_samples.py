"""Finished runs built by hand for the export tests and bench/exports.py: an answer, a compare run, a report."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.answer import Answer, AnswerChart, AnswerCitation, ChartPoint, RunMetrics, ToolRecord
from agent.report import PlannedSection, Report, ReportPlan, ReportSection, ReportTable
from api.exports.content import RunInfo

CAPEX = AnswerCitation(
    doc_id="3M_2018_10K", page=60, printed="58", verified=True, lines="2410",
    quote="Purchases of property, plant and equipment (PP&E) (1,577)",
)  # fmt: skip
REVENUE = AnswerCitation(doc_id="3M_2018_10K", page=58, verified=True, quote="Net sales 32,765")
DIVIDENDS = AnswerCitation(
    doc_id="3M_2018_10K",
    page=60,
    verified=False,
    problem="3M_2018_10K p.60 does not contain the quoted figures",
    quote="Dividends paid (3,193)",
)
STEPS = [
    ToolRecord(name="grep", arguments={"pattern": "property, plant", "glob": "3M_2018*"}, seconds=0.21, summary="4 matches"),
    ToolRecord(name="read", arguments={"doc_id": "3M_2018_10K", "pages": "60"}, seconds=0.05, summary="1 page"),
]
WHEN = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def answer(mode: str = "agentic") -> Answer:
    return Answer(
        mode=mode,
        question="What was 3M's FY2018 capital expenditure?",
        text="3M's FY2018 capital expenditure was **$1,577 million**, on net sales of $32,765 million.",
        status="answered",
        citations=[CAPEX, REVENUE],
        steps=STEPS,
        metrics=RunMetrics(latency_s=3.2, llm_calls=3, prompt_tokens=5000, completion_tokens=300, tool_calls=2, pages_read=1),
        chart=AnswerChart(
            title="3M capital expenditure",
            unit="USD millions",
            kind="bar",
            points=[
                ChartPoint(label="FY2017", value=1373, doc_id="3M_2018_10K", page=60, quote="(1,373)", verified=True),
                ChartPoint(label="FY2018", value=1577, doc_id="3M_2018_10K", page=60, quote="(1,577)", verified=True),
            ],
        ),  # fmt: skip
    )


def answer_run(run_id: str = "run-answer") -> RunInfo:
    a = answer()
    return RunInfo(
        run_id, "agentic", a.question, "fake-model", "answered", a.model_dump(mode="json"), WHEN, WHEN, {"max_steps": 8}
    )


def compare_run(run_id: str = "run-compare") -> RunInfo:
    arms = {"agentic": answer().model_dump(mode="json"), "rag": answer("rag").model_dump(mode="json")}
    arms["rag"]["citations"] = [REVENUE.model_dump(mode="json")]
    arms["rag"]["text"] = "Net sales were $32,765 million; capital expenditure is not in the passages."
    arms["rag"]["status"], arms["rag"]["chart"] = "unsure", None
    return RunInfo(run_id, "compare", answer().question, "fake-model", "answered", arms, WHEN, WHEN)


def report(sections: int = 2, paragraphs: int = 1) -> Report:
    plan = ReportPlan(
        title="3M capital allocation, FY2018",
        sections=[
            PlannedSection(title="Capital expenditure", questions=["How much did 3M spend on PP&E?"], filings=["3M_2018_10K"]),
            PlannedSection(title="Shareholder returns", questions=["Dividends paid?"], filings=["3M_2018_10K"]),
        ],
        left_out=["Acquisitions before FY2016"],
    )
    body = "3M spent $1,577 million on property, plant and equipment in FY2018 [1], against net sales of $32,765 million [2]. "
    done = [
        ReportSection(
            title="Capital expenditure",
            text="\n\n".join([body] * paragraphs) + "\n\n- Capex rose 14.9% from FY2017 [1].",
            tables=[
                ReportTable(
                    title="Capex and sales (USD millions)",
                    columns=["Item", "FY2018"],
                    rows=[["Capital expenditure", "1,577 [1]"], ["Net sales", "32,765 [2]"]],
                )
            ],
        ),  # fmt: skip
        ReportSection(title="Shareholder returns", status="failed", error="the model endpoint timed out"),
    ]
    more = [ReportSection(title=f"Section {i}", text=body * paragraphs) for i in range(3, sections + 1)]
    return Report(
        plan=plan,
        title=plan.title,
        summary="3M invested $1,577 million [1] and paid dividends of $3,193 million [3].",
        sections=done[: max(1, sections)] + more,
        not_found=["Share repurchases by quarter: not in the 10-K's cash flow statement"],
    )


def report_run(run_id: str = "run-report", sections: int = 2, paragraphs: int = 1) -> RunInfo:
    r = report(sections, paragraphs)
    a = Answer(
        mode="report", question="Memo on 3M's capital allocation in FY2018", text=f"# {r.title}\n\n{r.summary}", status="answered",
        citations=[CAPEX, REVENUE, DIVIDENDS], steps=STEPS, report=r,
    )  # fmt: skip
    return RunInfo(run_id, "report", a.question, "fake-model", "answered", a.model_dump(mode="json"), WHEN, WHEN)
