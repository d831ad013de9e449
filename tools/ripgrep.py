"""Running ripgrep under a time limit and reading its `--json` match events."""

from __future__ import annotations

import base64
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.ripgrep import rg_binary
from tools.errors import ToolError


def run_rg(args: list[str], cwd: Path, timeout_s: float, consume: Callable[[bytes], None]) -> tuple[int, str]:
    """Run rg, feeding each stdout line to `consume`; kills it past `timeout_s` (ToolError). Returns (exit code, stderr)."""
    if timeout_s <= 0:
        raise rg_timeout(timeout_s)
    fired = threading.Event()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [rg_binary(), *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err
        )

        def kill() -> None:
            fired.set()
            proc.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.daemon = True
        timer.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                if fired.is_set():
                    break
                consume(raw)
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if fired.is_set():
            raise rg_timeout(timeout_s)
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    return code, stderr


def rg_timeout(seconds: float) -> ToolError:
    return ToolError(f"grep timed out after {seconds:.3g} s; narrow with glob/doc_ids or a more specific pattern")


def rg_failure(stderr: str, pattern: str) -> ToolError | None:
    """A ToolError for a pattern ripgrep rejects; None when stderr only reports files that vanished mid-search."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    problems = [ln for ln in lines if not (ln.startswith("rg: ") and "os error" in ln)]
    if not problems:
        return None
    reason = next((ln.removeprefix("error: ") for ln in problems if ln.startswith("error:")), None)
    if "regex parse error" in stderr or reason:
        reason = reason or problems[-1].removeprefix("rg: ")
        unsupported = "" if "not supported" in reason else "; look-around and back-references are not supported"
        return ToolError(
            f"invalid regex {pattern!r}: {reason}; escape special characters like ( ) [ ] $ + ? with a backslash "
            rf"(\( \$) or use fixed text{unsupported}"
        )
    detail = " ".join(p.removeprefix("rg: ") for p in problems)[:300]
    return ToolError(f"ripgrep rejected {pattern!r}: {detail}; simplify the pattern (smaller repetition counts, fewer alternatives)")


def event_text(value: dict[str, Any]) -> str:
    if "text" in value:
        return value["text"]
    return base64.b64decode(value.get("bytes", "")).decode("utf-8", errors="replace")


def char_col(line_bytes: bytes, byte_offset: int) -> int:
    return len(line_bytes[:byte_offset].decode("utf-8", errors="ignore"))


@dataclass
class MatchUnit:
    """One match as grep counts it: a matching line, or in multiline mode one (possibly multi-line) match."""

    line: int
    end_line: int
    texts: list[str]
    col: int  # column where the match starts on its first line


def event_lines(data: dict[str, Any]) -> tuple[int, list[str]]:
    text = event_text(data["lines"])
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return data["line_number"], [ln.rstrip("\r") for ln in lines]


def match_units(data: dict[str, Any], multiline: bool) -> list[MatchUnit]:
    first, lines = event_lines(data)
    submatches = data.get("submatches") or []
    if not multiline:
        col = char_col(event_text(data["lines"]).encode(), submatches[0]["start"]) if submatches else 0
        return [MatchUnit(first, first, lines[:1], col)]
    body = event_text(data["lines"]).encode()
    units = []
    for sub in submatches or [{"start": 0, "end": 0}]:
        start, end = sub["start"], sub["end"]
        a = body[:start].count(b"\n")
        b = body[: max(start, end - 1)].count(b"\n")
        line_start = body.rfind(b"\n", 0, start) + 1
        units.append(MatchUnit(first + a, first + b, lines[a : b + 1], char_col(body[line_start:], start - line_start)))
    return units
