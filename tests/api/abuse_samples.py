"""Files and clients for the fairness attacks of issue 24, shared by tests/api/test_fairness.py and bench/abuse.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from embedded.supervisor import free_port
from tests.live_server import wait_healthy

SLEUTH = Path(sys.executable).with_name("sleuth")
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
GREP_ATTACK = {"pattern": "[\\s\\S]", "multiline": True}  # one match event per document, one submatch per character


def big_filing(path: Path, lines: int = 8000) -> Path:
    """A ~600 KB 10-K text (the size of 3M's): `[\\s\\S]` in multiline mode makes one rg event of ~600k submatches."""
    row = "Revenue line {n:05d} of the consolidated statement of operations, in millions: 1,577"
    path.write_text(
        "FORM 10-K\nFor the fiscal year ended December 31, 2023\n" + "\n".join(row.format(n=n) for n in range(lines)) + "\n"
    )
    return path


def slow_pdf(path: Path, pages: int = 5, slow_pages: tuple[int, ...] = (3, 4), curves: int = 1000, fanout: int = 10) -> Path:
    """A ~9 KB PDF whose `slow_pages` draw `curves` curve fills through a form XObject drawn `fanout` times: ~30 s each
    to render at 144 dpi on one core; its other pages render in milliseconds."""
    import pymupdf

    doc = pymupdf.open()
    for n in range(pages):
        doc.new_page().insert_text((72, 72), f"Page {n + 1} of the annual report. Revenue was 1,577 million.")
    fills = "".join(f"{i % 600} 0 m {(i * 7) % 600} 800 {(i * 13) % 600} 0 600 {i % 800} c f\n" for i in range(curves))
    form = doc.get_new_xref()
    doc.update_object(form, "<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << >> >>")
    doc.update_stream(form, fills.encode())
    outer = doc.get_new_xref()
    doc.update_object(
        outer, f"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X {form} 0 R >> >> >>"
    )
    doc.update_stream(outer, b"/X Do\n" * fanout)
    contents = doc.get_new_xref()
    doc.update_object(contents, "<< >>")
    doc.update_stream(contents, b"q /Slow Do Q\n")
    for number in slow_pages:
        page = doc[number - 1]
        doc.xref_set_key(page.xref, "Resources", f"<< /XObject << /Slow {outer} 0 R >> >>")
        doc.xref_set_key(page.xref, "Contents", f"{contents} 0 R")
    path.write_bytes(doc.tobytes(garbage=3, deflate=True))
    doc.close()
    return path


def glyph_pdf(path: Path, pages: int = 6, rows: int = 250, cols: int = 400) -> Path:
    """A small PDF (~10 KB) of `pages` pages with rows x cols (100k) tiny glyphs each."""
    import pymupdf

    doc = pymupdf.open()
    line = ("1,577 " * (cols // 6 + 1))[:cols]
    for n in range(pages):
        page = doc.new_page()
        page.insert_text((72, 72), f"Page {n + 1}: revenue was 1,577 million.")
        page.insert_text((2, 90), "\n".join(line for _ in range(rows)), fontsize=1.5, lineheight=1.1)
    path.write_bytes(doc.tobytes(garbage=3, deflate=True))
    doc.close()
    return path


@contextmanager
def serve(data_dir: Path, database_url: str | None, llm_url: str, log: Path, **settings: str) -> Iterator[tuple[str, int]]:
    """A real `sleuth serve` on a free loopback port (SLEUTH_API_* `settings`); yields (base URL, pid), stops it after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLEUTH_")}
    env.update(
        SLEUTH_DATA_DIR=str(data_dir),
        SLEUTH_LLM_BASE_URL=llm_url,
        SLEUTH_LLM_MAX_RETRIES="0",
        SLEUTH_LLM_TIMEOUT_S="120",
        **{f"SLEUTH_API_{k.upper()}": str(v) for k, v in settings.items()},
    )
    if database_url:
        env["SLEUTH_DATABASE_URL"] = database_url
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SLEUTH), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=data_dir.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(proc, base, 90, interval_s=0.1)
        assert problem is None, f"{problem}: {log.read_text(errors='replace')[-3000:]}"
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def rss_mb(pid: int) -> float:
    """Resident memory of the server process (not its render processes), in MB."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def mcp_call(
    client: httpx.Client, name: str, arguments: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[bool, str]:
    """One MCP tools/call over streamable HTTP (stateless, no session): (is_error, text)."""
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    reply = client.post("/mcp", json=message, headers={**MCP_HEADERS, **(headers or {})})
    if reply.status_code != 200:
        return True, f"HTTP {reply.status_code}: {reply.text[:300]}"
    for line in reply.text.splitlines():
        if line.startswith("data:"):
            body = json.loads(line[5:])
            if "result" in body:
                result = body["result"]
                return bool(result.get("isError")), "\n".join(c.get("text", "") for c in result.get("content", []))
            if "error" in body:
                return True, f"JSON-RPC error: {body['error']}"
    return True, f"no result in {reply.text[:300]!r}"
