"""A report's plan: asking the model for it, reading its reply, and fitting a plan (the model's or the user's edit) to the
corpus and the budgets."""

from __future__ import annotations

import asyncio
import json
import re
from functools import cache
from typing import Any

from pydantic import ValidationError

from agent.llm import LLMClient, LLMResponse, Usage
from agent.prompts import load
from agent.report import Report, ReportPlan, ReportSection
from agent.settings import AgentSettings
from corpus.catalog import Corpus
from corpus.errors import validation_problems

PLAN_TOOL = "report_plan"
_LISTED = 120  # filings shown to the planner; past this it is told how many more there are
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


@cache
def plan_schema() -> dict[str, Any]:
    """The plan tool's schema (ReportPlan's), built once: do not mutate it."""
    return {
        "type": "function",
        "function": {
            "name": PLAN_TOOL,
            "description": "Give the report's plan: title, sections (title, questions, filings by doc_id), left_out.",
            "parameters": ReportPlan.model_json_schema(),
        },
    }


def planning_messages(
    question: str,
    corpus: Corpus,
    scope: list[str] | None,
    settings: AgentSettings,
    feedback: str | None = None,
    current: ReportPlan | None = None,
) -> list[dict[str, Any]]:
    """The planner's prompt: the request, the filings it may use, and what the budgets allow; for a follow-up that
    revises a memo, its `current` plan too."""
    docs = [d for d in corpus.list() if scope is None or d.id in scope]
    lines = [f"- {d.id}: {d.company or '?'} {d.form_type or '?'} FY{d.fiscal_year or '?'} ({d.page_count} pages)" for d in docs]
    more = f"\n- ... and {len(lines) - _LISTED} more filings" if len(lines) > _LISTED else ""
    budget = (
        f"Budgets: at most {settings.report_max_sections} sections; each section is researched by a helper with about "
        f"{settings.subagent_max_tool_calls} tool calls, {settings.max_tool_calls} tool calls for the whole report."
    )
    user = f"Request: {question}\n\n{budget}\n\nFilings you may use:\n" + ("\n".join(lines[:_LISTED]) or "- none") + more
    if current is not None:
        user = f"Current plan of the memo:\n{current.model_dump_json(indent=1)}\n\nFollow-up " + user
    prompt = load("report_revise" if current is not None else "report_plan")
    messages = [{"role": "system", "content": prompt}, {"role": "user", "content": user}]
    if feedback:
        messages.append({"role": "user", "content": feedback})
    return messages


def plan_from_reply(response: LLMResponse) -> ReportPlan | str:
    """The plan in the model's reply (a report_plan call, or JSON in the text), or what is wrong with it, for the model."""
    calls = [c for c in response.tool_calls if c.name == PLAN_TOOL]
    if calls:
        raw: Any = calls[0].arguments
    else:
        try:
            raw = json.loads(_FENCE.sub("", response.content.strip()))
        except ValueError:
            return f"Your reply held no plan. Call {PLAN_TOOL} with the title, sections and left_out."
    try:
        return ReportPlan.model_validate(raw)
    except ValidationError as exc:
        return f"The plan is invalid: {validation_problems(exc.errors(), 'plan')}. Call {PLAN_TOOL} again with it fixed."


async def ask_for_plan(
    question: str,
    llm: LLMClient,
    corpus: Corpus,
    scope: list[str] | None,
    settings: AgentSettings,
    current: ReportPlan | None = None,
) -> tuple[ReportPlan | str, Usage]:
    """The model's plan (a follow-up: `current` revised) after at most one correction, or why none could be had; with the
    turns' usage."""
    usage, feedback, problem = Usage(), None, ""
    for _ in range(2):
        messages = await asyncio.to_thread(planning_messages, question, corpus, scope, settings, feedback, current)
        response = await llm.complete(messages, [plan_schema()])
        usage.add(response.usage)
        plan = plan_from_reply(response)
        if isinstance(plan, ReportPlan):
            return plan, usage
        feedback = problem = plan
    return problem, usage


def fit_plan(plan: ReportPlan, corpus: Corpus, scope: list[str] | None, settings: AgentSettings) -> tuple[ReportPlan, list[str]]:
    """The model's plan within the corpus and the budgets: unknown or out-of-scope filings dropped, sections past the budget
    moved to left_out; with a note for each change."""
    allowed = set(scope) if scope is not None else {d.id for d in corpus.list()}
    notes: list[str] = []
    sections = []
    for section in plan.sections:
        kept = [d for d in section.filings if d in allowed]
        if dropped := [d for d in section.filings if d not in allowed]:
            notes.append(f"section {section.title!r}: dropped filings not in the corpus or scope: {', '.join(dropped)}")
        sections.append(section.model_copy(update={"filings": kept}))
    left_out = list(plan.left_out)
    if len(sections) > settings.report_max_sections:
        cut = sections[settings.report_max_sections :]
        sections = sections[: settings.report_max_sections]
        left_out += [f"{s.title} (beyond the {settings.report_max_sections} sections the budgets allow)" for s in cut]
        notes.append(f"{len(cut)} sections past SLEUTH_AGENT_REPORT_MAX_SECTIONS moved to left_out")
    return plan.model_copy(update={"sections": sections, "left_out": left_out}), notes


def plan_problems(plan: ReportPlan, corpus: Corpus, scope: list[str] | None, settings: AgentSettings) -> list[str]:
    """What is wrong with a plan the user edited, each naming its field (empty: it can be researched as it is)."""
    problems = []
    if len(plan.sections) > settings.report_max_sections:
        problems.append(
            f"plan.sections: {len(plan.sections)} sections; this server researches at most {settings.report_max_sections} "
            "(SLEUTH_AGENT_REPORT_MAX_SECTIONS)"
        )
    allowed = set(scope) if scope is not None else {d.id for d in corpus.list()}
    for i, section in enumerate(plan.sections):
        if not section.title.strip():
            problems.append(f"plan.sections.{i}.title: the title is empty")
        if not any(q.strip() for q in section.questions):
            problems.append(f"plan.sections.{i}.questions: give at least one question for the section to answer")
        for j, doc_id in enumerate(section.filings):
            if doc_id not in allowed:
                where = "the run's filters" if scope is not None else "the corpus"
                problems.append(f"plan.sections.{i}.filings.{j}: {doc_id[:200]!r} is not a filing of {where}")
    return problems


def kept_sections(plan: ReportPlan, previous: Report | None) -> dict[int, ReportSection]:
    """A follow-up's sections (by index) that the previous memo already wrote from the same title, questions and filings
    (and not failed): they are kept as written, not researched again."""
    if previous is None:
        return {}
    written = {
        (p.title, tuple(p.questions), tuple(p.filings)): s
        for p, s in zip(previous.plan.sections, previous.sections, strict=False)
        if s.status != "failed" and s.title == p.title
    }
    return {
        i: written[key]
        for i, section in enumerate(plan.sections)
        if (key := (section.title, tuple(section.questions), tuple(section.filings))) in written
    }
