"""Every step of a run as an event: what the API stores and streams, and what the CLI prints live."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# Event types, in the order a run produces them.
RUN_STARTED = "run_started"  # {question, mode, filters}
CONDENSE = "condense"  # RAG follow-up: {question, condensed, seconds, usage}: the question rewritten to stand alone
RETRIEVAL = "retrieval"  # RAG: {query, passages: [{doc_id, pages, lines, section}], seconds}
MODEL_STARTED = "model_started"  # {step, prompt_tokens}: a model turn begins (prompt_tokens estimated); its model_turn ends it
MODEL_PROGRESS = "model_progress"  # {step, tokens, chars, seconds, tail}: a streamed turn's reply so far (throttled)
MODEL_TURN = "model_turn"  # {step, content, tool_calls: [{id, name, arguments}], usage, seconds}
TOOL_CALL = "tool_call"  # {id, name, arguments}
TOOL_RESULT = "tool_result"  # {id, name, ok, summary, tokens, pages, seconds}
COMPACTION = "compaction"  # {observations, tokens_before, tokens_after}
SUBAGENT_STARTED = "subagent_started"  # {agent, question}
SUBAGENT_FINISHED = "subagent_finished"  # {agent, status, citations}
BUDGET = "budget"  # {reason}: a budget ran out; the agent answers from what it has
CITATION_CHECK = "citation_check"  # {checked, failed: [...]}
ANSWER = "answer"  # the Answer as a dict
ERROR = "error"  # {kind, message}


@dataclass
class Event:
    """One step of a run; `arm` tells compare-mode arms apart, `agent` the main agent from sub-agents."""

    type: str
    data: dict[str, Any]
    arm: str | None = None
    agent: str = "main"
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "arm": self.arm, "agent": self.agent, "ts": self.ts, "data": self.data}


Emit = Callable[[Event], Awaitable[None]]


async def discard(event: Event) -> None:
    """An Emit that drops events (runs nobody watches)."""


def tagged(emit: Emit, *, arm: str) -> Emit:
    """An Emit that stamps events with a compare-mode arm before passing them on."""

    async def forward(event: Event) -> None:
        event.arm = arm
        await emit(event)

    return forward


def summarize(text: str, limit: int = 240) -> str:
    """The first lines of a tool result, for the trace (the model sees it whole)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
