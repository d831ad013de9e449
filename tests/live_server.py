"""Waiting for a `sleuth serve` subprocess to answer /healthz: shared by the web tests, the kill test and bench/api.py."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_healthy(proc: subprocess.Popen, base_url: str, timeout_s: float, interval_s: float = 0.05) -> str | None:
    """None once GET /healthz answers 200; else why not (the process exited, or `timeout_s` passed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            return f"`sleuth serve` exited with {proc.returncode} before it was healthy"
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            return f"`sleuth serve` did not answer /healthz within {timeout_s:.0f} s"
        time.sleep(interval_s)
