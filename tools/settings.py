"""Limits of the agent's tools (SLEUTH_TOOL_ environment variables or a .env file)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ToolSettings(BaseSettings):
    """Time limits and output caps, so no tool can hang the agent or flood its context."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_TOOL_", env_file=".env", extra="ignore")

    timeout_s: float = Field(20.0, gt=0, le=600, description="Wall-clock limit of one tool call (ripgrep is killed past it).")
    max_output_tokens: int = Field(
        12000, ge=200, le=200_000, description="Cap on any one tool result shown to the model, in tokens (>= read_max_tokens)."
    )
    read_default_tokens: int = Field(
        4000, ge=100, le=100_000, description="Tokens `read` returns when the model gives no max_tokens."
    )
    read_max_tokens: int = Field(12000, ge=100, le=200_000, description="Most tokens one `read` may return.")
    grep_default_results: int = Field(40, ge=1, le=1000, description="Matches `grep` shows when the model gives no max_results.")
    grep_max_results: int = Field(300, ge=1, le=10_000, description="Most matches one `grep` may show.")
    grep_max_context: int = Field(10, ge=0, le=50, description="Most context lines around a grep match.")
    grep_max_scan_mb: float = Field(
        400.0,
        gt=0,
        le=1_000_000,
        description="Most filing text (MB) one grep may scan; past it grep asks for a company/year/form/glob scope (ripgrep reads ~0.3-1 GB/s a core).",
    )
    grep_max_match_lines: int = Field(
        20, ge=1, le=1000, description="Most lines of one (multiline) grep match shown; the rest is named, not shown."
    )
    grep_max_output_mb: int = Field(
        256,
        ge=1,
        le=10_000,
        description="Most ripgrep output one grep reads, in MB; past it the counts are partial and the result says so.",
    )
    search_max_k: int = Field(30, ge=1, le=200, description="Most passages one `search` may return.")
    list_max_results: int = Field(200, ge=1, le=5000, description="Most documents one `list_documents`/`glob` shows.")
