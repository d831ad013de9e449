"""The model endpoint as the API sees it: reachable or not and the models it lists, asked at most once per interval."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from agent.llm import LLMClient

OK_TTL_S = 15.0  # a reachable endpoint is asked again after this long
FAIL_TTL_S = 5.0  # an unreachable one sooner, so readiness recovers quickly
MAX_LISTED = 500  # model names kept from GET /models


@dataclass
class EndpointState:
    ok: bool
    error: str | None = None
    models: frozenset[str] = field(default_factory=frozenset)
    checked: float = 0.0


class EndpointProbe:
    """GET {base_url}/models, cached: /readyz probes and model checks share one request per interval, however many ask."""

    def __init__(self, llm: LLMClient) -> None:
        self.llm = llm
        self._state: EndpointState | None = None
        self._lock = asyncio.Lock()
        self.requests = 0  # GET /models sent (for tests and metrics)

    async def state(self) -> EndpointState:
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        async with self._lock:  # single flight: the first caller asks, the others wait for its answer
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            self._state = await self._ask()
            return self._state

    def _fresh(self) -> EndpointState | None:
        state = self._state
        if state is not None and time.monotonic() - state.checked < (OK_TTL_S if state.ok else FAIL_TTL_S):
            return state
        return None

    async def _ask(self) -> EndpointState:
        url = self.llm.base_url.rstrip("/") + "/models"
        self.requests += 1
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                reply = await client.get(url, headers={"Authorization": f"Bearer {self.llm.settings.api_key}"})
        except httpx.HTTPError as exc:
            return EndpointState(False, f"unreachable: {type(exc).__name__}: {str(exc)[:200]}", checked=time.monotonic())
        if reply.status_code != 200:
            return EndpointState(False, f"GET /models answered {reply.status_code}", checked=time.monotonic())
        try:
            listed = [
                str(m["id"])[:200] for m in (reply.json().get("data") or [])[:MAX_LISTED] if isinstance(m, dict) and m.get("id")
            ]
        except (ValueError, AttributeError, TypeError):
            listed = []
        return EndpointState(True, None, frozenset(listed), time.monotonic())
