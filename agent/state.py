"""What an agent run carries: the graph state (changes every step) and the run's fixed context."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypedDict

from agent.answer import Answer, RunMetrics, ToolRecord
from agent.drafts import Draft
from agent.events import Emit
from agent.llm import LLMClient, ToolCallRequest
from agent.policy import PlannedCall, Policy
from agent.settings import AgentSettings
from tools.base import Citation
from tools.context import ToolContext
from tools.registry import ToolOutcome
from tools.tokens import count_tokens

SUBQUESTION_TOOL = "research_subquestion"


@dataclass
class Observation:
    """A tool result in the transcript, remembered so it can be compacted without losing its citations."""

    message: int  # index in messages
    label: str  # "grep(pattern='Capital expenditures')"
    tokens: int
    citations: list[Citation]
    compacted: bool = False


class AgentState(TypedDict, total=False):
    messages: list[dict[str, Any]]
    turns: int  # model turns taken (what the step budget counts)
    pending: list[ToolCallRequest]  # tool calls of the last model turn, not yet planned
    planned: list[PlannedCall]  # the turn's calls as they will run (planned, not yet run)
    outcomes: list[tuple[ToolOutcome, Any]]  # each planned call's outcome and, for a sub-agent, (its Answer, pages it saw)
    observations: list[Observation]
    draft: Draft | None  # the answer the model proposed, its citations not yet checked
    stop: str | None  # the budget that ran out
    failure: str | None  # why the run cannot go on (LLM endpoint down, ...)
    repairs: int  # citation repairs left
    nudged: bool  # the model was asked once whether a text reply without citations was its answer
    feedback: str | None  # errors about malformed calls, sent after the results of the turn's good calls
    tool_records: list[ToolRecord]  # the tool calls made (the answer's steps)
    pages: set[tuple[str, int]]
    metrics: RunMetrics
    warnings: list[str]
    answer: Answer | None
    memory: Any  # the policy's memory of the run's calls (agent.lenient.LoopMemory; None under the strict policy)


@dataclass
class SharedBudget:
    """Counts shared by a run and its sub-agents."""

    tool_calls_left: int
    subagents_left: int
    subagents_started: int = 0


@dataclass
class AgentRun:
    """Everything fixed for one (sub-)agent run; reaches the nodes through the graph config."""

    question: str
    llm: LLMClient
    tools: ToolContext
    settings: AgentSettings
    emit: Emit
    tool_schemas: list[dict[str, Any]]
    max_steps: int
    max_tool_calls: int
    context_budget: int
    deadline: float  # time.monotonic(): past it the agent must answer
    hard_deadline: float  # the final answer call must be done by then (deadline + grace; a sub-agent's never past its parent's)
    shared: SharedBudget
    agent: str = "main"
    depth: int = 0
    scope: list[str] | None = None  # doc_ids the user restricted the question to
    # The research_subquestion tool, given by whoever builds the run (agent.research), so the graph needs no import of it.
    subagent: Callable[[AgentRun, dict[str, Any]], Awaitable[tuple[Any, Any]]] | None = None
    thread_memory: str = ""  # a follow-up's research memory of its thread's earlier turns (agent.memory); the main agent's only
    started: float = field(default_factory=time.monotonic)
    tool_calls: int = 0  # this run's own calls

    @property
    def policy(self) -> Policy:
        return self.llm.policy

    @property
    def text_mode(self) -> bool:
        return self.llm.settings.tool_mode == "text"

    @cached_property
    def schema_tokens(self) -> int:
        """The tool schemas' share of every prompt (they do not change during a run). In text mode they are written into
        the system prompt, which is counted with the messages: counting them again made a small model's 7k window look
        full after one tool result, and the result was compacted before the model had read it."""
        return count_tokens(json.dumps(self.tool_schemas)) if self.tool_schemas and not self.text_mode else 0

    def transcript_tokens(self, messages: list[dict[str, Any]]) -> int:
        return transcript_tokens(messages, self.schema_tokens)

    def remaining_s(self) -> float:
        return self.deadline - time.monotonic()

    def tool_calls_left(self) -> int:
        return min(self.max_tool_calls - self.tool_calls, self.shared.tool_calls_left)


def transcript_tokens(messages: list[dict[str, Any]], schema_tokens: int = 0) -> int:
    """Approximate prompt size: message contents and tool calls, plus `schema_tokens` for the tool schemas sent along."""
    total = schema_tokens
    for m in messages:
        total += 4 + count_tokens(m.get("content") or "")
        for call in m.get("tool_calls") or []:
            total += count_tokens(call["function"]["arguments"]) + 8
    return total


def call_label(call: ToolCallRequest) -> str:
    """How the transcript names a call: "grep(pattern='Capital expenditures')"."""
    args = ", ".join(f"{k}={v!r}" for k, v in (call.arguments or {}).items())
    return f"{call.name}({args[:160]})"
