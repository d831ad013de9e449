"""A chart the model may attach to its answer: a titled series of cited points, each checked like a citation."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ValidationError, model_validator

from agent.answer import AnswerChart, AnswerCitation, ChartPoint
from agent.citations import TextOf, check_citation
from corpus.errors import validation_problems

MAX_POINTS = 40


class ChartPointArgs(BaseModel):
    label: str
    value: float
    doc_id: str
    page: int
    quote: str = ""


class ChartArgs(BaseModel):
    title: str
    unit: str
    kind: Literal["line", "bar"] = "line"
    points: list[ChartPointArgs]

    @model_validator(mode="after")
    def _bounded(self) -> ChartArgs:
        if not 2 <= len(self.points) <= MAX_POINTS:
            raise ValueError(f"a chart has 2 to {MAX_POINTS} points")
        if len(self.title) > 200 or len(self.unit) > 40 or any(len(p.label) > 40 for p in self.points):
            raise ValueError("title (200), unit (40) and point labels (40 characters) are short")
        return self


# The schema stays lean (every model turn carries it); the description says what the fields hold.
CHART_DESCRIPTION = "Optional chart of a trend: {title, unit, points: [{label: 'FY2018', value, doc_id, page, quote}]}"


def chart_args(raw: dict[str, Any] | None) -> ChartArgs | str | None:
    """The chart of an answer call, or an error message for the model when it does not fit."""
    if raw is None:
        return None
    try:
        return ChartArgs.model_validate(raw)
    except ValidationError as exc:
        issues = validation_problems([{**e, "loc": ("chart", *e["loc"])} for e in exc.errors()[:5]])
        return f"Error: invalid chart in the answer call: {issues}. {CHART_DESCRIPTION}"


def checked_chart(args: ChartArgs | None, text_of: TextOf) -> tuple[AnswerChart | None, list[str]]:
    """The chart with each point's citation checked; one problem per point whose page does not hold its figure."""
    if args is None:
        return None, []
    points, problems = [], []
    for p in args.points:
        checked = check_citation(AnswerCitation(doc_id=p.doc_id, page=p.page, quote=p.quote or f"{p.value:g}"), text_of)
        points.append(
            ChartPoint(label=p.label, value=p.value, doc_id=p.doc_id, page=p.page, quote=p.quote, verified=checked.verified)
        )
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
