"""A research report (mode "report"): the approved plan and the memo written from it, section by section.

A report run's result is an Answer with mode "report": `Answer.text` is the whole memo as Markdown, `Answer.citations`
is the memo's numbered list of checked citations, and `Answer.report` holds the structure below. Prose and table cells
refer to citations with markers "[n]" (1-based positions in `Answer.citations`), which the exports turn into footnotes.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.answer import AnswerChart, Status


class PlannedSection(BaseModel):
    """One section of a plan: what it must answer and the filings it expects to read."""

    title: str = Field(max_length=200)
    questions: list[str] = Field(default_factory=list, max_length=8)
    filings: list[str] = Field(default_factory=list, max_length=20)  # doc_ids


class ReportPlan(BaseModel):
    """The plan the user sees, edits and approves before the sections are researched."""

    title: str = Field(max_length=300)
    sections: list[PlannedSection] = Field(min_length=1, max_length=8)
    left_out: list[str] = Field(default_factory=list)  # what the budgets will not cover, said up front


class ReportTable(BaseModel):
    """A table of figures that compare; cells are text and may carry citation markers ("1,577 [3]")."""

    title: str
    columns: list[str]
    rows: list[list[str]] = Field(default_factory=list)


class ReportSection(BaseModel):
    """A researched section: its prose (Markdown with [n] markers), tables, chart, and how its research ended."""

    title: str
    questions: list[str] = Field(default_factory=list)
    status: Status = "answered"
    text: str = ""
    tables: list[ReportTable] = Field(default_factory=list)
    chart: AnswerChart | None = None
    error: str | None = None  # why its research failed; the other sections stand


class Report(BaseModel):
    """The memo: title, executive summary, sections, and what was checked and not found."""

    plan: ReportPlan
    title: str
    summary: str = ""
    sections: list[ReportSection] = Field(default_factory=list)
    not_found: list[str] = Field(default_factory=list)
