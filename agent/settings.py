"""Budgets and limits of agent runs, RAG and sub-agents (SLEUTH_AGENT_ environment variables or a .env file)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    """When an agent run must stop, how big its transcript may grow, and how RAG builds its prompt."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_AGENT_", env_file=".env", extra="ignore")

    max_steps: int = Field(16, ge=1, le=200, description="Most model turns of one run; past it the agent answers from what it has (status truncated).")
    max_tool_calls: int = Field(40, ge=0, le=1000, description="Most tool calls of one run, sub-agents' calls included.")
    max_context_tokens: int | None = Field(
        None, ge=2048, description="Transcript budget in tokens; unset: the model's context window (SLEUTH_LLM_CONTEXT_TOKENS)."
    )
    time_budget_s: float = Field(300.0, gt=0, le=7200, description="Wall-clock budget of one run; past it the agent answers from what it has.")
    stream: bool = Field(True, description="Stream model turns: the trace shows what a slow model is writing (model_progress events).")
    progress_every_s: float = Field(1.0, ge=0, le=60, description="Most one model_progress event per this many seconds of a streamed turn.")
    answer_grace_s: float = Field(60.0, gt=0, le=600, description="Extra time the final answer call may take once a budget has run out.")
    max_parallel_tools: int = Field(8, ge=1, le=64, description="Tool calls of one model turn executed at the same time.")
    compact_at: float = Field(0.7, gt=0.1, lt=1.0, description="Compact older observations when the transcript passes this share of the budget.")
    keep_recent: int = Field(3, ge=0, le=50, description="Most recent tool results never compacted.")
    citation_repairs: int = Field(1, ge=0, le=5, description="Times the model is asked to fix citations that failed the check before answering.")
    subagents: bool = Field(True, description="Offer the research_subquestion tool (a child agent with its own context and budget).")
    subagent_max_steps: int = Field(8, ge=1, le=100, description="Model turns of one sub-agent.")
    subagent_max_tool_calls: int = Field(16, ge=0, le=500, description="Tool calls of one sub-agent (also counted against the parent's budget).")
    subagent_time_budget_s: float = Field(120.0, gt=0, le=3600, description="Wall-clock budget of one sub-agent.")
    max_subagents: int = Field(4, ge=0, le=32, description="Sub-agents one run may start in all.")
    rag_top_k: int = Field(8, ge=1, le=50, description="Passages RAG puts into its prompt.")
    rag_candidates: int = Field(30, ge=1, le=200, description="Passages RAG retrieves before reranking down to rag_top_k.")
