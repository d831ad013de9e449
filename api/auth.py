"""API keys (Bearer), per-key request rate and concurrent-run limits."""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from dataclasses import dataclass

from fastapi import HTTPException, Request

from api.store import RunStore


@dataclass(frozen=True)
class Caller:
    key_id: int | None  # None: open (no keys configured, loopback only)
    name: str


def is_loopback(host: str) -> bool:
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """At most `per_minute` requests per caller in any 60 s window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}

    def check(self, who: str) -> None:
        now = time.monotonic()
        window = self._seen.setdefault(who, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            retry = max(1, int(window[0] + 60 - now) + 1)
            raise HTTPException(429, f"rate limit: {self.per_minute} requests per minute; retry in {retry} s", headers={"Retry-After": str(retry)})
        window.append(now)


def authenticate(request: Request, store: RunStore, limiter: RateLimiter) -> Caller:
    """The caller of this request; 401 without a valid key once any key exists; 429 past the rate limit."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if store.key_count() == 0:
        caller = Caller(None, "open")
        limiter.check(f"ip:{request.client.host if request.client else '?'}")
        return caller
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>' (create one with `sleuth keys create NAME`)",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    key = store.check_key(token.strip())
    if key is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    limiter.check(f"key:{key.id}")
    return Caller(key.id, key.name)
