"""HTTP to EDGAR under the SEC's fair-access rules: a User-Agent naming you, <= 10 requests/s, backoff on 429/503."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from corpus.edgar.errors import HOW_TO_SET_UA, EdgarForbidden, EdgarSetupError, EdgarUnavailable
from corpus.edgar.settings import EdgarSettings

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_GENERIC = re.compile(r"^(mozilla|python-requests|python-httpx|curl|wget|httpx|aiohttp|go-http-client|java|okhttp)\b", re.I)
_RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_JSON_BYTES = 64 << 20  # the largest submissions pages are a few MB


def check_user_agent(value: str | None) -> str:
    """The User-Agent to send: it must name a person or company and an e-mail address; EdgarSetupError says how to set it."""
    if not value or not value.strip():
        raise EdgarSetupError(
            f"SLEUTH_EDGAR_USER_AGENT is not set: the SEC asks every client to name itself with a name and an e-mail "
            f"address, and refuses anonymous requests. Set it, e.g. {HOW_TO_SET_UA}"
        )
    value = " ".join(value.split())
    name = _EMAIL.sub("", value).strip(" <>()[],;")
    if not _EMAIL.search(value) or not re.search(r"[A-Za-z]{2}", name) or _GENERIC.match(value) or len(value) > 200:
        raise EdgarSetupError(
            f"SLEUTH_EDGAR_USER_AGENT={value[:80]!r} does not name you and an e-mail address (the SEC refuses generic "
            f"User-Agents). Set it, e.g. {HOW_TO_SET_UA}"
        )
    return value


class Pace:
    """At most `per_second` request starts per second, across all threads of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self, per_second: float) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + 1.0 / per_second
        if start > now:
            time.sleep(start - now)


PACE = Pace()  # one per process: concurrent fetch jobs share the SEC's 10 requests/s


class EdgarClient:
    """GETs against EDGAR with pacing, bounded retries and sizes; errors are EdgarForbidden or EdgarUnavailable."""

    def __init__(self, settings: EdgarSettings, *, pace: Pace = PACE) -> None:
        self.settings = settings
        self.user_agent = check_user_agent(settings.user_agent)
        self.pace = pace
        self.requests = 0
        self._http = httpx.Client(
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=settings.timeout_s,
            follow_redirects=True,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EdgarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def www(self, path: str) -> str:
        return self.settings.www_url.rstrip("/") + path

    def data(self, path: str) -> str:
        return self.settings.data_url.rstrip("/") + path

    def json(self, url: str) -> Any | None:
        """The JSON at `url`; None on 404."""
        body = self._get(url, max_bytes=MAX_JSON_BYTES)
        if body is None:
            return None
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EdgarUnavailable(f"EDGAR sent something that is not JSON for {url} ({exc}); try again later") from exc

    def text(self, url: str, max_bytes: int = 16 << 20) -> str | None:
        body = self._get(url, max_bytes=max_bytes)
        return None if body is None else body.decode("utf-8", errors="replace")

    def download(self, url: str, dest: Path) -> int | None:
        """Write `url` to `dest` (through `dest.part`, renamed once complete); None on 404. Returns the bytes written."""
        part = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            size = self._get(url, max_bytes=self.settings.max_file_mb << 20, sink=part)
        except BaseException:
            part.unlink(missing_ok=True)  # nothing half-downloaded stays under the final name, nor beside it
            raise
        if size is None:
            part.unlink(missing_ok=True)
            return None
        os.replace(part, dest)
        return size

    def _get(self, url: str, *, max_bytes: int, sink: Path | None = None) -> Any:
        """Bytes (or, with `sink`, the size written there) of a 200; None for 404; retries 429/5xx and network errors."""
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            self.pace.wait(self.settings.requests_per_second)
            self.requests += 1
            wait: float | None = None
            try:
                with self._http.stream("GET", url) as response:
                    if response.status_code == 200:
                        return self._read(response, url, max_bytes, sink)
                    if response.status_code == 404:
                        return None
                    if response.status_code == 403:
                        raise EdgarForbidden(
                            f"EDGAR answered 403 Forbidden for {url}: the SEC refuses requests whose User-Agent is missing or "
                            f"generic (it must name you and an e-mail address; this one is {self.user_agent!r}), and clients "
                            f"that go past 10 requests/s. Set SLEUTH_EDGAR_USER_AGENT to your own name and e-mail "
                            f"({HOW_TO_SET_UA}); if it is already yours, wait 10 minutes and run the same command again"
                        )
                    if response.status_code not in _RETRY_STATUS:
                        raise EdgarUnavailable(f"EDGAR answered {response.status_code} for {url}; try again later")
                    wait = _retry_after(response.headers.get("retry-after"))
                    problem = f"EDGAR answered {response.status_code}"
            except httpx.TransportError as exc:  # connection refused or reset, timeouts, a body cut short
                problem = f"network error ({type(exc).__name__}: {exc})"
            if sink is not None:
                sink.unlink(missing_ok=True)
            if attempt == attempts - 1:
                raise EdgarUnavailable(
                    f"{problem} for {url}, {attempts} tries; check the network and run the same command again to resume"
                )
            time.sleep(min(60.0, wait if wait is not None else self.settings.backoff_s * 2**attempt))
        raise AssertionError("unreachable")

    @staticmethod
    def _read(response: httpx.Response, url: str, max_bytes: int, sink: Path | None) -> Any:
        size, chunks = 0, []
        out = sink.open("wb") if sink is not None else None
        try:
            for chunk in response.iter_bytes(1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise EdgarUnavailable(
                        f"{url} is larger than {max_bytes >> 20} MB (SLEUTH_EDGAR_MAX_FILE_MB); it was not downloaded"
                    )
                if out is not None:
                    out.write(chunk)
                else:
                    chunks.append(chunk)
        finally:
            if out is not None:
                out.close()
        return size if sink is not None else b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to the backoff
