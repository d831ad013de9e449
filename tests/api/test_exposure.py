"""Issue 14 items 4, 5 and 13, issue 15 item 3: what the server shows and to whom. The bind check is made on the address
actually bound; probes tell strangers only up/ready and ask the model endpoint once per interval; every response carries
security headers; /docs and /redoc load only local assets. The streamed upload caps against a real `sleuth serve`."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from embedded.supervisor import free_port
from tests.api.conftest import make_keys
from tests.live_server import wait_healthy


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::"])
def test_serve_checks_the_address_it_bound(tmp_path, sleuth_env, host):
    sleuth_env(
        SLEUTH_DATA_DIR=str(tmp_path / "data"),
        SLEUTH_DATABASE_URL=None,
        SLEUTH_API_HOST=host,  # "" used to count as loopback while binding every interface
        SLEUTH_API_PORT=str(free_port()),
    )
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2, result.output
    assert "refusing to serve" in result.stderr and "sleuth keys create NAME --admin" in result.stderr


def test_probes_tell_strangers_only_up_or_ready(make_client, fake_llm, small_corpus):
    key = make_keys(small_corpus, "ops")["ops"]
    with make_client(small_corpus) as client:
        services = client.app.state.services
        public = client.get("/readyz")
        assert public.status_code == 503 and public.json() == {"ready": False}  # no index yet
        for secret in (small_corpus.resolved_database_url, str(small_corpus.data_dir), fake_llm.base_url):
            assert secret not in public.text
        assert client.get("/readyz", headers={"Authorization": "Bearer slk_wrong"}).json() == {"ready": False}
        detailed = client.get("/readyz", headers=key).json()
        assert detailed["checks"]["llm"]["ok"] and "sleuth index" in detailed["checks"]["index"]["error"]
        for _ in range(50):
            client.get("/readyz")
        assert services.endpoint.requests == 1, "fifty probes, one GET /models"
        assert client.get("/metrics").status_code == 401 and client.get("/metrics", headers=key).status_code == 200
        assert client.get("/healthz").json() == {"status": "ok"}


def test_every_response_has_security_headers(make_client, fake_llm, small_corpus):
    with make_client(small_corpus) as client:
        for path in ("/", "/app.js", "/v1/documents", "/v1/runs/nope", "/healthz", "/docs", "/openapi.json"):
            headers = client.get(path).headers
            assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY", path
            csp = headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp, path
        assert "style-src 'self';" in client.get("/").headers["content-security-policy"], "the UI needs no inline style"
        refused = client.post("/v1/runs", content=b"x" * (1 << 20), headers={"content-type": "application/json"})
        assert refused.status_code == 413 and refused.headers["x-frame-options"] == "DENY"


def test_docs_pages_load_only_local_assets(make_client, fake_llm, small_corpus):
    with make_client(small_corpus) as client:
        for page, marker, vendor in (
            ("/docs", 'id="swagger-ui"', "swagger-ui-bundle.js"),
            ("/redoc", 'id="redoc"', "redoc.standalone.js"),
        ):
            html = client.get(page)
            assert html.status_code == 200 and marker in html.text
            assert "<script>" not in html.text, "no inline script (the CSP forbids it)"
            urls = re.findall(r'(?:src|href)="([^"]+)"', html.text)
            assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
            assert any(u.endswith(vendor) for u in urls)
            for url in urls:
                asset = client.get(url)
                assert asset.status_code == 200 and len(asset.content) > 100, url
            assert len(client.get(next(u for u in urls if u.endswith(vendor))).content) > 500_000, "the real bundle, not a stub"
        spec = client.get("/openapi.json").json()
        assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
        assert "multipart/form-data" in spec["paths"]["/v1/documents"]["post"]["requestBody"]["content"]


SLEUTH = Path(sys.executable).with_name("sleuth")


@pytest.fixture
def live_server(tmp_path, small_corpus, fake_llm):
    """A real `sleuth serve` on small_corpus with a 1 MB per-file and 4 MB per-request upload cap."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLEUTH_")}
    env.update(
        SLEUTH_DATA_DIR=str(small_corpus.data_dir),
        SLEUTH_DATABASE_URL=small_corpus.resolved_database_url,
        SLEUTH_LLM_BASE_URL=fake_llm.base_url,
        SLEUTH_API_UPLOAD_MAX_MB="1",
        SLEUTH_API_UPLOAD_REQUEST_MAX_MB="4",
    )
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen(
        [str(SLEUTH), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    try:
        problem = wait_healthy(proc, f"http://127.0.0.1:{port}", 60)
        assert problem is None, f"{problem}: {(tmp_path / 'server.log').read_text()[-2000:]}"
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _send(port: int, head: bytes, chunks=(), limit: int = 0) -> tuple[bytes, int]:
    """Send `head`, then `chunks` until the server answers; returns (the answer, body bytes sent before it came)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        deadline = time.monotonic() + 10
        answer = b""
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            try:
                piece = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not piece:
                break
            answer += piece
        return answer, sent


def test_a_real_server_refuses_big_uploads_before_and_while_reading(live_server, small_corpus):
    boundary = b"sleuthboundary"
    head = b"POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
    declared, sent = _send(live_server, head + b"Content-Length: 52428800\r\n\r\n")  # 50 MB announced, none sent
    assert declared.startswith(b"HTTP/1.1 413"), declared[:200]

    part = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="files"; filename="BIG_2023_10K.txt"\r\nContent-Type: text/plain\r\n\r\n'
    )
    body = [part] + [b"a" * 65536] * 800  # 50 MB of one file, chunked: no length to judge by

    def chunked():
        for piece in body:
            yield b"%x\r\n%s\r\n" % (len(piece), piece)

    streamed, sent = _send(live_server, head + b"Transfer-Encoding: chunked\r\n\r\n", chunked())
    assert streamed.startswith(b"HTTP/1.1 413"), streamed[:300]
    assert sent < 8 << 20, f"the server read {sent:,} bytes of a file capped at 1 MB"
    uploads = small_corpus.data_dir / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*")), "nothing of it stays on disk"
