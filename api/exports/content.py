"""What an export holds, in one shape every format writes: blocks of marked text and tables, numbered notes, figures,
tool calls and the plan. Built from a finished run (answer, compare, or report) and the catalog."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.answer import Answer, AnswerChart, AnswerCitation
from agent.report import Report, ReportPlan
from api.exports.figures import MARK, DocInfo, Figure, NoSources, Sources, figures_of, link_figures, mark, unit_hint
from api.exports.settings import ExportSettings

_MARKER = re.compile(r"[ \t]*\[(\d{1,4})\]")  # the space before a marker goes: the note mark sits on the word
ARM_TITLES = {"agentic": "Agentic answer", "rag": "RAG answer"}


@dataclass
class RunInfo:
    """A finished run as the export reads it (from the run store's row)."""

    id: str
    mode: str
    question: str
    model: str
    status: str
    result: dict[str, Any] | None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    budgets: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None

    @classmethod
    def of(cls, run: Any) -> RunInfo:
        return cls(
            run.id, run.mode, run.question, run.model, run.status, run.result,
            run.created_at, run.finished_at, run.budgets, run.filters,
        )  # fmt: skip


@dataclass
class Note:
    """A numbered citation of the export: a footnote, an endnote, a figure row's source."""

    number: int
    citation: AnswerCitation
    url: str  # the page image (a PDF filing) or the page's text
    arm: str = ""

    def label(self) -> str:
        return self.citation.label()

    def verdict(self) -> str:
        c = self.citation
        if c.verified is True:
            return "checked: on the page"
        if c.verified is False:
            return f"failed: {c.problem or 'not found on the page'}"
        return "not checked (no quote to compare)"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]  # cells may hold markers


@dataclass
class Block:
    """A heading and what stands under it: marked Markdown text, a notice (a failed section), bullets, tables."""

    heading: str | None = None
    level: int = 2
    notice: str | None = None
    text: str = ""
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Step:
    arm: str
    agent: str
    name: str
    arguments: str
    seconds: float
    ok: bool
    summary: str


@dataclass
class Content:
    run_id: str
    title: str
    facts: list[tuple[str, str]]  # question, mode, model, status, dates, budgets, filters, metrics
    blocks: list[Block] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    plan: ReportPlan | None = None
    cuts: list[str] = field(default_factory=list)  # what the bounds left out, said in every file
    pages: list[tuple[str, int]] = field(default_factory=list)  # cited PDF pages to append, in note order, capped


def page_url(base_url: str, doc: DocInfo | None, doc_id: str, page: int) -> str:
    tail = "/image" if doc is None or doc.is_pdf else ""
    return f"{base_url.rstrip('/')}/v1/documents/{doc_id}/pages/{page}{tail}"


class _Builder:
    def __init__(self, run: RunInfo, sources: Sources, base_url: str, settings: ExportSettings) -> None:
        self.run, self.sources, self.base_url, self.settings = run, sources, base_url, settings
        self.docs: dict[str, DocInfo | None] = {}
        self.text_left = settings.max_text_chars
        self.content = Content(run.id, run.question, _facts(run))

    def doc(self, doc_id: str) -> DocInfo | None:
        if doc_id not in self.docs:
            self.docs[doc_id] = self.sources.document(doc_id)
        return self.docs[doc_id]

    def bounded(self, text: str) -> str:
        """Text within the export's character budget; a cut says where the rest is."""
        if len(text) <= self.text_left:
            self.text_left -= len(text)
            return text
        kept, self.text_left = text[: self.text_left], 0
        cut = f"text cut at {self.settings.max_text_chars:,} characters (SLEUTH_EXPORT_MAX_TEXT_CHARS); the whole run is at /v1/runs/{self.run.id}"
        if cut not in self.content.cuts:
            self.content.cuts.append(cut)
        return kept + " [...]"

    def notes(self, citations: list[AnswerCitation], arm: str) -> int:
        """Number the citations as notes; the number of the first."""
        first = len(self.content.notes) + 1
        for c in citations:
            url = page_url(self.base_url, self.doc(c.doc_id), c.doc_id, c.page)
            self.content.notes.append(Note(len(self.content.notes) + 1, c, url, arm))
        return first

    def markers(self, text: str, first: int, count: int) -> str:
        """The memo's '[n]' markers as export markers numbered across the whole export; other brackets stay text."""
        return _MARKER.sub(lambda m: mark(first + int(m.group(1)) - 1) if 1 <= int(m.group(1)) <= count else m.group(0), text)

    def chart_table(self, chart: AnswerChart, arm: str) -> Table:
        cites = [AnswerCitation(doc_id=p.doc_id, page=p.page, quote=p.quote, verified=p.verified) for p in chart.points]
        first = self.notes(cites, arm)
        rows = [[p.label, f"{p.value:,.10g} {mark(first + i)}"] for i, p in enumerate(chart.points)]
        return Table(f"{chart.title} ({chart.kind} chart, as a table)", ["Period", f"Value ({chart.unit})"], rows)

    def answer(self, answer: Answer, arm: str) -> None:
        if arm:
            self.content.blocks.append(Block(ARM_TITLES.get(arm, arm), level=1, notice=_status_notice(answer)))
        first = self.notes(answer.citations, arm)
        if answer.report is not None:
            self.report(answer.report, first, len(answer.citations), arm)
        else:
            text = link_figures(self.bounded(answer.text), answer.citations, first, self.sources)
            block = Block(None if arm else "Answer", notice=None if arm else _status_notice(answer), text=text)
            if answer.chart is not None:
                block.tables.append(self.chart_table(answer.chart, arm))
            self.content.blocks.append(block)
        if answer.warnings:
            self.content.blocks.append(Block("Warnings", level=3 if arm else 2, bullets=answer.warnings[:50]))
        self.steps(answer, arm)
        m = answer.metrics
        self.content.facts.append(
            (f"Work{' (' + arm + ')' if arm else ''}", f"{m.llm_calls} model calls, {m.prompt_tokens:,}+{m.completion_tokens:,} tokens, "
             f"{m.tool_calls} tool calls, {m.pages_read} pages read, {m.latency_s:.1f} s")
        )  # fmt: skip

    def report(self, report: Report, first: int, count: int, arm: str) -> None:
        self.content.title, self.content.plan = report.title, report.plan

        def marked(text: str) -> str:
            return self.markers(self.bounded(text), first, count)

        if report.summary:
            self.content.blocks.append(Block("Executive summary", text=marked(report.summary)))
        for s in report.sections:
            notice = f"The research of this section failed: {s.error}" if s.error else _section_notice(s.status)
            tables = [Table(t.title, t.columns, [[marked(c) for c in row] for row in t.rows]) for t in s.tables]
            if s.chart is not None:
                tables.append(self.chart_table(s.chart, arm))
            self.content.blocks.append(Block(s.title, notice=notice, text=marked(s.text), tables=tables))
        if report.not_found:
            self.content.blocks.append(Block("What was checked and not found", bullets=[marked(x) for x in report.not_found]))

    def steps(self, answer: Answer, arm: str) -> None:
        for s in answer.steps:
            args = json.dumps(s.arguments, ensure_ascii=False, default=str)[:2000]
            self.content.steps.append(Step(arm, s.agent, s.name, args, round(s.seconds, 3), s.ok, s.summary[:500]))

    def figures(self) -> None:
        out: list[Figure] = []
        for block in self.content.blocks:
            where = block.heading or ""
            out += figures_of(block.text, where)
            out += [f for b in block.bullets for f in figures_of(b, where)]
            for t in block.tables:
                for row in t.rows:
                    for col, cell in zip(t.columns[1:], row[1:], strict=False):
                        out += figures_of(cell, f"{t.title}: {row[0] if row else ''}, {col}", unit=unit_hint(col, t.title))
        if len(out) > self.settings.max_figures:
            self.content.cuts.append(f"{len(out) - self.settings.max_figures:,} figure rows left out (SLEUTH_EXPORT_MAX_FIGURES)")
            out = out[: self.settings.max_figures]
        for f in out:
            if f.note is not None:
                note = self.content.notes[f.note - 1]
                f.arm, f.doc = note.arm, self.doc(note.citation.doc_id)
                f.concept = self.sources.concept(note.citation.doc_id, note.citation.page, f.value)
        self.content.figures = out

    def texts(self) -> list[str]:
        """Every marked text in the order the writers lay it out: each block's text, bullets, then table cells."""
        out = []
        for b in self.content.blocks:
            out += [b.text, *b.bullets]
            out += [c for t in b.tables for row in [t.columns, *t.rows] for c in row]
        return out

    def unreferenced(self) -> None:
        """Notes no text, bullet or cell refers to get one place that does, so every note is reachable."""
        used = {int(n) for t in self.texts() for n in MARK.findall(t)}
        rest = [mark(n.number) for n in self.content.notes if n.number not in used]
        if rest:
            self.content.blocks.append(Block("Also cited", text=" ".join(rest)))

    def renumber(self) -> None:
        """Notes numbered in the order the text first refers to them (1, 2, 3 down the page), as Word numbers footnotes."""
        order = list(dict.fromkeys(int(n) for t in self.texts() for n in MARK.findall(t)))
        new = {old: i for i, old in enumerate(order, start=1)}

        def swap(text: str) -> str:
            return MARK.sub(lambda m: mark(new[int(m.group(1))]), text)

        for b in self.content.blocks:
            b.text, b.bullets = swap(b.text), [swap(x) for x in b.bullets]
            for t in b.tables:
                t.columns, t.rows = [swap(c) for c in t.columns], [[swap(c) for c in row] for row in t.rows]
        notes = {n.number: n for n in self.content.notes}
        self.content.notes = [notes[old] for old in order]
        for n in self.content.notes:
            n.number = new[n.number]

    def pages(self) -> None:
        seen = list(dict.fromkeys((n.citation.doc_id, n.citation.page) for n in self.content.notes))
        pdf = [p for p in seen if (d := self.doc(p[0])) is None or d.is_pdf]
        cap = self.settings.max_page_images
        self.content.pages = pdf[:cap]
        if len(pdf) > cap:
            left = ", ".join(f"{d} p.{p}" for d, p in pdf[cap:])
            self.content.cuts.append(
                f"{len(pdf) - cap} cited pages not shown as images (SLEUTH_EXPORT_MAX_PAGE_IMAGES={cap}): {left}"
            )


def content_of(
    run: RunInfo, sources: Sources | None = None, base_url: str = "", settings: ExportSettings | None = None
) -> Content:
    """The export's content for a finished run; the sources add company, form, period, accession and XBRL concepts."""
    b = _Builder(run, sources or NoSources(), base_url, settings or ExportSettings())
    result = run.result or {}
    if run.mode == "compare":
        for arm in ("agentic", "rag"):
            if arm in result:
                b.answer(Answer.model_validate(result[arm]), arm)
    elif result:
        b.answer(Answer.model_validate(result), "")
    else:
        b.content.blocks.append(Block("Answer", notice=f"This run ended {run.status} without an answer.", text=""))
    b.unreferenced()
    b.renumber()
    b.figures()
    b.pages()
    return b.content


def _status_notice(answer: Answer) -> str | None:
    if answer.error:
        return f"This run ended {answer.status}: {answer.error}"
    return _section_notice(answer.status)


def _section_notice(status: str) -> str | None:
    return {
        "unsure": "Status: unsure (the evidence is incomplete or a citation failed its check).",
        "truncated": "Status: truncated (a budget ran out; written from the evidence found so far).",
        "failed": "Status: failed.",
        "cancelled": "Status: cancelled.",
    }.get(status)


def _facts(run: RunInfo) -> list[tuple[str, str]]:
    facts = [("Question", run.question), ("Run", run.id), ("Mode", run.mode), ("Model", run.model), ("Status", run.status)]
    if run.finished_at:
        facts.append(("Finished", run.finished_at.strftime("%Y-%m-%d %H:%M UTC")))
    if run.budgets:
        facts.append(("Budgets", ", ".join(f"{k}={v}" for k, v in sorted(run.budgets.items()))))
    if run.filters:
        facts.append(("Filters", json.dumps(run.filters, ensure_ascii=False, sort_keys=True)))
    return facts
