"""A report's memo: the final pass over the sections' findings, its [n] markers numbered and every cited figure checked
against the cited page, and the memo written out as Markdown."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agent.answer import Answer, AnswerCitation
from agent.answer_chart import CHART_DESCRIPTION, chart_args, chart_markdown, checked_chart
from agent.citations import TextOf, check_citation, figures
from agent.llm import LLMResponse
from agent.prompts import load
from agent.report import PlannedSection, Report, ReportPlan, ReportSection, ReportTable
from corpus.errors import validation_problems

MEMO_TOOL = "write_memo"
MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_SHOWN_PROBLEMS = 12
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


@dataclass
class SectionFindings:
    """What a section's research came back with: its answer, or why it failed."""

    section: PlannedSection
    answer: Answer | None = None
    error: str | None = None
    kept: ReportSection | None = None  # a follow-up's section taken as written from the thread's previous memo

    @property
    def failed(self) -> bool:
        return self.kept is None and (self.answer is None or self.answer.status in {"failed", "cancelled"})


class MemoSectionArgs(BaseModel):
    title: str = Field(max_length=200, description="The section's title, as planned.")
    text: str = Field(max_length=20_000, description="The section's prose in Markdown; every figure followed by its [n].")
    tables: list[ReportTable] = Field(default_factory=list, max_length=4, description="Tables where figures compare.")
    chart: dict[str, Any] | None = Field(None, description=CHART_DESCRIPTION)


class MemoArgs(BaseModel):
    summary: str = Field(max_length=6000, description="The executive summary: the findings that matter, with [n] markers.")
    sections: list[MemoSectionArgs] = Field(max_length=8, description="One entry per planned section, in order.")
    not_found: list[str] = Field(default_factory=list, max_length=30, description="What was looked for and not found.")


@cache
def memo_schema() -> dict[str, Any]:
    """The memo tool's schema, built once: do not mutate it."""
    return {
        "type": "function",
        "function": {
            "name": MEMO_TOOL,
            "description": "Write the memo: summary, sections (text, tables, chart) and not_found, citing sources as [n].",
            "parameters": MemoArgs.model_json_schema(),
        },
    }


def number_evidence(findings: list[SectionFindings], earlier: list[AnswerCitation] | None = None) -> list[AnswerCitation]:
    """The sections' citations that passed (or had nothing to) the check, once each: the memo cites them as [n]. A
    follow-up's `earlier` citations (the previous memo's, whose numbers its kept sections use) come first."""
    seen: dict[tuple[str, int, str], AnswerCitation] = {(c.doc_id, c.page, c.quote): c for c in earlier or []}
    for f in findings:
        for c in f.answer.citations if f.answer else []:
            if c.verified is not False:
                seen.setdefault((c.doc_id, c.page, c.quote), c)
    return list(seen.values())


def memo_messages(
    question: str, plan: ReportPlan, findings: list[SectionFindings], evidence: list[AnswerCitation], feedback: str | None
) -> list[dict[str, Any]]:
    """The memo writer's prompt: the request, each section's findings and the numbered sources."""
    number = {(c.doc_id, c.page, c.quote): i for i, c in enumerate(evidence, 1)}
    parts = [f"Request: {question}", f"Report title: {plan.title}"]
    for i, f in enumerate(findings, 1):
        if f.kept is not None:
            parts.append(f"## Section {i} (KEPT): {f.section.title}\nAs written in the previous memo:\n{f.kept.text}")
            continue
        head = f"## Section {i}: {f.section.title}\nQuestions: " + "; ".join(f.section.questions)
        if f.failed:
            parts.append(f"{head}\nResearch FAILED: {f.error or (f.answer.error if f.answer else '')}")
            continue
        cites = [
            f'[{number[(c.doc_id, c.page, c.quote)]}] {c.label()} "{c.quote}"'
            for c in f.answer.citations
            if (c.doc_id, c.page, c.quote) in number
        ]
        parts.append(f"{head}\nStatus: {f.answer.status}\nFindings: {f.answer.text}\nSources:\n" + ("\n".join(cites) or "none"))
    if plan.left_out:
        parts.append("Left out by the plan: " + "; ".join(plan.left_out))
    if earlier := [f'[{i}] {c.label()} "{c.quote}"' for i, c in enumerate(evidence, 1) if any(f.kept for f in findings)]:
        parts.append("All sources, for the KEPT sections' markers:\n" + "\n".join(earlier))
    messages = [{"role": "system", "content": load("report_memo")}, {"role": "user", "content": "\n\n".join(parts)}]
    if feedback:
        messages.append({"role": "user", "content": feedback})
    return messages


def memo_from_reply(response: LLMResponse) -> MemoArgs | str:
    """The memo in the model's reply (a write_memo call, or JSON in the text), or what is wrong with it, for the model."""
    calls = [c for c in response.tool_calls if c.name == MEMO_TOOL]
    try:
        raw = calls[0].arguments if calls else json.loads(_FENCE.sub("", response.content.strip()))
    except ValueError:
        return f"Your reply held no memo. Call {MEMO_TOOL} with summary, sections and not_found."
    try:
        return MemoArgs.model_validate(raw)
    except ValidationError as exc:
        return f"The memo is invalid: {validation_problems(exc.errors()[:6], 'memo')}. Call {MEMO_TOOL} again with it fixed."


def build_report(
    plan: ReportPlan, findings: list[SectionFindings], evidence: list[AnswerCitation], memo: MemoArgs | None, text_of: TextOf
) -> tuple[Report, list[str]]:
    """The Report from the memo (None: the memo pass failed, so each section shows its research as written); a failed
    section says so whatever the memo wrote; with the charts' problems."""
    number = {(c.doc_id, c.page, c.quote): i for i, c in enumerate(evidence, 1)}
    sections, problems = [], []
    written_sections = iter(memo.sections if memo else [])  # one per section to write (the KEPT ones are not written)
    for f in findings:
        if f.kept is not None:
            sections.append(f.kept.model_copy(deep=True))
            continue
        written = next(written_sections, None)
        section = ReportSection(title=f.section.title, questions=f.section.questions)
        if f.failed:
            reason = f.error or (f.answer.error if f.answer else None) or "unknown error"
            section.status, section.error = "failed", reason
            section.text = f"_The research for this section failed ({reason}); it states nothing._"
        elif written is not None:
            section.status, section.text, section.tables = f.answer.status, written.text, written.tables
            args = chart_args(written.chart)
            if isinstance(args, str):
                problems.append(f"section {f.section.title!r}: {args}")
            else:
                section.chart, chart_problems = checked_chart(args, text_of)
                problems += [f"section {f.section.title!r}: {p}" for p in chart_problems]
        else:
            marks = "".join(
                f"[{number[(c.doc_id, c.page, c.quote)]}]" for c in f.answer.citations if (c.doc_id, c.page, c.quote) in number
            )
            section.status, section.text = f.answer.status, f"{f.answer.text} {marks}".strip()
        sections.append(section)
    summary = (
        memo.summary if memo else "The memo could not be written; each section below shows its research as the helper wrote it."
    )
    not_found = list(memo.not_found) if memo else []
    not_found += [f"{s.title}: research failed ({s.error})" for s in sections if s.error]
    not_found += [f"Left out: {x}" for x in plan.left_out]
    return Report(plan=plan, title=plan.title, summary=summary, sections=sections, not_found=not_found), problems


def renumber(report: Report, evidence: list[AnswerCitation]) -> tuple[Report, list[AnswerCitation], list[str]]:
    """Markers renumbered 1..n in order of first use (each "[n]" alone, so exports can footnote it), unused sources left out;
    markers naming no source are removed and reported."""
    order: dict[int, int] = {}
    problems: list[str] = []

    def fix(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            out = []
            for n in (int(x) for x in m.group(1).split(",")):
                if not 1 <= n <= len(evidence):
                    problems.append(f"marker [{n}] names no source (there are {len(evidence)})")
                    continue
                out.append(f"[{order.setdefault(n, len(order) + 1)}]")
            return "".join(out)

        return MARKER.sub(one, text)

    r = report.model_copy(deep=True)
    r.summary = fix(r.summary)
    for s in r.sections:
        s.text = fix(s.text)
        for t in s.tables:
            t.rows = [[fix(cell) for cell in row] for row in t.rows]
    cited = [evidence[old - 1] for old, _ in sorted(order.items(), key=lambda kv: kv[1])]
    return r, cited, problems


def figure_problems(report: Report, citations: list[AnswerCitation], text_of: TextOf) -> tuple[int, list[str]]:
    """Each stretch of prose (and each table row) before a marker must show figures its cited page holds; figures after the
    last marker of a paragraph are uncited. Returns (stretches checked, problems)."""
    checked, problems = 0, []
    paragraphs = [("summary", p) for p in report.summary.split("\n")]
    for s in report.sections:
        if s.error:
            continue
        paragraphs += [(s.title, p) for p in s.text.split("\n")]
        paragraphs += [(f"{s.title} / {t.title}", " | ".join(row)) for t in s.tables for row in t.rows]
    for where, text in paragraphs:
        start = 0
        for m in MARKER.finditer(text):
            stretch, start = text[start : m.start()], m.end()
            wanted = figures(stretch, telling=True)
            if not wanted:
                continue
            checked += 1
            cites = [citations[int(n) - 1] for n in m.group(1).split(",") if 1 <= int(n) <= len(citations)]
            verdicts = [check_citation(c.model_copy(update={"quote": stretch}), text_of, figures_only=True) for c in cites]
            if not any(v.verified for v in verdicts):
                why = verdicts[0].problem if verdicts else "no source"
                problems.append(f"{where}: {' '.join(stretch.split())[-80:]!r} {m.group(0)}: {why}")
        if tail := figures(MARKER.sub("", text[start:]), telling=True):
            problems.append(f"{where}: figures without a citation: {', '.join(tail[:5])}")
    return checked, problems


def shown(problems: list[str]) -> list[str]:
    """At most a dozen problems, and how many more there were."""
    more = len(problems) - _SHOWN_PROBLEMS
    return problems[:_SHOWN_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])


def memo_markdown(report: Report, citations: list[AnswerCitation]) -> str:
    """The whole memo as Markdown: title, summary, sections with tables and charts, what was not found, the sources."""
    out = [f"# {report.title}", "", "## Executive summary", "", report.summary.strip()]
    for s in report.sections:
        out += ["", f"## {s.title}", "", s.text.strip()]
        for t in s.tables:
            out += ["", f"**{t.title}**", "", "| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
            out += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in t.rows]
        if s.chart is not None:
            out += ["", chart_markdown(s.chart)]
    if report.not_found:
        out += ["", "## What was checked and not found", ""] + [f"- {x}" for x in report.not_found]
    if citations:
        out += ["", "## Sources", ""]
        for i, c in enumerate(citations, 1):
            flag = "" if c.verified is not False else f" (not verified: {c.problem})"
            out.append(f"{i}. {c.label()}" + (f': "{c.quote}"' if c.quote else "") + flag)
    return "\n".join(out).strip() + "\n"
