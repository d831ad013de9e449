"""The research agent as a LangGraph state graph: model -> tools (concurrently, then compaction) -> model ... -> checked answer.

A proposed answer is checked in the step that proposed it (`finish`); failed citations send the model round again.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agent.answer import Answer, Step
from agent.compaction import compact, needs_compaction
from agent.corpus_access import is_doc, text_of
from agent.drafts import ANSWER_TOOL, Draft, check_draft, draft_from_call, draft_from_response, draft_from_text, settle
from agent.figure_check import figure_problems
from agent.events import BUDGET, CITATION_CHECK, ERROR, MODEL_STARTED, MODEL_TURN, TOOL_CALL, TOOL_RESULT, Event, summarize
from agent.llm import LLMError, LLMResponse, ToolCallRequest
from agent.loops import REPEAT_LIMIT, call_key, refusal, repeated, suggested_call
from agent.progress import complete_streaming
from agent.prompts import load
from agent.state import SUBQUESTION_TOOL, AgentRun, AgentState, Observation
from tools.registry import REGISTRY, ToolCall
from tools.tokens import count_tokens

log = logging.getLogger(__name__)


def _run(config: RunnableConfig) -> AgentRun:
    return config["configurable"]["run"]


def budget_exhausted(state: AgentState, run: AgentRun) -> str | None:
    """The budget that has run out, in words, or None."""
    if state["step"] >= run.max_steps:
        return f"step budget: {run.max_steps} model turns"
    if run.remaining_s() <= 0:
        return f"time budget: {run.deadline - run.started:.0f} s"
    if run.transcript_tokens(state["messages"]) > run.context_budget:
        return f"context budget: {run.context_budget:,} tokens"
    return None


# --- nodes ---


async def call_model(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """One model turn: a final answer, tool calls to run, or a malformed reply to send back."""
    run = _run(config)
    if reason := budget_exhausted(state, run):
        return {"stop": reason}
    started = {"step": state["step"] + 1, "prompt_tokens": run.transcript_tokens(state["messages"])}
    await run.emit(Event(MODEL_STARTED, started, agent=run.agent))  # a slow model's turn shows as in progress meanwhile
    try:
        schemas = _offered(run.tool_schemas, state.get("withheld") or [])
        response = await asyncio.wait_for(complete_streaming(run, state["messages"], schemas, started["step"]), timeout=max(1.0, run.remaining_s()))
    except TimeoutError:
        return {"stop": f"time budget: {run.deadline - run.started:.0f} s"}
    except LLMError as exc:
        return {"failure": str(exc)}
    step = state["step"] + 1
    metrics = state["metrics"].model_copy()
    metrics.add_usage(response.usage)
    await run.emit(Event(MODEL_TURN, _turn_event(step, response), agent=run.agent))
    messages = state["messages"] + [_assistant_message(response, run.text_mode)]
    update: dict[str, Any] = {"step": step, "metrics": metrics}
    answers = [c for c in response.tool_calls if c.name == ANSWER_TOOL]
    others = [c for c in response.tool_calls if c.name != ANSWER_TOOL]
    fix = "Your tool call could not be used:\n" + "\n".join(f"- {e}" for e in response.text_call_errors) if response.text_call_errors else None
    if others:
        return {**update, "messages": messages, "pending": response.tool_calls, "feedback": fix}
    if answers:
        # One answer per turn; every other answer call still gets its result, as the chat protocol requires.
        ignored = [_result_message(c, "Ignored: only the first answer call of a turn is used.", run.text_mode) for c in answers[1:]]
        draft = draft_from_call(answers[0])
        if isinstance(draft, str):
            return {**update, "messages": messages + [_result_message(answers[0], draft, run.text_mode)] + ignored}
        return await _settled({**update, "messages": messages + ignored, "draft": draft}, state, config)
    if fix:
        return {**update, "messages": messages + [{"role": "user", "content": fix}]}
    if response.finish_reason == "length":
        cut = "Your reply was cut off at the output limit. Be shorter: call one tool, or call answer with a brief answer."
        return {**update, "messages": messages + [{"role": "user", "content": cut}]}
    if response.content.strip():
        draft = draft_from_text(response.content, lambda d: is_doc(run.tools, d))
        if not draft.citations and not state["nudged"]:  # likely thinking aloud, not an answer: ask once
            nudge = ("If that is your final answer, call the answer tool with citations (doc_id, page, quote); "
                     "otherwise call a tool to continue the research.")  # fmt: skip
            return {**update, "messages": messages + [{"role": "user", "content": nudge}], "nudged": True}
        return await _settled({**update, "messages": messages, "draft": draft}, state, config)
    empty = "Your reply was empty. Call a tool to continue the research, or the answer tool to finish."
    return {**update, "messages": messages + [{"role": "user", "content": empty}]}


async def run_tools(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Run the turn's tool calls concurrently (bounded), in budget; every call gets a result message."""
    run = _run(config)
    calls: list[ToolCallRequest] = state["pending"]
    calls_by_id = {c.id: c for c in calls}
    planned: list[tuple[ToolCallRequest, str | None]] = []  # (call, error to return instead of running it)
    refused = 0
    exhausted = None
    for call in calls:
        if call.name == ANSWER_TOOL:
            planned.append((call, "Error: call answer alone, after you have seen the results of your other tool calls."))
        elif run.tool_calls_left() <= 0:
            planned.append((call, "Error: not run, the tool-call budget is used up; answer with what you have."))
            refused += 1
            exhausted = exhausted or (
                f"tool-call budget: {_calls(run.max_tool_calls)}" if run.tool_calls >= run.max_tool_calls
                else f"tool-call budget: {_calls(run.settings.max_tool_calls)} shared with sub-agents"
            )
        else:
            run.tool_calls += 1
            run.shared.tool_calls_left -= 1
            planned.append((call, None))
    failures: dict[str, tuple[int, str]] = dict(state.get("failures") or {})
    withheld: set[str] = set()
    succeeded: dict[str, int] = dict(state.get("succeeded") or {})
    in_view = {o.label for o in state["observations"] if not o.compacted}
    planned, redirects = _break_loops(run, planned, failures, withheld)
    planned = _no_repeats(planned, succeeded, in_view, withheld)
    if any(c.name == "search" and error is None for c, error in planned):
        await _open_searcher(run)
    gate = asyncio.Semaphore(run.settings.max_parallel_tools)

    async def one(call: ToolCallRequest, error: str | None) -> tuple[ToolCall, Any]:
        async with gate:
            return await _execute(run, call, error)

    outcomes = await asyncio.gather(*(one(call, error) for call, error in planned))
    for i, ((call, error), (result, _child)) in enumerate(zip(planned, outcomes, strict=True)):
        key = call_key(call.name, call.arguments)
        if i in redirects:
            result.text = redirects[i] + result.text
        elif result.ok and error is None and call.name != SUBQUESTION_TOOL:
            succeeded[key] = 1
        elif not result.ok and error is None:
            count, _text = failures.get(key, (0, ""))
            failures[key] = (count + 1, result.text)
            if count:  # small models repeat a failing call verbatim; say so plainly
                result.text = f"You made exactly this call before and it failed the same way; change the arguments or use another tool.\n{result.text}"
    planned = [(_original(call, redirects, i, calls_by_id), error) for i, (call, error) in enumerate(planned)]
    messages = list(state["messages"])
    observations = list(state["observations"])
    steps, pages = list(state["steps"]), set(state["pages"])
    metrics = state["metrics"].model_copy()
    for (call, error), (result, child) in zip(planned, outcomes, strict=True):
        label = _label(call)
        messages.append(_result_message(call, result.text, run.text_mode, label))
        observations.append(Observation(len(messages) - 1, label, count_tokens(result.text), result.citations or []))
        steps.append(Step(agent=run.agent, name=call.name, arguments=call.arguments or {}, ok=result.ok,
                          summary=summarize(result.text, 160), seconds=round(result.seconds, 3)))  # fmt: skip
        pages |= {(c.doc_id, c.page) for c in result.citations or []}
        metrics.tool_calls += error is None  # refused and rejected calls were not run
        if child is not None:  # a sub-agent's own work counts toward this run
            child_answer, child_pages = child
            steps += child_answer.steps
            pages |= child_pages
            metrics.absorb(child_answer.metrics)
    update: dict[str, Any] = {"messages": messages, "observations": observations, "steps": steps, "pages": pages,
                              "metrics": metrics, "pending": [], "feedback": None, "failures": failures, "succeeded": succeeded,
                              "withheld": sorted(withheld)}  # fmt: skip
    if state.get("feedback"):  # malformed calls written next to good ones
        messages.append({"role": "user", "content": state["feedback"]})
    if refused:
        update["stop"] = exhausted
        return update
    # Compaction belongs to this step: one graph step per turn fewer (each costs ~1 ms of LangGraph bookkeeping).
    return update | await compact_context({**state, **update}, config)


async def compact_context(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Compact older observations when the transcript nears the budget; stop if it cannot be brought under it."""
    run = _run(config)
    if not needs_compaction(state, run):
        return {}
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
    await run.emit(Event(MODEL_STARTED, {"step": state["step"] + 1, "prompt_tokens": run.transcript_tokens(messages)}, agent=run.agent))
    try:
        response = await asyncio.wait_for(complete_streaming(run, messages, schemas, state["step"] + 1, tool_choice=choice), timeout=grace)
    except (TimeoutError, LLMError) as exc:
        detail = str(exc) or f"no answer within {grace:.0f} s"
        return {"failure": f"the research budget ran out ({reason}) and the final answer could not be written: {detail}"}
    metrics = fitted.get("metrics", state["metrics"]).model_copy()
    metrics.add_usage(response.usage)
    await run.emit(Event(MODEL_TURN, _turn_event(state["step"] + 1, response), agent=run.agent))
    draft = draft_from_response(response, lambda d: is_doc(run.tools, d))
    if not isinstance(draft, Draft):
        draft = Draft(f"No answer: the research budget ran out ({reason}) before the evidence was conclusive.", citations=[])
    draft.status = "truncated"
    update = {"draft": draft, "metrics": metrics, "warnings": state["warnings"] + [f"budget ran out ({reason}); answered from the evidence gathered so far"]}
    return await _settled(update, state, config)


async def finish(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Check the draft's citations; send failures back to the model once (in budget), else settle the answer."""
    run = _run(config)
    draft: Draft = state["draft"]
    checked, problems = await asyncio.to_thread(check_draft, draft, lambda d: text_of(run.tools, d))
    problems += await asyncio.to_thread(figure_problems, draft.text, run.question, checked, run.tools)  # wrong period or unit
    await run.emit(Event(CITATION_CHECK, {"checked": len(checked), "failed": problems}, agent=run.agent))
    if problems and state["repairs"] > 0 and draft.status != "truncated" and not budget_exhausted(state, run):
        feedback = load("repair").format(problems="\n".join(f"- {p}" for p in problems))
        message = _result_message(draft.call, feedback, run.text_mode) if draft.call else {"role": "user", "content": feedback}
        return {"messages": state["messages"] + [message], "draft": None, "repairs": state["repairs"] - 1}
    status, warnings = settle(draft, checked, problems, state["warnings"])
    answer = Answer(mode="agentic", question=run.question, text=draft.text, status=status, citations=checked,
                    steps=state["steps"], metrics=state["metrics"], warnings=warnings, chart=draft.chart)  # fmt: skip
    return {"answer": answer}


async def fail(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    run = _run(config)
    await run.emit(Event(ERROR, {"kind": "llm", "message": state["failure"]}, agent=run.agent))
    answer = Answer(mode="agentic", question=run.question, text=f"The run failed: {state['failure']}", status="failed",
                    steps=state["steps"], metrics=state["metrics"], warnings=state["warnings"], error=state["failure"])  # fmt: skip
    return {"answer": answer}


# --- helpers ---


def _break_loops(
    run: AgentRun, planned: list[tuple[ToolCallRequest, str | None]], failures: dict[str, tuple[int, str]], withheld: set[str]
) -> tuple[list[tuple[ToolCallRequest, str | None]], dict[int, str]]:
    """A call that already failed twice identically is not run again: the call its error suggests runs instead, or the
    model is told what to do; a tool whose failing call keeps coming back is left out of the next turn's tools."""
    names = {s["function"]["name"] for s in run.tool_schemas}
    out: list[tuple[ToolCallRequest, str | None]] = []
    redirects: dict[int, str] = {}
    for i, (call, error) in enumerate(planned):
        key = call_key(call.name, call.arguments)
        count, text = failures.get(key, (0, ""))
        if error is not None or count < REPEAT_LIMIT:
            out.append((call, error))
            continue
        failures[key] = (count + 1, text)
        if count > REPEAT_LIMIT:
            withheld.add(call.name)
        redirect = suggested_call(text, names - {ANSWER_TOOL, SUBQUESTION_TOOL}, key)
        message = refusal(call.name, text, count, redirect)
        if redirect is None:
            withheld.add(call.name)  # one turn without the tool: the model has to take another way
            out.append((call, message))
            continue
        redirects[i] = message
        out.append((ToolCallRequest(call.id, redirect[0], redirect[1], from_text=call.from_text), None))
    return out, redirects


def _no_repeats(planned: list[tuple[ToolCallRequest, str | None]], succeeded: dict[str, int], in_view: set[str],
                withheld: set[str]) -> list[tuple[ToolCallRequest, str | None]]:  # fmt: skip
    """A call that already succeeded, with its result still in the transcript (not compacted), is not run again: the
    model is sent back to that result; asked a second time, the tool is left out of the next turn."""
    out = []
    for call, error in planned:
        key = call_key(call.name, call.arguments)
        count = succeeded.get(key, 0)
        if error is None and count and _label(call) in in_view:
            succeeded[key] = count + 1
            if count >= REPEAT_LIMIT:
                withheld.add(call.name)
            error = repeated(call.name, count)
        out.append((call, error))
    return out


def _original(call: ToolCallRequest, redirects: dict[int, str], i: int, calls_by_id: dict[str, ToolCallRequest]) -> ToolCallRequest:
    """The call as the model made it (its result message answers that call, whatever ran instead)."""
    return calls_by_id.get(call.id, call) if i in redirects else call


def _offered(schemas: list[dict[str, Any]], withheld: list[str]) -> list[dict[str, Any]]:
    if not withheld:
        return schemas
    kept = [s for s in schemas if s["function"]["name"] not in withheld]
    return kept if any(s["function"]["name"] != ANSWER_TOOL for s in kept) else schemas


async def _settled(update: dict[str, Any], state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """A draft was proposed: check it in the same graph step (one LangGraph step per answer fewer)."""
    return update | await finish({**state, **update}, config)


async def _open_searcher(run: AgentRun) -> None:
    """Open the shared searcher once before concurrent calls use it (each call runs on a copy of the tool context)."""
    try:
        await asyncio.to_thread(lambda: run.tools.searcher)
    except Exception as exc:  # noqa: BLE001 - the search call itself reports it to the model as a tool error
        log.debug("searcher did not open: %s", exc)


async def _execute(run: AgentRun, call: ToolCallRequest, error: str | None) -> tuple[ToolCall, Any]:
    """One tool call; returns its ToolCall and, for a sub-agent, (its Answer, pages it saw)."""
    await run.emit(Event(TOOL_CALL, {"id": call.id, "name": call.name, "arguments": call.arguments}, agent=run.agent))
    started = time.perf_counter()
    child = None
    if error is None and call.arguments is None:
        error = f"Error: the arguments of {call.name} are not valid JSON ({call.raw_arguments[:120]!r}); send a JSON object."
    if error is not None:
        result = ToolCall(call.name, call.arguments or {}, False, error)
    else:
        try:
            result, child = await _dispatch(run, call)
        except Exception as exc:  # a bug in one tool must not take the run (and its other calls) down
            log.exception("tool %s crashed on %r", call.name, call.arguments)
            result = ToolCall(call.name, call.arguments, False, f"Error: {call.name} failed with an internal error "
                                                                f"({type(exc).__name__}); try another tool or other arguments.")  # fmt: skip
    result.seconds = result.seconds or (time.perf_counter() - started)
    pages = sorted({(c.doc_id, c.page) for c in result.citations or []})
    await run.emit(Event(TOOL_RESULT, {"id": call.id, "name": call.name, "ok": result.ok, "summary": summarize(result.text),
                                       "tokens": count_tokens(result.text), "pages": [f"{d} p.{p}" for d, p in pages[:20]],
                                       "seconds": round(result.seconds, 3)}, agent=run.agent))  # fmt: skip
    return result, child


async def _dispatch(run: AgentRun, call: ToolCallRequest) -> tuple[ToolCall, Any]:
    if call.name == SUBQUESTION_TOOL and run.subagent is not None:
        return await run.subagent(run, call.arguments)
    # The tool enforces its own limit; this catches a hung thread, and keeps the call inside the run's time budget.
    limit = min(run.tools.settings.timeout_s + 10, max(5.0, run.remaining_s()))
    try:
        return await asyncio.wait_for(asyncio.to_thread(REGISTRY.call, call.name, call.arguments, copy.copy(run.tools)), limit), None
    except TimeoutError:
        return ToolCall(call.name, call.arguments, False, f"Error: {call.name} did not finish within {limit:.0f} s; narrow the call."), None


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _label(call: ToolCallRequest) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in (call.arguments or {}).items())
    return f"{call.name}({args[:160]})"


def _assistant_message(response: LLMResponse, text_mode: bool) -> dict[str, Any]:
    """The turn as the transcript keeps it; calls written in text are kept in canonical <tool_call> form."""
    message = response.assistant_message()
    written = [c for c in response.tool_calls if c.from_text]
    if written:
        blocks = "".join(f"\n<tool_call>{json.dumps({'name': c.name, 'arguments': c.arguments})}</tool_call>" for c in written)
        message["content"] = (response.content or "") + blocks
    return message


def _result_message(call: ToolCallRequest, text: str, text_mode: bool, label: str | None = None) -> dict[str, Any]:
    if call.from_text or text_mode:
        return {"role": "user", "content": f"[Result of {label or call.name}]\n{text}"}
    return {"role": "tool", "tool_call_id": call.id, "content": text}


def _turn_event(step: int, response: LLMResponse) -> dict[str, Any]:
    return {
        "step": step,
        "content": response.content,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls],
        "usage": {"prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens},
        "seconds": round(response.usage.seconds, 3),
    }


# --- routing ---


def after_model(state: AgentState) -> str:
    if state.get("failure"):
        return "fail"
    if state.get("answer"):
        return END
    if state.get("stop"):
        return "force_answer"
    return "tools" if state.get("pending") else "model"


def after_tools(state: AgentState) -> str:
    return "force_answer" if state.get("stop") else "model"


def after_force(state: AgentState) -> str:
    return "fail" if state.get("failure") else END


# --- wiring ---

builder = StateGraph(AgentState)
builder.add_node("model", call_model)
builder.add_node("tools", run_tools)
builder.add_node("force_answer", force_answer)
builder.add_node("fail", fail)
builder.add_edge(START, "model")
builder.add_conditional_edges("model", after_model, ["tools", "force_answer", "fail", "model", END])
builder.add_conditional_edges("tools", after_tools, ["model", "force_answer"])
builder.add_conditional_edges("force_answer", after_force, ["fail", END])
builder.add_edge("fail", END)
GRAPH = builder.compile()
