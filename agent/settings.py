"""The agent's settings: its budgets and limits (SLEUTH_AGENT_) and the model it talks to (SLEUTH_LLM_), from the environment or a .env file."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgentSettings(BaseSettings):
    """When an agent run must stop, how big its transcript may grow, and how RAG builds its prompt."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_AGENT_", env_file=".env", extra="ignore")

    max_steps: int = Field(
        16,
        ge=1,
        le=200,
        description="Most model turns of one run; past it the agent answers from what it has (status truncated).",
    )
    max_tool_calls: int = Field(40, ge=0, le=1000, description="Most tool calls of one run, sub-agents' calls included.")
    max_context_tokens: int | None = Field(
        None, ge=2048, description="Transcript budget in tokens; unset: the model's context window (SLEUTH_LLM_CONTEXT_TOKENS)."
    )
    time_budget_s: float = Field(
        300.0, gt=0, le=7200, description="Wall-clock budget of one run; past it the agent answers from what it has."
    )
    stream: bool = Field(
        True, description="Stream model turns: the trace shows what a slow model is writing (model_progress events)."
    )
    progress_every_s: float = Field(
        1.0, ge=0, le=60, description="Most one model_progress event per this many seconds of a streamed turn."
    )
    answer_grace_s: float = Field(
        60.0, gt=0, le=600, description="Extra time the final answer call may take once a budget has run out."
    )
    max_parallel_tools: int = Field(8, ge=1, le=64, description="Tool calls of one model turn executed at the same time.")
    compact_at: float = Field(
        0.7, gt=0.1, lt=1.0, description="Compact older observations when the transcript passes this share of the budget."
    )
    keep_recent: int = Field(3, ge=0, le=50, description="Most recent tool results never compacted.")
    citation_repairs: int = Field(
        1, ge=0, le=5, description="Times the model is asked to fix citations that failed the check before answering."
    )
    subagents: bool = Field(
        True, description="Offer the research_subquestion tool (a child agent with its own context and budget)."
    )
    subagent_max_steps: int = Field(8, ge=1, le=100, description="Model turns of one sub-agent.")
    subagent_max_tool_calls: int = Field(
        16, ge=0, le=500, description="Tool calls of one sub-agent (also counted against the parent's budget)."
    )
    subagent_time_budget_s: float = Field(120.0, gt=0, le=3600, description="Wall-clock budget of one sub-agent.")
    max_subagents: int = Field(4, ge=0, le=32, description="Sub-agents one run may start in all.")
    thread_memory_tokens: int = Field(
        4000,
        ge=100,
        le=100_000,
        description="Most tokens of a follow-up's research memory (earlier turns of its thread; the oldest are summarized first "
        "to fit); unset: 4000, or an eighth of the model's context window when that is smaller.",
    )
    rag_top_k: int = Field(8, ge=1, le=50, description="Passages RAG puts into its prompt.")
    rag_candidates: int = Field(30, ge=1, le=200, description="Passages RAG retrieves before reranking down to rag_top_k.")


class LLMSettings(BaseSettings):
    """Where the model is and how to talk to it (SLEUTH_LLM_ environment variables or a .env file)."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_LLM_", env_file=".env", extra="ignore")

    base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://vllm:8000/v1; unset: the embedded local model."
    )
    model: str = Field("Qwen/Qwen3-30B-A3B-Instruct-2507", description="Model name the server knows.")
    api_key: str = Field("not-needed", description="Bearer token for the endpoint (vLLM accepts any unless --api-key is set).")
    timeout_s: float = Field(120.0, gt=0, description="Timeout of one completion call.")
    max_retries: int = Field(3, ge=0, le=10, description="Retries with exponential backoff on 429, 5xx and connection errors.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(2048, ge=16, le=65536, description="Most tokens one completion may generate.")
    context_tokens: int = Field(32768, ge=2048, description="The model's context window, for budgeting the transcript.")
    tool_mode: Literal["auto", "native", "text"] = Field(
        "native",
        description="native: tool_calls in the API; text: JSON tool calls in the reply text; auto: native, falling back to text. "
        "The embedded model always uses text.",
    )
    policy: Literal["strict", "lenient"] | None = Field(
        None,
        description="How the agent treats the model: strict runs its calls exactly as asked and returns errors as observations; "
        "lenient (for small models) parses text calls, forgives argument shapes and near-miss doc_ids and breaks call loops. "
        "Unset: strict with native tool calls, lenient with text or auto (and always for the embedded model).",
    )
    constrain_text_calls: bool = Field(
        False,
        description="With tool_mode text and tools given, send a JSON-schema response_format (llama.cpp) so each reply is exactly one "
        '{"name", "arguments"} call; the model must then finish through a tool such as answer.',
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description='Extra request fields for vLLM, e.g. {"chat_template_kwargs": {"enable_thinking": false}} for Qwen3.',
    )

    @model_validator(mode="after")
    def _strict_needs_native_calls(self) -> LLMSettings:
        if self.policy == "strict" and self.tool_mode != "native":
            raise ValueError(
                f"policy strict needs tool_mode native (tool calls written as text are the lenient policy's); got {self.tool_mode}"
            )
        return self

    @property
    def lenient(self) -> bool:
        """Whether the agent runs the small-model policy (agent.lenient) rather than the strict one."""
        return self.policy == "lenient" if self.policy else self.tool_mode != "native"
