"""Uploaded filings: safe names, size limit, type checked by content; all files are checked before any is kept."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, UploadFile

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
        raise HTTPException(400, f"file name {name!r} is not allowed: use a plain name like 3M_2018_10K.pdf (letters, digits, . _ - & ( ) +)")
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


async def receive(files: list[UploadFile], folder: Path, max_bytes: int) -> list[Upload]:
    """Write the uploads into `folder`; any bad file rejects the whole request and nothing is kept."""
    if not files:
        raise HTTPException(400, "no files: send one or more filings as multipart form field 'files'")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        out: list[Upload] = []
        seen: set[str] = set()
        for upload in files:
            name = check_name(upload.filename)
            if name in seen:
                raise HTTPException(400, f"{name} is uploaded twice in one request")
            seen.add(name)
            path, size, head = folder / name, 0, b""
            with path.open("wb") as sink:
                while chunk := await upload.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise HTTPException(413, f"{name} is larger than {max_bytes // (1 << 20)} MB (SLEUTH_API_UPLOAD_MAX_MB)")
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    sink.write(chunk)
            if size == 0:
                raise HTTPException(400, f"{name} is empty")
            expected, found = _KINDS[Path(name).suffix.lower()], sniff(head)
            if found != expected:
                what = {"pdf": "a PDF", "html": "HTML", "text": "text", None: "binary data of no filing type"}[found]
                raise HTTPException(415, f"{name} is named like {expected} but its content is {what}; upload real filings (PDF, HTML, TXT, MD)")
            out.append(Upload(name, path, expected, size))
        return out
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


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
                stale = time.time() - folder.stat().st_mtime > UNCLAIMED_GRACE_S
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
