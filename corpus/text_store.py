"""The text store: one ripgrep-searchable UTF-8 file per document plus its line -> page map."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import stat
import threading
from pathlib import Path

from corpus.errors import CorpusError, DocumentNotFound
from corpus.processes import pid_running
from corpus.text import PagedText

_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_TMP_MARK = ".tmp-"


class UnsafeStoreFile(DocumentNotFound):
    """The store's file for a doc_id is a symlink, a folder or a device: it is never read (it could point outside the store)."""


class StoreInconsistent(CorpusError):
    """Text and page map of a document disagree (an interrupted write); re-ingesting repairs it."""

    def __init__(self, doc_id: str) -> None:
        super().__init__(f"stored text of '{doc_id}' does not match its page map; run `sleuth ingest` on its file again")


def default_doc_id(path: Path) -> str:
    """File name without suffix, characters outside [A-Za-z0-9_.-] replaced by '_'."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem).strip("._-") or "document"
    return slug[:200]


def is_valid_doc_id(doc_id: str) -> bool:
    return bool(_DOC_ID.match(doc_id)) and ".." not in doc_id


class TextStore:
    """`<root>/text/<doc_id>.txt` holds the lines; `<root>/pages/<doc_id>.json` the page starts and hashes."""

    def __init__(self, text_dir: Path, pages_dir: Path) -> None:
        self.text_dir = text_dir
        self.pages_dir = pages_dir

    def text_path(self, doc_id: str) -> Path:
        self._check(doc_id)
        return self.text_dir / f"{doc_id}.txt"

    def map_path(self, doc_id: str) -> Path:
        self._check(doc_id)
        return self.pages_dir / f"{doc_id}.json"

    def write(self, doc_id: str, text: PagedText, content_hash: str) -> None:
        """Write both files atomically (temp file, fsync, rename); the map names the text's hash."""
        body = text.text.encode("utf-8")
        page_map = {
            "doc_id": doc_id,
            "content_hash": content_hash,
            "text_sha256": hashlib.sha256(body).hexdigest(),
            "line_count": text.line_count,
            "page_starts": list(text.page_starts),
        }
        self.text_dir.mkdir(parents=True, exist_ok=True)
        self.pages_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self.text_path(doc_id), body)
        atomic_write(self.map_path(doc_id), json.dumps(page_map, separators=(",", ":")).encode())

    def version(self, doc_id: str) -> tuple[int, ...] | None:
        """Identity of the stored files (inode, size, mtime of text and map): it changes whenever the document is
        written again; None when it is missing or not a pair of regular files."""
        out: list[int] = []
        for path in (self.text_path(doc_id), self.map_path(doc_id)):
            try:
                st = os.lstat(path)
            except OSError:
                return None
            if not stat.S_ISREG(st.st_mode):
                return None
            out += [st.st_ino, st.st_size, st.st_mtime_ns]
        return tuple(out)

    def has(self, doc_id: str) -> bool:
        """Whether `doc_id` is a valid name with safe stored files (symlinks and odd files do not count)."""
        return is_valid_doc_id(doc_id) and self.version(doc_id) is not None

    def read_map(self, doc_id: str) -> dict:
        """The page map of `doc_id` (DocumentNotFound when missing or not a regular file; ValueError when damaged)."""
        try:
            return json.loads(read_regular(self.map_path(doc_id)))
        except FileNotFoundError as exc:
            raise DocumentNotFound(doc_id) from exc
        except UnsafeFile as exc:
            raise UnsafeStoreFile(doc_id) from exc

    def read(self, doc_id: str) -> PagedText:
        try:
            page_map = json.loads(read_regular(self.map_path(doc_id)))
            body = read_regular(self.text_path(doc_id)).decode("utf-8")
        except FileNotFoundError as exc:
            raise DocumentNotFound(doc_id) from exc
        except UnsafeFile as exc:
            raise UnsafeStoreFile(doc_id) from exc
        lines = tuple(body[:-1].split("\n")) if body else ()
        if len(lines) != page_map.get("line_count"):
            raise StoreInconsistent(doc_id)
        return PagedText(lines, tuple(page_map["page_starts"]))

    def stored_hash(self, doc_id: str) -> str | None:
        """Content hash the stored text came from, or None if the document is missing or damaged."""
        try:
            page_map = json.loads(read_regular(self.map_path(doc_id)))
            body = read_regular(self.text_path(doc_id))
        except (OSError, ValueError, UnsafeFile):
            return None
        if hashlib.sha256(body).hexdigest() != page_map.get("text_sha256"):
            return None
        return page_map.get("content_hash")

    def snapshot(self, doc_id: str) -> tuple[bytes | None, bytes | None]:
        """The stored bytes of text and page map (None where missing), to put back with `restore`."""
        out: list[bytes | None] = []
        for path in (self.text_path(doc_id), self.map_path(doc_id)):
            try:
                out.append(read_regular(path))
            except (FileNotFoundError, UnsafeFile):
                out.append(None)
        return out[0], out[1]

    def restore(self, doc_id: str, snapshot: tuple[bytes | None, bytes | None]) -> None:
        """Put back what `snapshot` saw: the files as they were, or none where there were none."""
        for path, data in zip((self.text_path(doc_id), self.map_path(doc_id)), snapshot, strict=True):
            if data is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, data)

    def remove(self, doc_id: str) -> None:
        for path in (self.text_path(doc_id), self.map_path(doc_id)):
            path.unlink(missing_ok=True)

    def doc_ids(self) -> set[str]:
        if not self.text_dir.is_dir():
            return set()
        return {p.stem for p in self.text_dir.glob("*.txt")}

    def clean_temp_files(self) -> int:
        """Remove temp files an interrupted write left behind; returns how many.

        A temp file of a live process on this machine (the server writing while the CLI opens the corpus) is left alone.
        """
        removed = 0
        for folder in (self.text_dir, self.pages_dir):
            if folder.is_dir():
                for path in folder.glob(f".*{_TMP_MARK}*"):
                    if _writer_alive(path.name):
                        continue
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    @staticmethod
    def _check(doc_id: str) -> None:
        if not is_valid_doc_id(doc_id):
            raise ValueError(f"invalid doc_id {doc_id!r}: use letters, digits, '_', '.', '-' (max 200)")


def _writer_alive(temp_name: str) -> bool:
    """Whether the process named in a temp file's name (".<name>.tmp-<pid>-...") is running (this one included:
    another of its threads may be writing)."""
    pid_text = temp_name.rpartition(_TMP_MARK)[2].split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    return int(pid_text) == os.getpid() or pid_running(int(pid_text))


class UnsafeFile(Exception):
    """A store path that is not a regular file (a symlink, a folder, a FIFO, a device)."""


def read_regular(path: Path) -> bytes:
    """The bytes of `path` if it is a regular file reached without following a symlink; UnsafeFile otherwise.

    Every read of the text store goes through here: store names are flat (a valid doc_id has no '/'), so
    refusing a symlink as the last component keeps reads inside the store folder.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise UnsafeFile(str(path)) from exc
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFile(str(path))
        return fh.read()


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` all at once (temp file, fsync, rename); creates the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden temp name: ripgrep skips dot files, so a half-written file is never searched.
    # Unique per process, thread and call: two writers of one document never share a temp file.
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}-{threading.get_ident()}-{secrets.token_hex(4)}")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
