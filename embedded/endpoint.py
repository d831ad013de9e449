"""The LLM endpoint a session talks to: the configured one, or the embedded model started (and supervised) for it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from agent.llm import LLMClient
from agent.settings import LLMSettings
from embedded.supervisor import LocalModel

EMBEDDED_NOTICE = (
    "Using the embedded model (Qwen2.5-Coder-1.5B on this machine's CPU): it is for trying Sleuth, slow and often wrong. "
    "Real answers need a real model on vLLM: set SLEUTH_LLM_BASE_URL (see the README)."
)


@dataclass
class Endpoint:
    """The LLM a session talks to, and whether it is the embedded stand-in (then `model` is its supervised server)."""

    client: LLMClient
    embedded: bool
    model: LocalModel | None = None


@contextlib.asynccontextmanager
async def open_endpoint(
    settings: LLMSettings | None = None, data_dir: str | None = None, say: Callable[[str], None] | None = None
) -> AsyncIterator[Endpoint]:
    """The configured endpoint; with none configured, the embedded local model, started here (and restarted if it
    crashes) and stopped on exit. `say` gets a line before each slow step of starting it."""
    settings = settings or LLMSettings()
    if settings.base_url:
        client = LLMClient(settings)
        try:
            yield Endpoint(client, embedded=False)
        finally:
            await client.close()
        return
    from corpus.settings import CorpusSettings

    async with LocalModel(data_dir=data_dir or CorpusSettings().data_dir, say=say) as model:
        client = LLMClient(local_llm_settings(model, settings), explain=model.explain_failure)
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
