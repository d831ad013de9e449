"""Running ripgrep under a time limit and reading its `--json` match events."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.rg_binary import rg_binary
from tools.errors import ToolError

# One `rg --json` event (a match spanning a whole document is one line of output) is read whole up to this size;
# a longer one is streamed through `JsonShrinker`, its strings cut to STRING_CAP_BYTES, so it never sits in memory.
MAX_EVENT_BYTES = 1 << 20
STRING_CAP_BYTES = 64 << 10
# Submatches of one long event kept and decoded; the rest are only counted (a pattern like [\s\S] in multiline mode makes
# one event of ~600k submatches, 30 MB, for a 10-K: walking it in Python took seconds of CPU per call).
MAX_SUBMATCHES = 1000
SUBMATCH = b'{"match":'  # how each submatch of a match event starts; JSON strings escape '"', so only structure has it
_SUBMATCHES_KEY = b',"submatches":['
_CHUNK = 1 << 20


@dataclass
class RgOutput:
    """What a run of rg read: how much, and whether the total cap stopped it early."""

    bytes_read: int = 0
    cut_events: int = 0  # events whose strings were shortened
    stopped: bool = False  # the total cap was reached and rg was stopped


def run_rg(
    args: list[str],
    cwd: Path,
    timeout_s: float,
    consume: Callable[[bytes], None],
    *,
    max_total_bytes: int | None = None,
    output: RgOutput | None = None,
) -> tuple[int, str]:
    """Run rg, feeding each stdout line to `consume`; kills it past `timeout_s` (ToolError). Returns (exit code, stderr).

    A huge event reaches `consume` shortened (see JsonShrinker); past `max_total_bytes` of output rg is stopped
    and `output.stopped` says so.
    """
    output = output if output is not None else RgOutput()
    if timeout_s <= 0:
        raise rg_timeout(timeout_s)
    fired = threading.Event()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([rg_binary(), *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)

        def kill() -> None:
            fired.set()
            proc.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.daemon = True
        timer.start()
        try:
            assert proc.stdout is not None
            for raw in bounded_lines(proc.stdout, output):
                if fired.is_set():
                    break
                consume(raw)
                if max_total_bytes is not None and output.bytes_read > max_total_bytes:
                    output.stopped = True
                    proc.kill()
                    break
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


def bounded_lines(stream, output: RgOutput) -> Iterator[bytes]:  # noqa: ANN001
    """The stream's lines; one longer than MAX_EVENT_BYTES comes shortened by JsonShrinker (memory stays bounded)."""
    while True:
        raw = stream.readline(MAX_EVENT_BYTES)
        if not raw:
            return
        output.bytes_read += len(raw)
        if raw.endswith(b"\n"):
            yield raw
            continue
        yield _shrunk_event(raw, stream, output)
        output.cut_events += 1


def _shrunk_event(head: bytes, stream, output: RgOutput) -> bytes:  # noqa: ANN001
    """One long event read in chunks: strings cut by JsonShrinker, submatches past MAX_SUBMATCHES counted, not kept.

    The skipped submatches are only counted (bytes.count, at C speed), so the Python work per event stays bounded
    whatever the pattern; their number goes into "cut": {"submatches": n}.
    """
    shrinker = JsonShrinker(STRING_CAP_BYTES)
    seen = b""  # the last bytes read before this part: a marker may straddle two reads
    in_submatches, kept, skipped = False, 0, 0
    part = head
    while part:
        if skipped:
            skipped += (seen[-(len(SUBMATCH) - 1) :] + part).count(SUBMATCH)
        else:
            window, from_ = seen[-(len(SUBMATCH) - 1) :] + part, 0  # a marker wholly in `seen` was counted before
            if not in_submatches:
                key_window = seen[-(len(_SUBMATCHES_KEY) - 1) :] + part
                at = key_window.find(_SUBMATCHES_KEY)
                if at >= 0:  # the key ends in this part
                    in_submatches = True
                    from_ = len(window) - len(key_window) + at + len(_SUBMATCHES_KEY)
            cut_at = None
            pos = window.find(SUBMATCH, from_) if in_submatches else -1
            while pos >= 0:
                kept += 1
                if kept > MAX_SUBMATCHES:
                    cut_at = pos
                    break
                pos = window.find(SUBMATCH, pos + len(SUBMATCH))
            if cut_at is None:
                shrinker.feed(part)
            else:  # keep the submatches before this one (the "," between them dropped), count the rest
                skipped = window[cut_at:].count(SUBMATCH)
                end = cut_at - (len(window) - len(part)) - 1
                if end >= 0:
                    shrinker.feed(part[:end])
                else:  # the "," and the start of this submatch came with the last read: copied verbatim, take them back
                    del shrinker.out[end:]
                    shrinker.in_string, shrinker.carry = False, b""
        if part.endswith(b"\n"):
            break
        seen = (seen + part)[-len(_SUBMATCHES_KEY) :]
        part = stream.readline(_CHUNK)
        output.bytes_read += len(part)
    if skipped:
        shrinker.feed(b"]}}\n")
        shrinker.skipped_submatches = skipped
    return shrinker.result()


_PIECE = re.compile(rb'[^"\\]+|\\u[0-9a-fA-F]{4}|\\[^u]|"')
_REST = re.compile(rb'(?:[^"\\]++|\\.)*+')  # the rest of a string up to its closing quote, in one C-level scan
_ESCAPE = re.compile(rb"\\.")


@dataclass
class JsonShrinker:
    """Copies one JSON line fed in chunks, keeping at most `cap` bytes of each string (escapes kept whole).

    The newlines of every cut string are counted (a cut match must still say which lines it spans) and added to
    the object as "cut": {"newlines": [...]}, one count per cut string in order.
    """

    cap: int
    out: bytearray = field(default_factory=bytearray)
    carry: bytes = b""
    in_string: bool = False
    kept: int = 0
    newlines: int = 0
    cut: bool = False
    cut_newlines: list[int] = field(default_factory=list)
    skipped_submatches: int = 0  # submatches left out (counted only): see _shrunk_event

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk
        self.carry = b""
        i, n = 0, len(data)
        while i < n:
            if not self.in_string:
                j = data.find(b'"', i)
                if j < 0:
                    self.out += data[i:]
                    return
                self.out += data[i : j + 1]
                self.in_string, self.kept, self.newlines, self.cut = True, 0, 0, False
                i = j + 1
                continue
            if self.kept >= self.cap:  # past the cap: skip to the closing quote, only counting newlines
                m = _REST.match(data, i)
                self.newlines += _ESCAPE.findall(m.group()).count(b"\\n")
                self.cut = self.cut or m.end() > i
                i = m.end()
                if i >= n:
                    return
                if data[i] != 0x22:  # a backslash whose escaped byte is in the next chunk
                    self.carry = data[i:]
                    return
                self.out += b'"'
                self.in_string = False
                if self.cut:
                    self.cut_newlines.append(self.newlines)
                i += 1
                continue
            m = _PIECE.match(data, i)
            if m is None:  # an escape cut by the chunk's end: finish it with the next chunk
                self.carry = data[i:]
                return
            piece = m.group()
            i = m.end()
            if piece == b'"':
                self.out += piece
                self.in_string = False
                if self.cut:
                    self.cut_newlines.append(self.newlines)
                continue
            if piece == b"\\n":
                self.newlines += 1
            room = self.cap - self.kept
            if room <= 0:
                self.cut = True
                continue
            if piece[0] == 0x5C or len(piece) <= room:  # an escape (whole or not at all), or text that fits
                if len(piece) <= room:
                    self.out += piece
                    self.kept += len(piece)
                else:
                    self.kept, self.cut = self.cap, True
                continue
            k = room
            while k > 0 and piece[k] & 0xC0 == 0x80:  # never cut inside a UTF-8 character
                k -= 1
            self.out += piece[:k]
            self.kept, self.cut = self.cap, True

    def result(self) -> bytes:
        """The shortened line, with the newline counts of its cut strings."""
        body = bytes(self.out).rstrip()
        if not body.endswith(b"}"):
            return body + b"\n"
        cut: dict[str, Any] = {"newlines": self.cut_newlines}
        if self.skipped_submatches:
            cut["submatches"] = self.skipped_submatches
        extra = json.dumps(cut, separators=(",", ":")).encode()
        return body[:-1] + b',"cut":' + extra + b"}\n"


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
    return ToolError(
        f"ripgrep rejected {pattern!r}: {detail}; simplify the pattern (smaller repetition counts, fewer alternatives)"
    )


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


def unit_count(raw: bytes) -> int:
    """How many matches a multiline match event holds, without decoding it: its submatches, kept and skipped."""
    kept = max(1, raw.count(SUBMATCH))
    at = raw.rfind(b',"cut":{')
    if at < 0 or b'"submatches":' not in raw[at:]:
        return kept
    return kept + json.loads(raw[at + 7 :].rstrip()[:-1]).get("submatches", 0)


def match_units(
    data: dict[str, Any], multiline: bool, cut: dict[str, Any] | None = None, lo: int = 0, hi: int | None = None
) -> list[MatchUnit]:
    """The matches lo..hi-1 of one event (all by default). For an event JsonShrinker cut (`cut`), lines past the kept
    text are not shown, and a match that starts or ends there, or whose submatch was only counted, is placed at the
    event's last line (its newline count is known)."""
    first, lines = event_lines(data)
    submatches = data.get("submatches") or []
    if not multiline:
        col = char_col(event_text(data["lines"]).encode(), submatches[0]["start"]) if submatches else 0
        return [MatchUnit(first, first, lines[:1], col)]
    body = event_text(data["lines"]).encode()
    skipped = (cut or {}).get("submatches", 0)
    if cut is not None and cut.get("newlines"):
        last = first + max(0, cut["newlines"][0] - 1)  # the event's text ends with its last line's newline
        if lines and not body.endswith(b"\n"):
            lines = lines[:-1]  # a line cut in the middle is not shown as if it were whole
    else:
        last = None
    end_line = last if last is not None else first + max(0, len(lines) - 1)
    total = len(submatches or [None]) + skipped
    units = []
    for k in range(lo, total if hi is None else min(hi, total)):
        if k >= len(submatches or [None]):  # counted, not kept
            units.append(MatchUnit(end_line, end_line, [], 0))
            continue
        sub = submatches[k] if submatches else {"start": 0, "end": 0}
        start, end = sub["start"], sub["end"]
        if last is not None and start >= len(body):
            units.append(MatchUnit(last, last, [], 0))
            continue
        a = body[:start].count(b"\n")
        b = last - first if last is not None and max(start, end - 1) >= len(body) else body[: max(start, end - 1)].count(b"\n")
        line_start = body.rfind(b"\n", 0, start) + 1
        units.append(MatchUnit(first + a, first + b, lines[a : b + 1], char_col(body[line_start:], start - line_start)))
    return units
