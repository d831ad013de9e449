"""Original files of ingested documents, content-addressed (sha256), kept in the data dir for page images."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from corpus.models import Document
from corpus.text_store import _TMP_MARK, _writer_alive

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks: the name its original is kept under."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class OriginalStore:
    """`<root>/<sha256>` holds the bytes a document was ingested from; `<root>/../page-images/<sha256>/` what was rendered from it."""

    def __init__(self, root: Path, renders: Path) -> None:
        self.root = root
        self.renders = renders

    def path(self, content_hash: str) -> Path:
        if not _SHA256.match(content_hash):
            raise ValueError(f"not a sha256 content hash: {content_hash!r}")
        return self.root / content_hash

    def render_dir(self, content_hash: str) -> Path:
        self.path(content_hash)  # validates the hash
        return self.renders / content_hash

    def has(self, content_hash: str) -> bool:
        return self.path(content_hash).is_file()

    def keep(self, source: Path, content_hash: str) -> Path:
        """Copy `source` (whose sha256 the caller computed) into the store, atomically; a no-op when it is there already.

        Not fsynced (that tripled the cost of copying the FinanceBench set): an original lost in a crash comes back by
        ingesting the file again, and a torn copy has the wrong size, so that re-ingest replaces it.
        """
        target = self.path(content_hash)
        if target.is_file() and target.stat().st_size == source.stat().st_size:
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{content_hash}{_TMP_MARK}{os.getpid()}-{threading.get_ident()}-{secrets.token_hex(4)}")
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def release(self, sessions: sessionmaker[Session], content_hash: str | None) -> bool:
        """Delete the original (and its rendered pages) once no document references the content; True when deleted."""
        if not content_hash or not _SHA256.match(content_hash):
            return False
        with sessions() as session:
            if session.scalars(select(Document.id).where(Document.content_hash == content_hash).limit(1)).first() is not None:
                return False
        self.path(content_hash).unlink(missing_ok=True)
        shutil.rmtree(self.render_dir(content_hash), ignore_errors=True)
        return True

    def clean_temp_files(self) -> int:
        """Remove temp files an interrupted copy left behind (not those of a live writer); returns how many."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for path in self.root.glob(f".*{_TMP_MARK}*"):
            if _writer_alive(path.name):
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed
