"""Who asks: API keys (Bearer) with their role, per-key request rate and bad-key limits, and the open server's guards.

Open mode (no key was ever created) serves one user on loopback: it answers loopback clients only, addressed by a
loopback name (a DNS-rebinding page's Host is refused), and refuses state-changing requests another site's page sends.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
from fastapi import HTTPException, Request

from api.run_store import RunStore

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The key check's own threads: it must never wait behind blocking work (tool calls, file reads) on anyio's shared pool.
AUTH_THREADS = anyio.CapacityLimiter(16)


@dataclass(frozen=True)
class Caller:
    key_id: int | None  # None: open (no keys configured, loopback only)
    name: str
    admin: bool = False  # the open server's one user is its admin

    def owns(self, key_id: int | None) -> bool:
        """Whether this caller may see a run (or job) created by `key_id`: its own, or any when admin."""
        return self.admin or key_id == self.key_id


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or the name localhost; "" (every interface) and other names are not."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_of(netloc: str) -> str:
    """The host part of a Host header or an origin's netloc ("[::1]:8000" -> "::1", "localhost:80" -> "localhost")."""
    try:
        return (urlsplit(f"//{netloc}").hostname or "").lower()
    except ValueError:
        return ""


def _origin(value: str) -> tuple[str, str] | None:
    """(scheme, netloc with default port dropped) of an Origin header; None when it is not a web origin ("null", garbage)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[parts.scheme]
    return parts.scheme, host if port in (None, default) else f"{host}:{port}"


def _same_host(request: Request, origin: str) -> bool:
    found = _origin(origin)
    if found is None:
        return False
    scheme, netloc = found
    own = _origin(f"{request.url.scheme}://{request.headers.get('host', '')}")
    return own is not None and own == (scheme, netloc)


def guard_open(request: Request) -> None:
    """The open server's guards: loopback clients, a loopback Host, and state changes from its own pages only."""
    client = request.client.host if request.client else ""
    if not is_loopback(client):
        raise HTTPException(
            403,
            f"this server has no API keys, so it answers only this machine (you are {client}); "
            "its operator can create one with `sleuth keys create NAME`",
        )
    host = host_of(request.headers.get("host", ""))
    if not is_loopback(host):
        raise HTTPException(
            403,
            f"Host {request.headers.get('host', '')!r} is not this server's: with no API keys it answers only "
            "http://127.0.0.1 or http://localhost (a page that renamed itself to reach it is refused)",
        )
    if request.method in STATE_CHANGING:
        origin = request.headers.get("origin")
        if origin is not None and not _same_host(request, origin):
            raise HTTPException(
                403,
                f"refused a {request.method} from the page at {origin!r}: with no API keys this server "
                "accepts changes only from its own pages (or from clients that are not browsers)",
            )
        site = request.headers.get("sec-fetch-site")
        if origin is None and site is not None and site not in {"same-origin", "none"}:
            raise HTTPException(
                403, f"refused a {site} {request.method}: with no API keys this server accepts changes only from its own pages"
            )


class RateLimiter:
    """At most `per_minute` requests per caller in any 60 s window; bad keys at most `bad_key_per_minute` per address.

    Windows that saw nothing for a minute are pruned once a minute, so the table holds only recent callers.
    """

    PRUNE_EVERY_S = 60.0
    MAX_CALLERS = 100_000

    def __init__(self, per_minute: int, bad_key_per_minute: int = 30) -> None:
        self.per_minute = per_minute
        self.bad_key_per_minute = bad_key_per_minute
        self._seen: dict[str, deque[float]] = {}
        self._pruned = time.monotonic()

    def __len__(self) -> int:
        return len(self._seen)

    def _window(self, who: str, now: float) -> deque[float]:
        if now - self._pruned >= self.PRUNE_EVERY_S or len(self._seen) >= self.MAX_CALLERS:
            self.prune(now)
        window = self._seen.setdefault(who, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        return window

    def prune(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._pruned = now
        self._seen = {who: w for who, w in self._seen.items() if w and w[-1] > now - 60}
        if len(self._seen) >= self.MAX_CALLERS:  # a flood of distinct callers within one minute: keep the most recent half
            recent = sorted(self._seen.items(), key=lambda item: item[1][-1])[-self.MAX_CALLERS // 2 :]
            self._seen = dict(recent)

    def _refuse(self, window: deque[float], now: float, limit: int, what: str) -> None:
        retry = max(1, int(window[0] + 60 - now) + 1)
        raise HTTPException(
            429, f"rate limit: {limit} {what} per minute; retry in {retry} s", headers={"Retry-After": str(retry)}
        )

    def check(self, who: str) -> None:
        now = time.monotonic()
        window = self._window(who, now)
        if len(window) >= self.per_minute:
            self._refuse(window, now, self.per_minute, "requests")
        window.append(now)

    def check_bad_keys(self, address: str) -> None:
        """429 before any lookup once this address sent `bad_key_per_minute` unknown keys within a minute."""
        now = time.monotonic()
        window = self._window(f"bad:{address}", now)
        if len(window) >= self.bad_key_per_minute:
            self._refuse(window, now, self.bad_key_per_minute, "requests with an unknown API key")

    def bad_key(self, address: str) -> None:
        now = time.monotonic()
        self._window(f"bad:{address}", now).append(now)


def authenticate(request: Request, store: RunStore, limiter: RateLimiter) -> Caller:
    """The caller of this request; 401 without a valid key once any key exists; 429 past the rate limits."""
    address = request.client.host if request.client else "?"
    if not store.keyed():
        guard_open(request)
        limiter.check(f"ip:{address}")
        return Caller(None, "open", admin=True)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "missing API key: send 'Authorization: Bearer <key>' (create one with `sleuth keys create NAME`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    limiter.check_bad_keys(address)
    key = store.check_key(token.strip()[:200])
    if key is None:
        limiter.bad_key(address)
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    limiter.check(f"key:{key.id}")
    return Caller(key.id, key.name, admin=bool(key.admin))


async def authenticated(request: Request, store: RunStore, limiter: RateLimiter) -> Caller:
    """authenticate() in a thread of AUTH_THREADS: another caller's blocking work cannot hold up every request's key check."""
    return await anyio.to_thread.run_sync(authenticate, request, store, limiter, limiter=AUTH_THREADS)
