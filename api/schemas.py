"""Request and response bodies of the research API (routes never return ORM rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.scope import Filters

RunMode = Literal["agentic", "rag", "compare"]


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_steps: int | None = Field(None, ge=1, le=200, description="Most model turns.")
    max_tool_calls: int | None = Field(None, ge=0, le=1000, description="Most tool calls, sub-agents included.")
    time_budget_s: float | None = Field(None, gt=0, le=7200, description="Wall-clock budget in seconds.")
    max_context_tokens: int | None = Field(None, ge=2048, description="Transcript budget in tokens.")


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, in words.")
    mode: RunMode = Field("agentic", description="agentic, rag, or compare (both, one run with two arms).")
    filters: Filters | None = Field(None, description="Restrict the question to filings: company, form, year, doc_ids.")
    model: str | None = Field(
        None,
        max_length=200,
        description="A model the server offers: SLEUTH_LLM_MODEL (the default), SLEUTH_API_MODELS, or one the endpoint lists at /models.",
    )
    budgets: Budgets | None = None
    thread_id: str | None = Field(
        None,
        max_length=64,
        description="Continue this thread (a follow-up: it starts from the memory of the earlier turns, after the previous turn "
        "ends); omitted: a new thread. A follow-up without `mode` takes the mode of the thread's last turn.",
    )

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the question is empty")
        return value


class RunCreated(BaseModel):
    id: str
    status: str
    queue_position: int | None
    links: dict[str, str]
    thread_id: str | None = Field(None, description="The thread the run is a turn of.")
    turn: int | None = Field(None, description="Its turn in the thread, 1 for the first question.")


class RunPublic(BaseModel):
    id: str
    mode: str
    question: str
    filters: dict[str, Any] | None
    model: str
    budgets: dict[str, Any] | None
    status: str
    queue_position: int | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    latency_s: float | None
    error: str | None
    result: dict[str, Any] | None = Field(
        None, description="The Answer (agentic, rag) or {agentic, rag} (compare) once finished."
    )
    metrics: dict[str, Any] | None = Field(
        None,
        description="Per-arm metrics: latency, LLM calls, tokens, tool calls, pages read; a follow-up's memory_tokens, "
        "memory_turns and memory_summarized.",
    )
    thread_id: str | None = Field(None, description="The thread the run is a turn of (None: a job, not research).")
    turn: int | None = None


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int
    limit: int
    offset: int


class ThreadPublic(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime = Field(description="When its last turn was asked.")
    turns: int
    last_question: str | None
    last_status: str | None
    mode: str | None = Field(description="The mode of its last turn.")


class ThreadsPublic(BaseModel):
    data: list[ThreadPublic]
    count: int
    limit: int
    offset: int


class ThreadDetail(ThreadPublic):
    runs: list[RunPublic] = Field(description="Its turns, oldest first, with their answers, citations and statuses.")


class ThreadUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200, description="The new title.")

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the title is empty")
        return value


class EventPublic(BaseModel):
    seq: int
    type: str
    arm: str | None
    agent: str
    ts: float
    data: dict[str, Any]


class VoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    winner: Literal["agentic", "rag", "tie"]
    note: str | None = Field(None, max_length=2000)


class VotePublic(BaseModel):
    id: int
    run_id: str
    winner: str
    note: str | None
    created_at: datetime


class LeaderboardRow(BaseModel):
    mode: str
    model: str
    rating: float
    wins: int
    losses: int
    ties: int
    votes: int


class Leaderboard(BaseModel):
    data: list[LeaderboardRow]
    votes: int
