"""A chart the model may attach to its answer: a titled series of cited points, each checked like a citation."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.answer import AnswerChart, AnswerCitation, ChartPoint
from agent.citations import TextOf, check_citation

MAX_POINTS = 40


class ChartPointArgs(BaseModel):
    label: str = Field(description="The period, e.g. 'FY2018' or 'FY2023 Q2'.", max_length=40)
    value: float = Field(description="The value in the chart's unit, e.g. 1577 for $1,577 million.")
    doc_id: str = Field(description="The filing the value is printed in.")
    page: int = Field(description="1-based page that prints it.")
    quote: str = Field("", description="The row label and figure as printed on that page (the facts tool's cite: line gives it).")


class ChartArgs(BaseModel):
    title: str = Field(description="What is charted, e.g. '3M capital expenditure'.", max_length=200)
    unit: str = Field(description="The values' unit, e.g. 'USD million'.", max_length=40)
    kind: str = Field("line", description="line (a trend) or bar (a comparison).", pattern="^(line|bar)$")
    points: list[ChartPointArgs] = Field(description="One cited point per period, oldest first.", min_length=2, max_length=MAX_POINTS)


CHART_DESCRIPTION = (
    "Optional: a chart of a trend the answer describes (several periods of one line item), every point cited like a "
    "citation (doc_id, page, quote of the label and figure as printed)."
)


def checked_chart(args: ChartArgs | None, text_of: TextOf) -> tuple[AnswerChart | None, list[str]]:
    """The chart with each point's citation checked; one problem per point whose page does not hold its figure."""
    if args is None:
        return None, []
    points, problems = [], []
    for p in args.points:
        checked = check_citation(AnswerCitation(doc_id=p.doc_id, page=p.page, quote=p.quote or f"{p.value:g}"), text_of)
        points.append(ChartPoint(label=p.label, value=p.value, doc_id=p.doc_id, page=p.page, quote=p.quote, verified=checked.verified))
        if checked.verified is False:
            problems.append(f"chart point {p.label}: {checked.problem}")
    return AnswerChart(title=args.title, unit=args.unit, kind=args.kind, points=points), problems


def chart_markdown(chart: AnswerChart) -> str:
    """The chart as a Markdown table, for clients that show text (MCP, chat)."""
    rows = [f"**{chart.title}** ({chart.unit})", "", "| Period | Value | Source |", "|---|---:|---|"]
    for p in chart.points:
        mark = "" if p.verified is not False else " (not found on the page)"
        rows.append(f"| {p.label} | {_number(p.value)} | {p.doc_id} p.{p.page}{mark} |")
    return "\n".join(rows)


def _number(value: float) -> str:
    text = f"{value:,.2f}"
    return text[:-3] if text.endswith(".00") else text
