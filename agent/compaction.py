"""Context management: when the transcript nears the budget, older tool results shrink to their key facts and citations."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from agent.citations import figures
from agent.events import COMPACTION, Event
from agent.llm import LLMError
from agent.prompts import load
from agent.state import SUBQUESTION_TOOL, AgentRun, AgentState, Observation
from tools.tokens import CHARS_PER_TOKEN, count_tokens

_SUMMARY_INPUT_TOKENS = 12000  # what one compaction call reads at most
_WORTH_COMPACTING = 300  # smaller results (errors, short lists) would not shrink: the compaction note alone is ~60 tokens


def needs_compaction(state: AgentState, run: AgentRun) -> bool:
    return run.transcript_tokens(state["messages"]) > run.settings.compact_at * run.context_budget


def candidates(state: AgentState, run: AgentRun, *, force: bool = False) -> list[Observation]:
    """Observations that may be compacted, largest first: not yet compacted, not a sub-agent's findings (already key
    facts, and a sub-agent cannot always be run again), older than the last `keep_recent` unless `force`."""
    live = [
        o
        for o in state["observations"]
        if not o.compacted and o.tokens >= _WORTH_COMPACTING and not o.label.startswith(f"{SUBQUESTION_TOOL}(")
    ]
    older = live if force else live[: max(0, len(live) - run.settings.keep_recent)]
    return sorted(older, key=lambda o: -o.tokens)


async def compact(state: AgentState, run: AgentRun, *, force: bool = False) -> dict[str, Any]:
    """Shrink older observations until the transcript is back under the compaction threshold; returns the state update.

    force=True (the transcript must fit for a last call): recent results too, without a model call.
    """
    messages = list(state["messages"])
    before = run.transcript_tokens(messages)
    target = run.settings.compact_at * run.context_budget * 0.6
    chosen: list[Observation] = []
    excess = before - target
    pool = candidates(state, run)
    if force or sum(o.tokens for o in pool) < excess:  # the older results alone cannot bring it under: take recent ones too
        pool = candidates(state, run, force=True)
        if not force:  # but never results the model has not read yet: it would only ask for them again
            seen = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
            pool = [o for o in pool if o.message < seen]
    for obs in pool:
        if excess <= 0:
            break
        chosen.append(obs)
        excess -= obs.tokens
    if not chosen:
        return {}
    chosen.sort(key=lambda o: o.message)
    if force:
        summary, usage = "\n\n".join(_figure_lines(o.label, messages[o.message].get("content") or "") for o in chosen), None
    else:
        summary, usage = await _summarize(state, run, chosen, messages)
    metrics = state["metrics"].model_copy()
    if usage is not None:
        metrics.add_usage(usage)
    for i, obs in enumerate(chosen):
        cited = ", ".join(sorted({f"{c.doc_id} p.{c.page}" for c in obs.citations})) or "none"
        head = f"[Compacted earlier result of {obs.label}; call it again to see it in full. Pages it showed: {cited}]"
        body = summary if i == 0 else f"(its key facts are in the compacted result of {chosen[0].label})"
        messages[obs.message] = {**messages[obs.message], "content": f"{head}\n{body}"}
        obs.compacted = True
    metrics.compactions += 1
    after = run.transcript_tokens(messages)
    await run.emit(
        Event(
            COMPACTION,
            {"observations": [o.label for o in chosen], "tokens_before": before, "tokens_after": after},
            agent=run.agent,
        )
    )
    return {"messages": messages, "metrics": metrics}


async def _summarize(state: AgentState, run: AgentRun, chosen: list[Observation], messages: list[dict[str, Any]]):
    """Key facts of the chosen observations by the model; the figure lines themselves if the model fails."""
    room = min(_SUMMARY_INPUT_TOKENS, int(run.context_budget * 0.6))  # the compaction call must fit the window too
    per = max(200, room // len(chosen)) * CHARS_PER_TOKEN
    parts = [f"## {o.label}\n{(messages[o.message].get('content') or '')[:per]}" for o in chosen]
    # What the summarizer cannot read is not silently lost: its figure lines are kept as they are.
    unread = [
        _figure_lines(f"{o.label}, beyond what was summarized", text[per:])
        for o in chosen
        if len(text := messages[o.message].get("content") or "") > per
    ]
    prompt = [
        {"role": "system", "content": load("compact")},
        {"role": "user", "content": f"Question being researched: {run.question}\n\n" + "\n\n".join(parts)},
    ]
    try:
        timeout = max(5.0, min(run.remaining_s(), run.llm.settings.timeout_s))
        response = await asyncio.wait_for(run.llm.complete(prompt, max_tokens=min(1500, run.llm.settings.max_tokens)), timeout)
        if response.content.strip():
            return "\n\n".join([response.content.strip(), *unread]), response.usage
    except (LLMError, TimeoutError):
        pass
    return "\n\n".join(_figure_lines(o.label, messages[o.message].get("content") or "") for o in chosen), None


_NUMBERED = re.compile(r"^\s*(\d+)\| ?")
_PAGE_MARK = re.compile(r"^=== (\S+) page (\d+) ===$")
_VALUE_ONLY = re.compile(r"^[\s$%()\-—–.,\d]*$")


def _figure_lines(label: str, text: str, limit_tokens: int = 600) -> str:
    """Fallback summary without the model: table rows as 'label: values' and prose lines that carry figures, with pages."""
    rows: list[list[str]] = []  # [page, label, *values]
    page = ""
    for raw in text.splitlines():
        if mark := _PAGE_MARK.match(raw.strip()):
            page = f"p.{mark.group(2)}"
            continue
        line = _NUMBERED.sub("", raw).strip()
        if not line:
            continue
        if _VALUE_ONLY.match(line):
            if rows and figures(line):
                rows[-1].append(line)
            continue
        rows.append([page, line])
    out, used = [f"## {label}"], 0
    for row in rows:
        where, text_, values = row[0], row[1], row[2:]
        if not values and not figures(text_):
            continue
        entry = f"{where} {text_}" + (": " + " ".join(values) if values else "")
        used += count_tokens(entry)
        if used > limit_tokens:
            out.append("[...]")
            break
        out.append(entry.strip())
    return "\n".join(out)
