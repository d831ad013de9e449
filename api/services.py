"""What the API's routes share: settings, the corpus, the run store and runner, metrics, the model endpoint."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from agent.llm import LLMClient
from agent.session import Researcher
from agent.settings import AgentSettings
from api.auth import RateLimiter
from api.endpoint import EndpointProbe
from api.metrics import Metrics
from api.run_store import RunStore
from api.runner import RunManager
from api.settings import ApiSettings
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
    local_model: Any = None  # the embedded model's supervised server (embedded.supervisor.LocalModel), when it answers
    endpoint: EndpointProbe | None = None
    ready_report: tuple[float, dict | None] = (0.0, None)  # /readyz's last checks, shared for a moment by every probe
    ready_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _default: Researcher | None = None
    _others: OrderedDict[str, _Lease] = field(default_factory=OrderedDict)  # other models, least recently used first
    _retired: list[_Lease] = field(default_factory=list)  # evicted while a run still used them: closed when it ends
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    index_lock: threading.Lock = field(default_factory=threading.Lock)  # one index sync at a time (uploads, deletes)
    no_model: str | None = None  # why no model answers (none configured, the embedded one not installed or not starting)
    embedding: Any = None  # the background embedding worker (retrieval.background.BackgroundEmbedder), when it runs

    def __post_init__(self) -> None:
        self._default = Researcher(self.corpus, self.llm, self.agent_settings)
        self.endpoint = self.endpoint or EndpointProbe(self.llm)

    def model_unavailable(self) -> str | None:
        """Why research cannot run now (no model, or an embedded model Sleuth gave up restarting), with the ways out; else None."""
        if self.no_model:
            return self.no_model
        if self.local_model is not None and self.local_model.status()["state"] == "failed":
            from embedded.endpoint import no_model

            status = self.local_model.status()
            return no_model(
                f"the embedded model server {status['last_crash']['reason']} and was restarted "
                f"{status['restarts_in_last_hour']} times within an hour; Sleuth stopped restarting it "
                f"(log: {status['log']})"
            )
        return None

    def dense_coverage(self) -> dict | None:
        """How much of the local index is embedded, the time left and the background worker's state (None: no local index)."""
        from retrieval.background import coverage
        from retrieval.searcher import index_dir
        from retrieval.settings import RetrievalSettings

        settings = RetrievalSettings()
        if settings.index_url:
            return None
        found = coverage(index_dir(self.corpus.settings, settings), enabled=settings.embedding_background)
        return found.as_dict() if found else None

    # --- models ---

    def configured_models(self) -> list[str]:
        """The server's model and those SLEUTH_API_MODELS names."""
        return list(dict.fromkeys([self.llm.settings.model, *self.settings.model_names()]))

    async def check_model(self, model: str | None) -> str:
        """The model a run asks: the default, a configured one, or one the endpoint lists at /models; 422 otherwise."""
        if model is None or model in self.configured_models():
            return model or self.llm.settings.model
        state = await self.endpoint.state()
        if model in state.models:
            return model
        offered = list(dict.fromkeys([*self.configured_models(), *sorted(state.models)]))
        shown = ", ".join(offered[:20]) + (f" and {len(offered) - 20} more" if len(offered) > 20 else "")
        why = "" if state.ok else f" (the endpoint's list could not be read: {state.error})"
        raise HTTPException(
            422,
            f"model: {model[:100]!r} is not offered here; choose one of {shown}{why}, or leave it out for the default "
            "(SLEUTH_API_MODELS adds names)",
        )

    async def researcher_for(self, model: str | None) -> Researcher:
        """One researcher per model name at the endpoint; they share the corpus, the searcher and the text cache.

        At most `settings.model_clients` other models keep a client; the least recently used idle one is closed first.
        """
        if model in (None, self.llm.settings.model):
            return self._default
        async with self._lock:
            lease = self._others.get(model)
            if lease is None:
                lease = self._others[model] = _Lease(self._default.with_model(model), self)
            self._others.move_to_end(model)
            while len(self._others) > self.settings.model_clients:
                name, evicted = next(iter(self._others.items()))
                if evicted is lease:
                    break
                del self._others[name]
                if evicted.in_use:
                    self._retired.append(evicted)
                else:
                    await evicted.researcher.llm.close()
            return lease  # type: ignore[return-value] - a Researcher in all but name: asks are counted, so eviction waits

    async def _released(self, lease: _Lease) -> None:
        if lease.in_use == 0 and lease in self._retired:
            self._retired.remove(lease)
            await lease.researcher.llm.close()

    def model_clients(self) -> int:
        """Clients held for models other than the default (evicted ones still finishing a run included)."""
        return len(self._others) + len(self._retired)

    def researchers(self) -> list[Researcher]:
        return [self._default, *(lease.researcher for lease in [*self._others.values(), *self._retired])]

    async def close(self) -> None:
        for lease in [*self._others.values(), *self._retired]:
            await lease.researcher.llm.close()
        self._others.clear()
        self._retired.clear()


class _Lease:
    """A researcher for another model whose asks are counted, so the cache closes its client only once no run uses it."""

    def __init__(self, researcher: Researcher, services: Services) -> None:
        self.researcher = researcher
        self.services = services
        self.in_use = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.researcher, name)

    async def ask(self, *args: Any, **kwargs: Any) -> Any:
        self.in_use += 1
        try:
            return await self.researcher.ask(*args, **kwargs)
        finally:
            self.in_use -= 1
            await self.services._released(self)
