"""What the API's routes share: settings, the corpus, the run store and runner, metrics, the model endpoint."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from agent.llm import LLMClient
from agent.session import Researcher
from agent.settings import AgentSettings
from api.auth import RateLimiter
from api.metrics import Metrics
from api.runner import RunManager
from api.settings import ApiSettings
from api.store import RunStore
from corpus.catalog import Corpus


@dataclass
class Services:
    settings: ApiSettings
    corpus: Corpus
    store: RunStore
    llm: LLMClient
    embedded: bool
    metrics: Metrics
    limiter: RateLimiter
    agent_settings: AgentSettings
    runner: RunManager | None = None
    interrupted: list[str] = field(default_factory=list)
    local_model: Any = None  # the embedded model's supervised server (agent.local.LocalModel), when it answers
    _researchers: dict[str | None, Researcher] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    index_lock: threading.Lock = field(default_factory=threading.Lock)  # one index sync at a time (uploads, deletes)

    def __post_init__(self) -> None:
        self._researchers[None] = Researcher(self.corpus, self.llm, self.agent_settings)

    async def researcher_for(self, model: str | None) -> Researcher:
        """One researcher per model name at the endpoint; they share the corpus, the searcher and the text cache."""
        key = None if model in (None, self.llm.settings.model) else model
        async with self._lock:
            if key not in self._researchers:
                self._researchers[key] = self._researchers[None].with_model(key)
            return self._researchers[key]

    def researchers(self) -> list[Researcher]:
        return list(self._researchers.values())

    async def close(self) -> None:
        for key, researcher in self._researchers.items():
            if key is not None:
                await researcher.llm.close()
