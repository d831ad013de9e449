"""A local stand-in for SEC EDGAR (www.sec.gov and data.sec.gov on one loopback port), serving recorded responses.

Routes map a path to a file or bytes; `faults` script failures per path (429/503 with Retry-After, 403, a connection
cut mid-body), consumed one per request; every request is logged with its User-Agent and time."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "corpus" / "edgar_fixtures"


@dataclass
class Seen:
    path: str
    user_agent: str
    at: float


@dataclass
class FakeEdgar:
    routes: dict[str, bytes | Path] = field(default_factory=dict)
    faults: dict[str, list[str]] = field(default_factory=dict)  # path -> ["429", "503", "403", "cut", ...]
    log: list[Seen] = field(default_factory=list)
    forbid_generic_ua: bool = True

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                ua = self.headers.get("User-Agent", "")
                fake.log.append(Seen(path, ua, time.monotonic()))
                queue = fake.faults.get(path)
                fault = queue.pop(0) if queue else None
                if fault in {"429", "503"}:
                    return self._send(int(fault), b"slow down", {"Retry-After": "0"})
                if fault == "403" or (fake.forbid_generic_ua and ("@" not in ua)):
                    return self._send(403, b"<html>Your Request Originates from an Undeclared Automated Tool</html>")
                body = fake.routes.get(path)
                if body is None:
                    return self._send(404, b"Not Found")
                data = body.read_bytes() if isinstance(body, Path) else body
                if fault == "cut":  # promise the whole body, send a third, drop the connection
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 3])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    self.close_connection = True
                    return
                self._send(200, data)

            def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeEdgar:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def env(self, monkeypatch, user_agent: str | None = "Sleuth Tests sleuth-tests@example.com") -> None:
        """Point EdgarSettings at this fake (fast backoff), with a User-Agent (None: unset)."""
        from api.settings import get_settings

        monkeypatch.setenv("SLEUTH_EDGAR_WWW_URL", self.url)
        monkeypatch.setenv("SLEUTH_EDGAR_DATA_URL", self.url)
        monkeypatch.setenv("SLEUTH_EDGAR_BACKOFF_S", "0.01")
        monkeypatch.setenv("SLEUTH_EDGAR_MAX_RETRIES", "2")
        if user_agent is None:
            monkeypatch.delenv("SLEUTH_EDGAR_USER_AGENT", raising=False)
        else:
            monkeypatch.setenv("SLEUTH_EDGAR_USER_AGENT", user_agent)
        get_settings.cache_clear()

    def paths(self, prefix: str) -> list[str]:
        return [s.path for s in self.log if s.path.startswith(prefix)]


def recorded_edgar(shared_edgar: Path | None) -> FakeEdgar:
    """The recorded ticker list and submissions JSON of Amazon and The Buckle; their filings from ../shared/edgar."""
    fake = FakeEdgar()
    fake.routes["/files/company_tickers.json"] = FIXTURES / "company_tickers.json"
    for name in ("CIK0001018724.json", "CIK0000885245.json"):
        fake.routes[f"/submissions/{name}"] = FIXTURES / name
    buckle = "/Archives/edgar/data/885245/000088524524000040"
    fake.routes[f"{buckle}/0000885245-24-000040-index.htm"] = FIXTURES / "0000885245-24-000040-index.htm"
    if shared_edgar is not None:
        fake.routes[f"{buckle}/bke-20241122.htm"] = shared_edgar / "BUCKLE_2024-11-22_8K.htm"
        fake.routes[f"{buckle}/bke20241122-8kexhibit.htm"] = shared_edgar / "BUCKLE_2024-11-22_8K_EX99-1.htm"
        fake.routes["/Archives/edgar/data/1018724/000101872424000008/amzn-20231231.htm"] = shared_edgar / "AMAZON_FY2023_10K.htm"
    return fake


def tickers_json(rows: list[tuple[int, str, str]]) -> bytes:
    return json.dumps({str(i): {"cik_str": c, "ticker": t, "title": n} for i, (c, t, n) in enumerate(rows)}).encode()
