"""The research agent as a LangGraph state graph; the wiring at the bottom is the whole loop, one edge per line.

A model turn proposes tool calls or an answer. Tool calls are planned (budgets; the model policy's loop breaking),
run concurrently and recorded; the transcript is compacted when it nears its budget; then the model takes another
turn. A proposed answer has its citations checked; failures send the model round once more. When a budget runs out,
one last model call answers from the evidence gathered. `python -m agent.graph --mermaid` draws it.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agent.answer import Answer, ToolRecord
from agent.compaction import compact, needs_compaction
from agent.corpus_access import is_doc, text_of
from agent.drafts import ANSWER_TOOL, Draft, check_draft, draft_from_call, draft_from_response, draft_from_text, settle
from agent.events import BUDGET, CITATION_CHECK, ERROR, MODEL_STARTED, MODEL_TURN, TOOL_CALL, TOOL_RESULT, Event, summarize
from agent.figure_check import figure_problems
from agent.llm import LLMError, LLMResponse, ToolCallRequest
from agent.memory import facts_read
from agent.policy import PlannedCall
from agent.progress import complete_streaming
from agent.prompts import load
from agent.state import SUBQUESTION_TOOL, AgentRun, AgentState, Observation, call_label
from tools.registry import REGISTRY, ToolOutcome
from tools.tokens import count_tokens

log = logging.getLogger(__name__)


def _run(config: RunnableConfig) -> AgentRun:
    return config["configurable"]["run"]


def budget_exhausted(state: AgentState, run: AgentRun) -> str | None:
    """The budget that has run out, in words, or None."""
    if state["turns"] >= run.max_steps:
        return f"step budget: {run.max_steps} model turns"
    if run.remaining_s() <= 0:
        return f"time budget: {run.deadline - run.started:.0f} s"
    if run.transcript_tokens(state["messages"]) > run.context_budget:
        return f"context budget: {run.context_budget:,} tokens"
    return None


# --- nodes ---


async def call_model(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """One model turn: tool calls to plan, a draft answer to check, or a malformed reply to send back."""
    run = _run(config)
    if reason := budget_exhausted(state, run):
        return {"stop": reason}
    turn = state["turns"] + 1
    await run.emit(
        Event(MODEL_STARTED, {"step": turn, "prompt_tokens": run.transcript_tokens(state["messages"])}, agent=run.agent)
    )
    try:
        schemas = run.policy.offered(run.tool_schemas, state.get("memory"))
        response = await asyncio.wait_for(
            complete_streaming(run, state["messages"], schemas, turn), timeout=max(1.0, run.remaining_s())
        )
    except TimeoutError:
        return {"stop": f"time budget: {run.deadline - run.started:.0f} s"}
    except LLMError as exc:
        return {"failure": str(exc)}
    metrics = state["metrics"].model_copy()
    metrics.add_usage(response.usage)
    await run.emit(Event(MODEL_TURN, _turn_event(turn, response), agent=run.agent))
    update: dict[str, Any] = {"turns": turn, "metrics": metrics}
    return update | _read_turn(state, run, response, state["messages"] + [run.policy.transcript_message(response)])


def _read_turn(state: AgentState, run: AgentRun, response: LLMResponse, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What a model turn asks for: tool calls, an answer (call or text), or a word back about a reply that is neither."""
    answers = [c for c in response.tool_calls if c.name == ANSWER_TOOL]
    errors = response.text_call_errors
    fix = "Your tool call could not be used:\n" + "\n".join(f"- {e}" for e in errors) if errors else None
    if any(c.name != ANSWER_TOOL for c in response.tool_calls):
        return {"messages": messages, "pending": response.tool_calls, "feedback": fix}
    if answers:
        # One answer per turn; every other answer call still gets its result, as the chat protocol requires.
        ignored = [_result_message(run, c, "Ignored: only the first answer call of a turn is used.") for c in answers[1:]]
        draft = draft_from_call(answers[0], run.policy)
        if isinstance(draft, str):
            return {"messages": messages + [_result_message(run, answers[0], draft)] + ignored}
        return {"messages": messages + ignored, "draft": draft}
    if fix:
        return {"messages": messages + [{"role": "user", "content": fix}]}
    if response.finish_reason == "length":
        cut = "Your reply was cut off at the output limit. Be shorter: call one tool, or call answer with a brief answer."
        return {"messages": messages + [{"role": "user", "content": cut}]}
    if response.content.strip():
        draft = draft_from_text(response.content, lambda d: is_doc(run.tools, d))
        if not draft.citations and not state["nudged"]:  # likely thinking aloud, not an answer: ask once
            nudge = (
                "If that is your final answer, call the answer tool with citations (doc_id, page, quote); "
                "otherwise call a tool to continue the research."
            )
            return {"messages": messages + [{"role": "user", "content": nudge}], "nudged": True}
        return {"messages": messages, "draft": draft}
    # An empty turn is not kept (no server need accept an empty assistant message); the model is asked again with a nudge.
    empty = "Your reply was empty. Call a tool to continue the research, or the answer tool to finish."
    return {"messages": state["messages"] + [{"role": "user", "content": empty}]}


async def plan_tools(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Decide what each of the turn's calls does: run, or return an error (answer not alone, the tool-call budget used
    up); then the policy plans around loops (the lenient policy's; the strict policy runs every call as asked)."""
    run = _run(config)
    planned: list[PlannedCall] = []
    stop = None
    for call in state["pending"]:
        refused = None
        if call.name == ANSWER_TOOL:
            refused = "Error: call answer alone, after you have seen the results of your other tool calls."
        elif run.tool_calls_left() <= 0:
            refused = "Error: not run, the tool-call budget is used up; answer with what you have."
            stop = stop or (
                f"tool-call budget: {_calls(run.max_tool_calls)}"
                if run.tool_calls >= run.max_tool_calls
                else f"tool-call budget: {_calls(run.settings.max_tool_calls)} shared with sub-agents"
            )
        else:
            run.tool_calls += 1
            run.shared.tool_calls_left -= 1
        planned.append(PlannedCall(call, call, refused))
    in_view = {o.label for o in state["observations"] if not o.compacted}
    names = {s["function"]["name"] for s in run.tool_schemas}
    planned, memory = run.policy.plan(planned, state.get("memory"), in_view, names)
    update: dict[str, Any] = {"planned": planned, "pending": [], "memory": memory}
    return update | {"stop": stop} if stop else update


async def run_tools(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Run the planned calls concurrently (at most max_parallel_tools at once); refused ones yield their error."""
    run = _run(config)
    planned: list[PlannedCall] = state["planned"]
    if any(p.runs.name == "search" and p.refused is None for p in planned):
        await _open_searcher(run)
    gate = asyncio.Semaphore(run.settings.max_parallel_tools)

    async def one(p: PlannedCall) -> tuple[ToolOutcome, Any]:
        async with gate:
            return await _execute(run, p.runs, p.refused)

    outcomes = await asyncio.gather(*(one(p) for p in planned))
    memory = run.policy.review(planned, [outcome for outcome, _child in outcomes], state.get("memory"))
    for p, (outcome, _child) in zip(planned, outcomes, strict=True):
        outcome.text = p.note + outcome.text
    return {"outcomes": outcomes, "memory": memory}


async def record(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Every call gets its result message, as the model made it (whatever ran instead); the trace, pages and metrics grow."""
    run = _run(config)
    messages, observations = list(state["messages"]), list(state["observations"])
    records, pages = list(state["tool_records"]), set(state["pages"])
    metrics = state["metrics"].model_copy()
    for p, (outcome, child) in zip(state["planned"], state["outcomes"], strict=True):
        call, label = p.call, call_label(p.call)
        messages.append(_result_message(run, call, outcome.text, label))
        observations.append(Observation(len(messages) - 1, label, count_tokens(outcome.text), outcome.citations or []))
        records.append(
            ToolRecord(
                agent=run.agent,
                name=call.name,
                arguments=call.arguments or {},
                ok=outcome.ok,
                summary=summarize(outcome.text, 160),
                seconds=round(outcome.seconds, 3),
                facts=facts_read(outcome.result) if outcome.ok else [],
            )
        )
        pages |= {(c.doc_id, c.page) for c in outcome.citations or []}
        metrics.tool_calls += p.refused is None  # refused and rejected calls were not run
        if child is not None:  # a sub-agent's own work counts toward this run
            child_answer, child_pages = child
            records += child_answer.steps
            pages |= child_pages
            metrics.absorb(child_answer.metrics)
    if state.get("feedback"):  # malformed calls written next to good ones
        messages.append({"role": "user", "content": state["feedback"]})
    return {
        "messages": messages,
        "observations": observations,
        "tool_records": records,
        "pages": pages,
        "metrics": metrics,
        "planned": [],
        "outcomes": [],
        "feedback": None,
    }


async def compact_context(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Compact older observations (the transcript nears its budget); stop if it cannot be brought under it."""
    run = _run(config)
    update = await compact(state, run)
    messages = update.get("messages", state["messages"])
    if run.transcript_tokens(messages) > run.context_budget:
        update["stop"] = f"context budget: {run.context_budget:,} tokens"
    return update


async def force_answer(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """A budget ran out: one last model call, answer tool only, to answer from the evidence gathered."""
    run = _run(config)
    reason = state["stop"]
    await run.emit(Event(BUDGET, {"reason": reason}, agent=run.agent))
    fitted: dict[str, Any] = {}
    if run.transcript_tokens(state["messages"]) > run.context_budget:
        fitted = await compact(state, run, force=True)  # the last call must fit the window: shrink everything, no model
    messages = fitted.get("messages", state["messages"]) + [{"role": "user", "content": load("budget").format(reason=reason)}]
    schemas = [s for s in run.tool_schemas if s["function"]["name"] == ANSWER_TOOL]
    choice = {"type": "function", "function": {"name": ANSWER_TOOL}}
    grace = max(1.0, run.hard_deadline - time.monotonic())
    turn = state["turns"] + 1
    await run.emit(Event(MODEL_STARTED, {"step": turn, "prompt_tokens": run.transcript_tokens(messages)}, agent=run.agent))
    try:
        response = await asyncio.wait_for(complete_streaming(run, messages, schemas, turn, tool_choice=choice), timeout=grace)
    except (TimeoutError, LLMError) as exc:
        detail = str(exc) or f"no answer within {grace:.0f} s"
        return {"failure": f"the research budget ran out ({reason}) and the final answer could not be written: {detail}"}
    metrics = fitted.get("metrics", state["metrics"]).model_copy()
    metrics.add_usage(response.usage)
    await run.emit(Event(MODEL_TURN, _turn_event(turn, response), agent=run.agent))
    draft = draft_from_response(response, lambda d: is_doc(run.tools, d), run.policy)
    if not isinstance(draft, Draft):
        draft = Draft(f"No answer: the research budget ran out ({reason}) before the evidence was conclusive.", citations=[])
    draft.status = "truncated"
    return {
        "draft": draft,
        "metrics": metrics,
        "warnings": state["warnings"] + [f"budget ran out ({reason}); answered from the evidence gathered so far"],
    }


async def check_citations(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Check the draft's citations; send failures back to the model once (in budget), else settle the answer."""
    run = _run(config)
    draft: Draft = state["draft"]
    checked, problems = await asyncio.to_thread(check_draft, draft, lambda d: text_of(run.tools, d))
    problems += await asyncio.to_thread(figure_problems, draft.text, run.question, checked, run.tools)  # wrong period or unit
    await run.emit(Event(CITATION_CHECK, {"checked": len(checked), "failed": problems}, agent=run.agent))
    if problems and state["repairs"] > 0 and draft.status != "truncated" and not budget_exhausted(state, run):
        feedback = load("repair").format(problems="\n".join(f"- {p}" for p in problems))
        message = _result_message(run, draft.call, feedback) if draft.call else {"role": "user", "content": feedback}
        return {"messages": state["messages"] + [message], "draft": None, "repairs": state["repairs"] - 1}
    status, warnings = settle(draft, checked, problems, state["warnings"])
    answer = Answer(
        mode="agentic",
        question=run.question,
        text=draft.text,
        status=status,
        citations=checked,
        steps=state["tool_records"],
        metrics=state["metrics"],
        warnings=warnings,
        chart=draft.chart,
    )
    return {"answer": answer}


async def fail(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """The run cannot go on (the model endpoint failed): a failed answer with the trace so far."""
    run = _run(config)
    await run.emit(Event(ERROR, {"kind": "llm", "message": state["failure"]}, agent=run.agent))
    answer = Answer(
        mode="agentic",
        question=run.question,
        text=f"The run failed: {state['failure']}",
        status="failed",
        steps=state["tool_records"],
        metrics=state["metrics"],
        warnings=state["warnings"],
        error=state["failure"],
    )
    return {"answer": answer}


# --- helpers ---


async def _open_searcher(run: AgentRun) -> None:
    """Open the shared searcher once before concurrent calls use it (each call runs on a copy of the tool context)."""
    try:
        await asyncio.to_thread(lambda: run.tools.searcher)
    except Exception as exc:  # noqa: BLE001 - the search call itself reports it to the model as a tool error
        log.debug("searcher did not open: %s", exc)


async def _execute(run: AgentRun, call: ToolCallRequest, refused: str | None) -> tuple[ToolOutcome, Any]:
    """One tool call; returns its outcome and, for a sub-agent, (its Answer, pages it saw)."""
    await run.emit(Event(TOOL_CALL, {"id": call.id, "name": call.name, "arguments": call.arguments}, agent=run.agent))
    started = time.perf_counter()
    child = None
    if refused is None and call.arguments is None:
        refused = f"Error: the arguments of {call.name} are not valid JSON ({call.raw_arguments[:120]!r}); send a JSON object."
    if refused is not None:
        outcome = ToolOutcome(call.name, call.arguments or {}, False, refused)
    else:
        try:
            outcome, child = await _dispatch(run, call)
        except Exception as exc:  # a bug in one tool must not take the run (and its other calls) down
            log.exception("tool %s crashed on %r", call.name, call.arguments)
            outcome = ToolOutcome(
                call.name,
                call.arguments,
                False,
                f"Error: {call.name} failed with an internal error ({type(exc).__name__}); try another tool or other arguments.",
            )
    outcome.seconds = outcome.seconds or (time.perf_counter() - started)
    pages = sorted({(c.doc_id, c.page) for c in outcome.citations or []})
    await run.emit(
        Event(
            TOOL_RESULT,
            {
                "id": call.id,
                "name": call.name,
                "ok": outcome.ok,
                "summary": summarize(outcome.text),
                "tokens": count_tokens(outcome.text),
                "pages": [f"{d} p.{p}" for d, p in pages[:20]],
                "seconds": round(outcome.seconds, 3),
            },
            agent=run.agent,
        )
    )
    return outcome, child


# Tool calls run in threads of their own: a slow or hung one never holds a thread of the default pool the API's routes use.
TOOL_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="sleuth-tool")


async def _dispatch(run: AgentRun, call: ToolCallRequest) -> tuple[ToolOutcome, Any]:
    if call.name == SUBQUESTION_TOOL and run.subagent is not None:
        return await run.subagent(run, call.arguments)
    # The tool enforces its own limit; this catches a hung thread, and keeps the call inside the run's time budget.
    limit = min(run.tools.settings.timeout_s + 10, max(5.0, run.remaining_s()))
    try:
        work = functools.partial(contextvars.copy_context().run, REGISTRY.call, call.name, call.arguments, copy.copy(run.tools))
        return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(TOOL_THREADS, work), limit), None
    except TimeoutError:
        return ToolOutcome(
            call.name, call.arguments, False, f"Error: {call.name} did not finish within {limit:.0f} s; narrow the call."
        ), None


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _result_message(run: AgentRun, call: ToolCallRequest, text: str, label: str | None = None) -> dict[str, Any]:
    if call.from_text or run.text_mode:
        return {"role": "user", "content": f"[Result of {label or call.name}]\n{text}"}
    return {"role": "tool", "tool_call_id": call.id, "content": text}


def _turn_event(turn: int, response: LLMResponse) -> dict[str, Any]:
    return {
        "step": turn,
        "content": response.content,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls],
        "usage": {"prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens},
        "seconds": round(response.usage.seconds, 3),
    }


# --- routing: one small function per node with a choice ---


def after_model(state: AgentState) -> str:
    if state.get("failure"):
        return "fail"
    if state.get("stop"):
        return "force_answer"
    if state.get("draft"):
        return "check_citations"
    return "plan_tools" if state.get("pending") else "call_model"


def after_record(state: AgentState, config: RunnableConfig) -> str:
    if state.get("stop"):
        return "force_answer"
    return "compact_context" if needs_compaction(state, _run(config)) else "call_model"


def after_compaction(state: AgentState) -> str:
    return "force_answer" if state.get("stop") else "call_model"


def after_force(state: AgentState) -> str:
    return "fail" if state.get("failure") else "check_citations"


def after_check(state: AgentState) -> str:
    return END if state.get("answer") else "call_model"


# --- wiring ---

builder = StateGraph(AgentState)
builder.add_node("call_model", call_model)
builder.add_node("plan_tools", plan_tools)
builder.add_node("run_tools", run_tools)
builder.add_node("record", record)
builder.add_node("compact_context", compact_context)
builder.add_node("check_citations", check_citations)
builder.add_node("force_answer", force_answer)
builder.add_node("fail", fail)
builder.add_edge(START, "call_model")
builder.add_conditional_edges("call_model", after_model, ["fail", "force_answer", "check_citations", "plan_tools", "call_model"])
builder.add_edge("plan_tools", "run_tools")
builder.add_edge("run_tools", "record")
builder.add_conditional_edges("record", after_record, ["force_answer", "compact_context", "call_model"])
builder.add_conditional_edges("compact_context", after_compaction, ["force_answer", "call_model"])
builder.add_conditional_edges("check_citations", after_check, [END, "call_model"])
builder.add_conditional_edges("force_answer", after_force, ["fail", "check_citations"])
builder.add_edge("fail", END)
GRAPH = builder.compile()


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--mermaid"]:
        sys.exit("usage: python -m agent.graph --mermaid")
    print(GRAPH.get_graph().draw_mermaid())
