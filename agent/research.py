"""Agentic mode: run the research graph on one question (or, as a sub-agent, on one part of it)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.answer import Answer, RunMetrics
from agent.corpus_access import is_doc
from agent.coverage import not_covered_answer
from agent.drafts import answer_schema
from agent.events import ANSWER, ERROR, RUN_STARTED, SUBAGENT_FINISHED, SUBAGENT_STARTED, Emit, Event, discard
from agent.graph import GRAPH
from agent.llm import LLMClient
from agent.memory import ThreadMemory
from agent.prompts import load
from agent.scope import Filters, resolve, scope_note
from agent.settings import AgentSettings
from agent.state import SUBQUESTION_TOOL, AgentRun, AgentState, SharedBudget
from corpus.errors import validation_problems
from tools.base import Citation
from tools.context import ToolContext
from tools.registry import REGISTRY, ToolOutcome

log = logging.getLogger(__name__)


class _SubquestionArgs(BaseModel, extra="forbid"):
    question: str
    doc_ids: list[str] | None = None


_SUBQUESTION_SCHEMA = {
    "type": "function",
    "function": {
        "name": SUBQUESTION_TOOL,
        "description": (
            "Hand one narrow, self-contained part of the question (e.g. one company or one fiscal year) to a helper analyst "
            "with its own fresh context; it researches it with the same tools and returns its cited findings. Several can run "
            "in parallel: call it several times in one turn. Use it for independent parts, not for a single lookup."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "question": {
                    "type": "string",
                    "description": "The narrower question, complete on its own (name the company, period and figure).",
                },
                "doc_ids": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Filings to restrict it to, when known.",
                },
            },
            "required": ["question"],
            "additionalProperties": False,
        },
    },
}


async def research(
    question: str,
    *,
    llm: LLMClient,
    tools: ToolContext,
    settings: AgentSettings | None = None,
    filters: Filters | None = None,
    emit: Emit = discard,
    memory: ThreadMemory | None = None,
) -> Answer:
    """Investigate `question` with the tools until it can be answered with checked citations, or a budget runs out.

    A follow-up in a thread passes the `memory` of its earlier turns (agent.memory): the agent starts from it."""
    settings = settings or AgentSettings()
    doc_ids = resolve(tools.corpus, filters)
    await emit(
        Event(
            RUN_STARTED,
            {"question": question, "mode": "agentic", "filters": filters.model_dump() if filters else None}
            | ({"memory": memory.metrics()} if memory else {}),
        )
    )
    shared = SharedBudget(
        tool_calls_left=settings.max_tool_calls, subagents_left=settings.max_subagents if settings.subagents else 0
    )
    run = _agent_run(
        question,
        llm,
        tools,
        settings,
        emit,
        shared,
        depth=0,
        agent="main",
        max_steps=settings.max_steps,
        max_tool_calls=settings.max_tool_calls,
        time_s=settings.time_budget_s,
    )
    run.hard_deadline = run.deadline + settings.answer_grace_s
    run.scope = doc_ids
    run.thread_memory = memory.text if memory else ""
    early = await asyncio.to_thread(not_covered_answer, question, "agentic", tools.corpus) if doc_ids is None else None
    if early is not None:  # a company the corpus has no filing of: say so at once rather than research another one
        early.metrics.latency_s = round(time.monotonic() - run.started, 3)
        await emit(Event(ANSWER, early.model_dump()))
        return early
    answer, _ = await _run_graph(run, scope_note(filters, doc_ids))
    if memory:
        answer.metrics = answer.metrics.model_copy(update=memory.metrics())
    await emit(Event(ANSWER, answer.model_dump()))
    return answer


async def run_subagent(
    parent: AgentRun, arguments: dict[str, Any]
) -> tuple[ToolOutcome, tuple[Answer, set[tuple[str, int]]] | None]:
    """The research_subquestion tool: a child agent with a fresh context and its own budget; its findings as the result."""

    def refuse(message: str) -> tuple[ToolOutcome, None]:
        return ToolOutcome(SUBQUESTION_TOOL, arguments, False, f"Error: {message}"), None

    try:
        args = _SubquestionArgs.model_validate(arguments)
    except ValidationError as exc:
        return refuse("invalid arguments for research_subquestion: " + validation_problems(exc.errors(), "arguments"))
    question = args.question.strip()
    if not question:
        return refuse("give the sub-question in `question`.")
    if parent.depth >= 1:
        return refuse("a sub-agent cannot start sub-agents; research it yourself.")
    if parent.shared.subagents_left <= 0:
        return refuse("no sub-agents left in this run's budget; research it yourself.")
    doc_ids = args.doc_ids or parent.scope
    if args.doc_ids:
        unknown = [d for d in args.doc_ids if not is_doc(parent.tools, d)]
        outside = [d for d in args.doc_ids if parent.scope is not None and d not in parent.scope]
        if unknown:
            return refuse(f"unknown doc_ids {unknown}; use list_documents to find them.")
        if outside:
            return refuse(f"{outside} are outside the filings the user allowed: {', '.join(parent.scope or [])}.")
    parent.shared.subagents_left -= 1
    parent.shared.subagents_started += 1
    label = f"sub-{parent.shared.subagents_started}"
    await parent.emit(
        Event(SUBAGENT_STARTED, {"agent": label, "question": question, "doc_ids": doc_ids or []}, agent=parent.agent)
    )
    s = parent.settings
    child = _agent_run(
        question,
        parent.llm,
        parent.tools,
        s,
        parent.emit,
        parent.shared,
        depth=1,
        agent=label,
        max_steps=s.subagent_max_steps,
        max_tool_calls=s.subagent_max_tool_calls,
        time_s=min(s.subagent_time_budget_s, max(1.0, parent.remaining_s())),
    )
    child.hard_deadline = min(child.deadline + s.answer_grace_s, parent.deadline)  # the parent still needs time to answer
    child.scope = doc_ids
    scope = f"Scope: use only these filings: {', '.join(doc_ids)}." if doc_ids else ""
    answer, pages = await _run_graph(child, scope)
    await parent.emit(
        Event(
            SUBAGENT_FINISHED,
            {"agent": label, "status": answer.status, "text": answer.text, "citations": len(answer.citations)},
            agent=parent.agent,
        )
    )
    cites = [
        f'- {c.label()} "{c.quote}"' + ("" if c.verified is not False else f" (NOT verified: {c.problem})")
        for c in answer.citations
    ]
    text = f"Findings of the helper on {question!r} (status {answer.status}):\n{answer.text}\nCitations:\n" + (
        "\n".join(cites) or "- none"
    )
    result = ToolOutcome(
        SUBQUESTION_TOOL,
        arguments,
        answer.status in {"answered", "unsure", "truncated"},
        text,
        citations=[Citation(c.doc_id, c.page) for c in answer.citations],
        seconds=answer.metrics.latency_s,
    )
    return result, (answer, pages)


def _agent_run(
    question: str,
    llm: LLMClient,
    tools: ToolContext,
    settings: AgentSettings,
    emit: Emit,
    shared: SharedBudget,
    *,
    depth: int,
    agent: str,
    max_steps: int,
    max_tool_calls: int,
    time_s: float,
) -> AgentRun:
    schemas = REGISTRY.schemas() + [answer_schema()]
    if depth == 0 and settings.subagents and settings.max_subagents > 0:
        schemas.append(_SUBQUESTION_SCHEMA)
    budget = (
        min(settings.max_context_tokens or llm.settings.context_tokens, llm.settings.context_tokens) - llm.settings.max_tokens
    )
    return AgentRun(
        question=question,
        llm=llm,
        tools=llm.policy.tool_context(tools),
        settings=settings,
        emit=emit,
        tool_schemas=schemas,
        max_steps=max_steps,
        max_tool_calls=max_tool_calls,
        context_budget=max(1024, budget),
        deadline=time.monotonic() + time_s,
        hard_deadline=time.monotonic() + time_s + settings.answer_grace_s,
        shared=shared,
        agent=agent,
        depth=depth,
        subagent=run_subagent,
    )


def _system_prompt(run: AgentRun) -> str:
    parts = [load("agent_system")]
    if any(t["function"]["name"] == SUBQUESTION_TOOL for t in run.tool_schemas):
        parts.append(load("subagents"))
    if run.depth > 0:
        parts.append(load("subagent"))
    if run.thread_memory:
        parts.append(load("thread"))
    if instructions := run.policy.instructions(run.tool_schemas):
        parts.append(instructions)
    return "\n\n".join(parts)


async def _run_graph(run: AgentRun, scope: str) -> tuple[Answer, set[tuple[str, int]]]:
    """Run the graph to its answer; a crash still yields a failed Answer with the steps so far; cancellation propagates."""
    user = "\n\n".join(part for part in (run.thread_memory, scope, f"Question: {run.question}") if part)
    state: AgentState = {
        "messages": [{"role": "system", "content": _system_prompt(run)}, {"role": "user", "content": user}],
        "turns": 0,
        "pending": [],
        "planned": [],
        "outcomes": [],
        "observations": [],
        "draft": None,
        "stop": None,
        "failure": None,
        "repairs": run.settings.citation_repairs,
        "nudged": False,
        "feedback": None,
        "tool_records": [],
        "pages": set(),
        "metrics": RunMetrics(),
        "warnings": [],
        "answer": None,
        "memory": None,
    }
    config = {"configurable": {"run": run}, "recursion_limit": 10 * (run.max_steps + run.settings.citation_repairs + 4)}
    try:
        final = await GRAPH.ainvoke(state, config=config)
        answer, pages = final["answer"], final["pages"]
    except asyncio.CancelledError:
        await run.emit(Event(ERROR, {"kind": "cancelled", "message": "the run was cancelled"}, agent=run.agent))
        raise
    except Exception as exc:
        log.exception("agent run crashed on %r", run.question)
        await run.emit(Event(ERROR, {"kind": "internal", "message": f"{type(exc).__name__}: {exc}"}, agent=run.agent))
        answer = Answer(
            mode="agentic",
            question=run.question,
            text=f"The run failed: internal error ({type(exc).__name__}: {exc}).",
            status="failed",
            error=f"internal error: {type(exc).__name__}: {exc}",
        )
        pages = set()
    answer.metrics.latency_s = round(time.monotonic() - run.started, 3)
    answer.metrics.pages_read = len(pages)
    return answer, pages
