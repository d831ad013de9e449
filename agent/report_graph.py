"""Report mode as a small LangGraph above the research agent; the wiring at the bottom is the whole flow.

The model writes a plan; the run stops at await_approval until the user approves it (possibly edited), unless the
request said approve; each section is then researched by a sub-agent (agent.research.research_part) in parallel, drawing
on the run's shared tool-call budget within the user's filters; a final pass writes the memo from the findings; check
numbers its [n] markers and checks every cited figure against its page, sending the memo back once when figures fail.
`python -m agent.report_graph --mermaid` draws it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agent.answer import Answer, AnswerCitation, RunMetrics, Status, ToolRecord
from agent.corpus_access import text_of
from agent.events import (
    ANSWER,
    AWAITING_APPROVAL,
    CITATION_CHECK,
    ERROR,
    MEMO_STARTED,
    REPORT_PLAN,
    RUN_STARTED,
    SECTION_FINISHED,
    SECTION_STARTED,
    Emit,
    Event,
    discard,
)
from agent.llm import LLMClient, LLMError
from agent.memo import (
    MemoArgs,
    SectionFindings,
    build_report,
    figure_problems,
    memo_from_reply,
    memo_markdown,
    memo_messages,
    memo_schema,
    number_evidence,
    renumber,
    shown,
)
from agent.report import PlannedSection, Report, ReportPlan
from agent.report_plan import ask_for_plan, fit_plan, kept_sections
from agent.research import research_part
from agent.scope import Filters, resolve, scope_note
from agent.settings import AgentSettings
from agent.state import SharedBudget
from tools.context import ToolContext

log = logging.getLogger(__name__)


@dataclass
class ReportRun:
    """Everything fixed for one report run; reaches the nodes through the graph config."""

    question: str
    llm: LLMClient
    tools: ToolContext
    settings: AgentSettings
    emit: Emit
    scope: list[str] | None
    scope_text: str
    previous: Answer | None = None  # a follow-up's: the thread's last report, whose sections it may revise
    started: float = field(default_factory=time.monotonic)

    @property
    def earlier(self) -> list[AnswerCitation]:
        """The previous memo's citations, numbered as its kept sections' markers are."""
        return self.previous.citations if self.previous else []

    @property
    def deadline(self) -> float:
        return self.started + self.settings.time_budget_s


class ReportState(TypedDict, total=False):
    plan: ReportPlan | None
    approved: bool
    findings: list[SectionFindings]
    memo: MemoArgs | None
    feedback: str | None  # what the check found wrong with the memo, for one more pass
    repairs: int  # memo passes left after the first
    report: Report | None
    metrics: RunMetrics
    steps: list[ToolRecord]
    warnings: list[str]
    answer: Answer | None  # set when the run ends (failed planning, or the checked memo)


def _run(config: RunnableConfig) -> ReportRun:
    return config["configurable"]["run"]


def _failed(run: ReportRun, state: ReportState, message: str) -> Answer:
    return Answer(
        mode="report",
        question=run.question,
        text=f"The report failed: {message}",
        status="failed",
        error=message,
        metrics=state.get("metrics") or RunMetrics(),
    )


# --- nodes ---


async def plan(state: ReportState, config: RunnableConfig) -> dict[str, Any]:
    """The model's plan, fitted to the corpus and the budgets (a plan given with the run, as approved, is kept)."""
    run = _run(config)
    if state.get("plan") is not None:
        await run.emit(Event(REPORT_PLAN, {"plan": state["plan"].model_dump(), "approved": state.get("approved", False)}))
        return {}
    metrics = state["metrics"].model_copy()
    current = run.previous.report.plan if run.previous else None
    try:
        written, usage = await ask_for_plan(run.question, run.llm, run.tools.corpus, run.scope, run.settings, current)
    except LLMError as exc:
        return {"answer": _failed(run, state, f"the model could not write a plan: {exc}")}
    metrics.add_usage(usage)
    if isinstance(written, str):
        return {
            "answer": _failed(run, {**state, "metrics": metrics}, f"the model wrote no usable plan: {written}"),
            "metrics": metrics,
        }
    fitted, notes = await asyncio.to_thread(fit_plan, written, run.tools.corpus, run.scope, run.settings)
    kept = [fitted.sections[i].title for i in kept_sections(fitted, run.previous.report if run.previous else None)]
    data = {"plan": fitted.model_dump(), "approved": state.get("approved", False), "notes": notes, "kept": kept}
    await run.emit(Event(REPORT_PLAN, data))
    return {"plan": fitted, "metrics": metrics, "warnings": state["warnings"] + notes}


async def await_approval(state: ReportState, config: RunnableConfig) -> dict[str, Any]:
    """Without approval the run stops here, its plan stored; the user's approval starts it again at research_sections."""
    if not state.get("approved"):
        await _run(config).emit(Event(AWAITING_APPROVAL, {"plan": state["plan"].model_dump()}))
    return {}


async def research_sections(state: ReportState, config: RunnableConfig) -> dict[str, Any]:
    """Each section by a sub-agent, at most report_parallel_sections at once, sharing the run's tool-call budget."""
    run = _run(config)
    s = run.settings
    shared = SharedBudget(tool_calls_left=s.max_tool_calls, subagents_left=0)
    slots = asyncio.Semaphore(s.report_parallel_sections)
    title = state["plan"].title
    kept = kept_sections(state["plan"], run.previous.report if run.previous else None)

    async def one(index: int, section: PlannedSection) -> SectionFindings:
        if index - 1 in kept:  # a follow-up leaves it as the previous memo wrote it
            await run.emit(Event(SECTION_FINISHED, {"index": index, "title": section.title, "status": "kept", "citations": 0}))
            return SectionFindings(section, kept=kept[index - 1])
        async with slots:
            label = f"section-{index}"
            await run.emit(Event(SECTION_STARTED, {"index": index, "title": section.title, "questions": section.questions}))
            try:
                answer = await research_part(
                    _section_question(title, section),
                    llm=run.llm,
                    tools=run.tools,
                    settings=s,
                    emit=run.emit,
                    shared=shared,
                    agent=label,
                    scope=run.scope,
                    scope_text=run.scope_text,
                    deadline=run.deadline,
                )
                found = SectionFindings(section, answer, answer.error if answer.status == "failed" else None)
            except Exception as exc:  # one section's crash must not take the others down
                log.exception("report section %r crashed", section.title)
                found = SectionFindings(section, None, f"internal error: {type(exc).__name__}: {exc}")
            status = "failed" if found.failed else found.answer.status
            cites = len(found.answer.citations) if found.answer else 0
            data = {"index": index, "title": section.title, "status": status, "citations": cites, "error": found.error}
            await run.emit(Event(SECTION_FINISHED, data))
            return found

    findings = await asyncio.gather(*(one(i, sec) for i, sec in enumerate(state["plan"].sections, 1)))
    metrics, steps = state["metrics"].model_copy(), list(state["steps"])
    for f in findings:
        if f.answer is not None:
            metrics.absorb(f.answer.metrics)
            metrics.pages_read += f.answer.metrics.pages_read
            steps += f.answer.steps
    return {"findings": list(findings), "metrics": metrics, "steps": steps}


def _section_question(title: str, section: PlannedSection) -> str:
    asks = "\n".join(f"- {q}" for q in section.questions) or f"- {section.title}"
    files = f"\nFilings the plan expects to use: {', '.join(section.filings)}." if section.filings else ""
    return f"For the section {section.title!r} of a report titled {title!r}, answer with cited figures:\n{asks}{files}"


async def write_memo(state: ReportState, config: RunnableConfig) -> dict[str, Any]:
    """One model pass over the findings writes the memo (the summary, each section's prose, tables and chart, not found)."""
    run = _run(config)
    findings, plan_ = state["findings"], state["plan"]
    evidence = number_evidence(findings, run.earlier)
    attempt = run.settings.citation_repairs - state["repairs"] + 1
    await run.emit(Event(MEMO_STARTED, {"sections": len(findings), "citations": len(evidence), "attempt": attempt}))
    metrics, warnings = state["metrics"].model_copy(), list(state["warnings"])
    memo: MemoArgs | None = None
    if all(f.kept for f in findings):  # a follow-up that changed no section: the previous memo stands
        memo = MemoArgs(summary=run.previous.report.summary, sections=[], not_found=run.previous.report.not_found)
    elif all(f.failed or f.kept for f in findings):
        warnings.append("every section's research failed; no memo was written")
    else:
        feedback = state.get("feedback")
        for _ in range(2):  # a reply that is no memo is sent back once
            try:
                messages = memo_messages(run.question, plan_, findings, evidence, feedback)
                timeout = max(5.0, run.deadline + run.settings.answer_grace_s - time.monotonic())
                response = await asyncio.wait_for(run.llm.complete(messages, [memo_schema()]), timeout)
            except (LLMError, TimeoutError) as exc:
                warnings.append(f"the memo pass failed ({type(exc).__name__}: {exc}); sections show their research as written")
                await run.emit(Event(ERROR, {"kind": "memo", "message": str(exc) or "timed out"}))
                break
            metrics.add_usage(response.usage)
            written = memo_from_reply(response)
            if isinstance(written, MemoArgs):
                memo = written
                break
            feedback = written
        else:
            warnings.append(f"the model wrote no usable memo ({feedback}); sections show their research as written")
    text_of_doc = _text_of(run)
    report, chart_problems = build_report(plan_, findings, evidence, memo if memo else state.get("memo"), text_of_doc)
    return {"memo": memo or state.get("memo"), "report": report, "metrics": metrics, "warnings": warnings + chart_problems}


def _text_of(run: ReportRun):  # noqa: ANN202
    return lambda doc_id: text_of(run.tools, doc_id)


async def check(state: ReportState, config: RunnableConfig) -> dict[str, Any]:
    """Number the markers, check each cited figure on its page; once, send the memo back with what failed."""
    run = _run(config)
    findings = state["findings"]
    report, citations, marker_problems = renumber(state["report"], number_evidence(findings, run.earlier))
    checked, problems = await asyncio.to_thread(figure_problems, report, citations, _text_of(run))
    problems = marker_problems + problems
    await run.emit(Event(CITATION_CHECK, {"checked": checked, "failed": shown(problems)}))
    if problems and state["repairs"] > 0 and state.get("memo") is not None:
        feedback = "These statements failed the check; fix the figures or their [n], or drop them:\n" + "\n".join(
            f"- {p}" for p in shown(problems)
        )
        return {"feedback": feedback, "repairs": state["repairs"] - 1}
    answer = Answer(
        mode="report",
        question=run.question,
        text=memo_markdown(report, citations),
        status=_status(findings, problems),
        citations=citations,
        steps=state["steps"],
        metrics=state["metrics"],
        warnings=state["warnings"] + shown(problems),
        report=report,
    )
    if answer.status == "failed":
        answer.error = "every section's research failed: " + "; ".join(f.error or "?" for f in findings)
    return {"answer": answer}


def _status(findings: list[SectionFindings], problems: list[str]) -> Status:
    statuses = {f.kept.status if f.kept else "failed" if f.failed else f.answer.status for f in findings}
    if statuses == {"failed"}:
        return "failed"
    if "truncated" in statuses:
        return "truncated"
    return "unsure" if problems or statuses != {"answered"} else "answered"


# --- edges ---


def after_plan(state: ReportState) -> str:
    return END if state.get("answer") else "await_approval"


def after_approval(state: ReportState) -> str:
    return "research_sections" if state.get("approved") else END


def after_check(state: ReportState) -> str:
    return END if state.get("answer") else "write_memo"


# --- wiring ---

builder = StateGraph(ReportState)
builder.add_node("plan", plan)
builder.add_node("await_approval", await_approval)
builder.add_node("research_sections", research_sections)
builder.add_node("write_memo", write_memo)
builder.add_node("check", check)
builder.add_edge(START, "plan")
builder.add_conditional_edges("plan", after_plan, [END, "await_approval"])
builder.add_conditional_edges("await_approval", after_approval, ["research_sections", END])
builder.add_edge("research_sections", "write_memo")
builder.add_edge("write_memo", "check")
builder.add_conditional_edges("check", after_check, [END, "write_memo"])
REPORT_GRAPH = builder.compile()


async def report(
    question: str,
    *,
    llm: LLMClient,
    tools: ToolContext,
    settings: AgentSettings | None = None,
    filters: Filters | None = None,
    emit: Emit = discard,
    plan: ReportPlan | None = None,
    approve: bool = False,
    previous: Answer | None = None,
) -> Answer | ReportPlan:
    """A report: the plan awaiting approval (approve=False), or the checked memo as an Answer (approve=True; with `plan`
    the run goes on from that approved plan). A follow-up passes the thread's `previous` report: the plan revises its
    plan, and the sections it leaves unchanged are kept as written."""
    settings = settings or AgentSettings()
    scope = resolve(tools.corpus, filters)
    previous = previous if previous is not None and previous.report is not None else None
    run = ReportRun(question, llm, tools, settings, emit, scope, scope_note(filters, scope), previous)
    started = {"question": question, "mode": "report", "filters": filters.model_dump() if filters else None}
    await emit(Event(RUN_STARTED, started | {"approved": approve, "revises": previous.report.title if previous else None}))
    state: ReportState = {
        "plan": plan,
        "approved": approve,
        "findings": [],
        "memo": None,
        "feedback": None,
        "repairs": settings.citation_repairs,
        "report": None,
        "metrics": RunMetrics(),
        "steps": [],
        "warnings": [],
        "answer": None,
    }
    try:
        final = await REPORT_GRAPH.ainvoke(state, config={"configurable": {"run": run}, "recursion_limit": 50})
    except asyncio.CancelledError:
        await emit(Event(ERROR, {"kind": "cancelled", "message": "the run was cancelled"}))
        raise
    answer = final.get("answer")
    if answer is None:  # stopped at await_approval
        return final["plan"]
    answer.metrics.latency_s = round(time.monotonic() - run.started, 3)
    await emit(Event(ANSWER, answer.model_dump()))
    return answer


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--mermaid"]:
        sys.exit("usage: python -m agent.report_graph --mermaid")
    print(REPORT_GRAPH.get_graph().draw_mermaid())
