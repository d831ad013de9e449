"""One writer at a time for the local index, across processes (the CLI and every server share it).

The lock is an OS file lock (`filelock`, flock on POSIX) on `<index>/write.lock`: the kernel
releases it when its holder exits or crashes, so a dead writer never blocks the next one. Beside
it, `write.lock.json` names the holder (pid, host, command, since); a holder record whose process
is gone is a stale lock: the next writer says so, takes over, and the commit protocol (immutable
segment files, manifest replaced last) means nothing half-written was ever visible.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from corpus.errors import CorpusError
from corpus.processes import pid_running

log = logging.getLogger(__name__)

LOCK_FILE = "write.lock"
HOLDER_FILE = "write.lock.json"
EMBED_LOCK = "embed.lock"  # held by whoever computes embeddings, for the whole run (the write lock is taken per commit)


class IndexBusy(CorpusError):
    """Another process holds the index's write lock for longer than we may wait."""


def holder(directory: Path, holder_file: str = HOLDER_FILE) -> dict | None:
    """Who last took the write lock of `directory` (None when nobody has or the record is unreadable)."""
    try:
        data = json.loads((directory / holder_file).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stale_holder(directory: Path, holder_file: str = HOLDER_FILE) -> dict | None:
    """The holder record of a writer on this host that is gone (crashed or killed mid-write), else None."""
    record = holder(directory, holder_file)
    if not record or record.get("host") != socket.gethostname():
        return None
    pid = record.get("pid")
    if isinstance(pid, int) and pid != os.getpid() and not pid_running(pid):
        return record
    return None


@contextlib.contextmanager
def write_lock(directory: Path, timeout_s: float = 120.0, purpose: str = "", name: str = LOCK_FILE) -> Iterator[None]:
    """Hold the index's write lock (or the lock `name`) for the block; IndexBusy after `timeout_s` names who holds it."""
    from filelock import FileLock, Timeout

    directory.mkdir(parents=True, exist_ok=True)
    holder_file = f"{name}.json"
    lock = FileLock(str(directory / name), thread_local=False)
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        record = holder(directory, holder_file) or {}
        who = f"pid {record.get('pid', '?')} on {record.get('host', '?')} ({record.get('command', '?')}, since {record.get('since', '?')})"
        doing = "embedded" if name == EMBED_LOCK else "written"
        raise IndexBusy(
            f"the search index in {directory} is being {doing} by {who}; waited {timeout_s:.0f} s. "
            "Wait for it to finish (or stop it), then run the command again"
        ) from None
    try:
        stale = stale_holder(directory, holder_file)
        if stale:
            log.warning(
                "index %s: the previous writer (pid %s, %s, since %s) died while holding the lock; its unfinished work is discarded",
                directory,
                stale.get("pid"),
                stale.get("command"),
                stale.get("since"),
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": purpose or " ".join(sys.argv[:3])[:200],
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (directory / holder_file).write_text(json.dumps(record))
        yield
    finally:
        with contextlib.suppress(OSError):
            (directory / holder_file).unlink()
        lock.release()
