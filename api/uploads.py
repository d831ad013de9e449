"""Uploaded filings, streamed to disk as they arrive: safe names, size and count limits at the byte that passes them, type
checked by content; all files are checked before any is kept."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import HTTPException, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._&()+-]{0,198}$")
_CHUNK = 1 << 20
_RUN_MARK = ".run"  # names the ingest job a staging folder belongs to
UNCLAIMED_GRACE_S = 600  # a folder with no job yet (request in flight) is left alone this long
log = logging.getLogger(__name__)
_KINDS = {".pdf": "pdf", ".htm": "html", ".html": "html", ".txt": "text", ".md": "text"}


@dataclass
class Upload:
    name: str
    path: Path
    kind: str
    size: int


def check_name(name: str | None) -> str:
    """The file name as given, if it is a plain name: no directories, no '..', no control characters."""
    if not name:
        raise HTTPException(400, "an uploaded file has no name; send each file with a filename")
    if "/" in name or "\\" in name or "\x00" in name or name.startswith(".") or ".." in name or not _NAME.match(name):
        raise HTTPException(
            400, f"file name {name!r} is not allowed: use a plain name like 3M_2018_10K.pdf (letters, digits, . _ - & ( ) +)"
        )
    suffix = Path(name).suffix.lower()
    if suffix not in _KINDS:
        raise HTTPException(415, f"{name}: {suffix or 'no extension'} is not a filing type; upload PDF, HTML/HTM, TXT or MD")
    return name


def sniff(head: bytes) -> str | None:
    """What the first bytes say the file is: pdf, html, text, or None (binary or unknown)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    lowered = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered[:1024]:
        return "html"
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return None
    return "text"


@dataclass
class Received:
    uploads: list[Upload]
    fields: dict[str, str]  # the request's small text fields (e.g. replace=true)


FIELDS = {"replace": 16}  # text fields an upload may carry, with their longest value


async def receive(request: Request, folder: Path, max_bytes: int, max_files: int) -> Received:
    """Stream a multipart request's files into `folder`, checking each as it arrives: name, count, size, content type.

    Nothing is held in memory or spooled elsewhere first: a file passing `max_bytes` is refused at that byte, the
    `max_files`+1st file at its headers. Any bad file rejects the whole request and nothing is kept.
    """
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise HTTPException(415, "send the filings as multipart/form-data, one form field 'files' per file (curl -F files=@FILE)")
    receiver = _Receiver(folder, max_bytes, max_files)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        parser = MultipartParser(params[b"boundary"], receiver.callbacks())
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise HTTPException(400, f"the multipart body is malformed ({exc}); send files as form field 'files'") from exc
            await receiver.apply()
        try:
            parser.finalize()
        except FormParserError as exc:
            raise HTTPException(400, f"the multipart body ended early ({exc})") from exc
        await receiver.apply()
        if receiver.part is not None:
            raise HTTPException(400, "the multipart body ended inside a file; send the whole request")
        if not receiver.out:
            raise HTTPException(400, "no files: send one or more filings as multipart form field 'files'")
        return Received(receiver.out, receiver.fields)
    except BaseException:
        receiver.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.field, self.value = b"", b""
        self.name: str | None = None  # a file's name; None for a text field
        self.field_name = ""
        self.path: Path | None = None
        self.sink: BinaryIO | None = None
        self.size = 0
        self.head = b""
        self.text = b""
        self.pending: list[bytes] = []


class _Receiver:
    """python-multipart's streaming parser calls these as bytes arrive; `apply` then does the file I/O off the event loop."""

    def __init__(self, folder: Path, max_bytes: int, max_files: int) -> None:
        self.folder, self.max_bytes, self.max_files = folder, max_bytes, max_files
        self.ops: list[tuple[str, _Part]] = []
        self.part: _Part | None = None
        self.out: list[Upload] = []
        self.fields: dict[str, str] = {}
        self.seen: set[str] = set()
        self.started = 0
        self.opened: list[_Part] = []

    def callbacks(self) -> dict[str, Any]:
        def begin() -> None:
            self.part = _Part()

        def header_field(data: bytes, start: int, end: int) -> None:
            self.part.field += data[start:end]

        def header_value(data: bytes, start: int, end: int) -> None:
            self.part.value += data[start:end]

        def header_end() -> None:
            if len(self.part.headers) < 16:
                self.part.headers[self.part.field.lower()] = self.part.value
            self.part.field, self.part.value = b"", b""

        def headers_finished() -> None:
            self._start(self.part)  # raises at once for a bad name or one file too many

        def data(data: bytes, start: int, end: int) -> None:
            self._data(self.part, data[start:end])

        def part_end() -> None:
            self.ops.append(("end", self.part))
            self.part = None

        return {
            "on_part_begin": begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_headers_finished": headers_finished,
            "on_part_data": data,
            "on_part_end": part_end,
        }

    def _start(self, part: _Part) -> None:
        _, options = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.field_name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            if part.field_name not in FIELDS:
                raise HTTPException(
                    400, f"unexpected form field {part.field_name[:40]!r}: send filings as 'files' (and optionally replace=true)"
                )
            return
        if part.field_name != "files":
            raise HTTPException(400, f"files go in form field 'files', not {part.field_name[:40]!r}")
        if self.started >= self.max_files:
            raise HTTPException(
                413, f"more than {self.max_files} files in one request (SLEUTH_API_UPLOAD_MAX_FILES); send them in several"
            )
        name = check_name(options[b"filename"].decode("utf-8", "replace"))
        if name in self.seen:
            raise HTTPException(400, f"{name} is uploaded twice in one request")
        self.seen.add(name)
        self.started += 1
        part.name, part.path = name, self.folder / name
        self.ops.append(("open", part))

    def _data(self, part: _Part, chunk: bytes) -> None:
        if part.name is None:
            part.text += chunk
            if len(part.text) > FIELDS[part.field_name]:
                raise HTTPException(400, f"form field {part.field_name!r} is too long; send replace=true or replace=false")
            return
        part.size += len(chunk)
        if part.size > self.max_bytes:
            raise HTTPException(413, f"{part.name} is larger than {self.max_bytes // (1 << 20)} MB (SLEUTH_API_UPLOAD_MAX_MB)")
        if len(part.head) < 8192:
            part.head += chunk[: 8192 - len(part.head)]
        part.pending.append(chunk)
        if sum(map(len, part.pending)) >= _CHUNK:
            self.ops.append(("write", part))

    async def apply(self) -> None:
        ops, self.ops = self.ops, []
        for op, part in ops:
            if op == "open":
                part.sink = await asyncio.to_thread(part.path.open, "wb")
                self.opened.append(part)
            elif op == "write":
                await self._flush(part)
            elif op == "end":
                await self._finish(part)

    async def _flush(self, part: _Part) -> None:
        if part.pending and part.sink is not None:
            block, part.pending = b"".join(part.pending), []
            await asyncio.to_thread(part.sink.write, block)

    async def _finish(self, part: _Part) -> None:
        if part.name is None:
            self.fields[part.field_name] = part.text.decode("utf-8", "replace").strip()
            return
        await self._flush(part)
        await asyncio.to_thread(part.sink.close)
        if part.size == 0:
            raise HTTPException(400, f"{part.name} is empty")
        expected, found = _KINDS[Path(part.name).suffix.lower()], sniff(part.head)
        if found != expected:
            what = {"pdf": "a PDF", "html": "HTML", "text": "text", None: "binary data of no filing type"}[found]
            raise HTTPException(
                415, f"{part.name} is named like {expected} but its content is {what}; upload real filings (PDF, HTML, TXT, MD)"
            )
        self.out.append(Upload(part.name, part.path, expected, part.size))

    def close(self) -> None:
        for part in self.opened:
            if part.sink is not None and not part.sink.closed:
                part.sink.close()


def staged(work: Callable[[Any], Awaitable[Any]], folder: Path, run_id: str, store: Any) -> Callable[[Any], Awaitable[Any]]:
    """The ingest job `work`, which removes its staged uploads when it ends (done, failed or cancelled), then sweeps strays.

    The ingested documents keep their originals in the data dir (corpus.originals), so nothing here is needed afterwards.
    """
    (folder / _RUN_MARK).write_text(run_id)

    async def run(emit: Any) -> Any:
        try:
            return await work(emit)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
            await asyncio.to_thread(sweep, folder.parent, store)

    return run


def sweep(root: Path, store: Any) -> int:
    """Remove staging folders whose ingest job has ended (or never started: cancelled while queued, server restarted)."""
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        try:
            run_id = (folder / _RUN_MARK).read_text().strip()
        except OSError:
            run_id = None
        try:
            if run_id is None:
                newest = max(
                    [folder.stat().st_mtime] + [f.stat().st_mtime for f in folder.iterdir()]
                )  # a file still arriving is fresh
                stale = time.time() - newest > UNCLAIMED_GRACE_S
            else:
                run = store.get(run_id)
                stale = run is None or run.status not in {"queued", "running"}
        except Exception:  # noqa: BLE001 - a sweep must never fail an upload; the next one tries again
            log.warning("could not check staged upload folder %s", folder, exc_info=True)
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
