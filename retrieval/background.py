"""Embeddings computed in the background: a low-priority worker process that embeds the local index document by document.

The server starts one (`BackgroundEmbedder`); it embeds whatever the index has not embedded yet (new uploads included),
one document per commit, so search uses each document as it lands. It runs at the lowest CPU priority (nice 19: anything
else on the machine takes the CPU first) with a thread per core (SLEUTH_RETRIEVAL_EMBEDDING_BACKGROUND_THREADS), pauses
while the parent asks it to (runs waiting on the CPU model), yields to `sleuth index`
(both take the index's embed lock, so they never write the same files at once), re-embeds a document whose vector file
is unreadable, and stops with a message on a full disk (search keeps working on what is embedded). Its progress is a
small JSON file beside the manifest, so `sleuth docs` and every server process can show coverage and the time left.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import multiprocessing
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATUS_FILE = "embedding-status.json"
IDLE_POLL_S = 5.0  # how often an idle worker looks for new documents
CHECK_EVERY_S = 60.0  # how often it checks the embedded documents' vector files
BUSY_WAIT_S = 10.0  # how long it waits before asking again when `sleuth index` is embedding
HANDOFF_S = 0.5  # the embed lock stays free this long after each document, so a waiting `sleuth index` gets it
PAUSE_SLICE = 64  # chunks embedded between two looks at the pause flag
NICE = 19
PURPOSE = "background embedding"  # the embed lock's holder record of a server's worker


@dataclass
class Coverage:
    """How much of the local index dense retrieval covers, and what the background worker is doing."""

    docs: int
    docs_embedded: int
    chunks: int
    chunks_embedded: int
    state: str  # embedding, done, paused, waiting (another writer embeds), stopped (a message says why), idle (no worker), off
    rate: float | None = None  # chunks/s of the worker's recent documents
    message: str = ""

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the measured rate (None before the first document or when nothing moves)."""
        left = self.chunks - self.chunks_embedded
        if left <= 0:
            return 0.0
        return left / self.rate if self.rate and self.state in ("embedding", "paused", "waiting") else None

    def line(self) -> str:
        """E.g. 'dense: 64 of 181 filings, ~6 min left'."""
        text = f"dense: {self.docs_embedded} of {self.docs} filings"
        if self.docs_embedded >= self.docs:
            return text + " (complete)"
        eta = self.eta_s
        if eta is not None:
            text += f", ~{max(1, round(eta / 60))} min left"
        if self.state == "paused":
            text += " (paused while the CPU model answers)"
        elif self.state == "waiting":
            text += " (`sleuth index` is embedding)"
        elif self.state == "off":
            text += "; background embedding is off (SLEUTH_EMBEDDING_BACKGROUND=false): run `sleuth index`"
        elif self.state == "stopped":
            text += f"; background embedding stopped: {self.message}"
        elif self.state == "idle":
            text += "; `sleuth serve` embeds the rest in the background, or run `sleuth index`"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "eta_s": None if self.eta_s is None else round(self.eta_s), "line": self.line()}


def coverage(index_dir: Path, *, enabled: bool = True) -> Coverage | None:
    """Coverage from the committed manifest and the worker's status file; None when there is no index yet."""
    try:
        manifest = json.loads((index_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    docs = manifest.get("docs", {}).values()
    result = Coverage(
        docs=len(docs),
        docs_embedded=sum(1 for d in docs if d.get("embedded")),
        chunks=sum(int(d.get("chunks", 0)) for d in docs),
        chunks_embedded=sum(int(d.get("chunks", 0)) for d in docs if d.get("embedded")),
        state="done" if enabled else "off",
    )
    status = read_status(index_dir)
    if enabled and status and result.docs_embedded < result.docs:
        result.state, result.rate, result.message = (
            status.get("state", "embedding"),
            status.get("rate"),
            status.get("message", ""),
        )
    elif enabled and result.docs_embedded < result.docs:
        result.state = "idle"  # no worker alive: no server running (or it is just starting)
    return result


def read_status(index_dir: Path) -> dict | None:
    """The worker's last status record, if its process is still alive (a dead worker's record says nothing)."""
    try:
        status = json.loads((index_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    from corpus.processes import pid_running

    if not isinstance(status, dict) or not isinstance(status.get("pid"), int) or not pid_running(status["pid"]):
        return None
    return status


class BackgroundEmbedder:
    """The parent's handle on the worker process: start, pause/resume, stop, coverage."""

    def __init__(self, index_dir: Path, settings: Any, threads: int | None = None) -> None:
        from retrieval.embed import available_cpus

        self.index_dir = index_dir
        self.settings = settings
        self.threads = threads or settings.embedding_background_threads or available_cpus()
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of the server's threads and locks
        self._go = context.Event()
        self._stop = context.Event()
        self._go.set()
        self._process = context.Process(
            target=run,
            args=(str(index_dir), settings.model_dump(mode="json"), self.threads, self._go, self._stop),
            name="sleuth-embedder",
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()
        log.info("background embedding started (pid %s, %d threads, nice %d)", self._process.pid, self.threads, NICE)

    def pause(self, paused: bool) -> None:
        """Pause (True) or resume (False) between two slices of a document."""
        (self._go.clear if paused else self._go.set)()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    def alive(self) -> bool:
        return self._process.is_alive()

    def coverage(self) -> Coverage | None:
        return coverage(self.index_dir)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the worker to stop after its current slice; a worker that does not, is terminated (it loses that document)."""
        if self._process.pid is None:
            return
        self._stop.set()
        self._go.set()
        self._process.join(timeout_s)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


def run(index_dir: str, settings: dict, threads: int, go: Any, stop: Any) -> None:
    """The worker process: lowest priority, `threads` threads, one document per commit until stopped."""
    with contextlib.suppress(OSError):
        os.nice(NICE)
    logging.basicConfig(level=logging.INFO, format="sleuth embedder: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from retrieval.embed import Embedder
    from retrieval.settings import RetrievalSettings

    retrieval_settings = RetrievalSettings(**settings)
    embedder = Embedder.from_settings(retrieval_settings)
    embedder.threads = threads
    worker = Worker(Path(index_dir), retrieval_settings, embedder, go, stop)
    try:
        worker.loop()
    except Exception as exc:  # noqa: BLE001 - said in the status file and the log; the server keeps serving
        log.exception("background embedding failed")
        worker.say("stopped", f"{type(exc).__name__}: {exc}"[:300])


class Worker:
    """What the worker process does (`go` set: may run; `stop` set: finish); tests drive it in-process with threading.Events."""

    def __init__(self, index_dir: Path, settings: Any, embedder: Any, go: Any, stop: Any) -> None:
        self.directory = index_dir
        self.settings = settings
        self.embedder = embedder
        self.go, self.stop = go, stop
        self.rates: list[tuple[int, float]] = []  # (chunks, seconds embedding) of recent documents
        self.paused_s = 0.0  # seconds the document in progress waited while paused
        self.checked = 0.0

    def say(self, state: str, message: str = "") -> None:
        chunks, seconds = sum(c for c, _ in self.rates), sum(s for _, s in self.rates)
        record = {
            "pid": os.getpid(),
            "state": state,
            "message": message,
            "rate": round(chunks / seconds, 2) if seconds else None,
            "updated": time.time(),
        }
        with contextlib.suppress(OSError):
            tmp = self.directory / f".{STATUS_FILE}.{os.getpid()}"
            tmp.write_text(json.dumps(record))
            os.replace(tmp, self.directory / STATUS_FILE)

    def loop(self) -> None:
        from retrieval.index import HybridIndex
        from retrieval.lock import IndexBusy
        from retrieval.manifest import IndexError_

        index = None
        while not self.stop.is_set():
            if index is None:
                try:
                    index = HybridIndex.open(self.directory, self.settings)
                except IndexError_:  # no index yet (or being rebuilt): look again later
                    self.stop.wait(IDLE_POLL_S)
                    continue
            if time.monotonic() - self.checked > CHECK_EVERY_S:
                broken = index.check_vectors()
                if broken:
                    log.warning(
                        "re-embedding %d documents whose vector files were unreadable: %s", len(broken), ", ".join(broken[:5])
                    )
                self.checked = time.monotonic()
            index.refresh()
            pending = index.pending()
            if not pending:
                self.say("done")
                self.stop.wait(IDLE_POLL_S)
                continue
            self._wait_while_paused()
            if self.stop.is_set():
                break
            try:
                self._embed_one(index, pending[0])
            except _Stopped:
                break
            except IndexBusy:
                from retrieval.lock import EMBED_LOCK, holder

                if (holder(self.directory, f"{EMBED_LOCK}.json") or {}).get(
                    "command"
                ) != PURPOSE:  # not a sibling server's worker
                    self.say("waiting", "`sleuth index` is embedding")
                self.stop.wait(BUSY_WAIT_S)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    message = f"the disk holding {self.directory} is full ({exc.strerror}); free space and restart the server"
                    log.error("background embedding stopped: %s", message)
                    self.say("stopped", message)
                    return
                raise
        self.say("stopped", "the server stopped")

    def _wait_while_paused(self) -> None:
        if not self.go.is_set():
            self.say("paused")
            began = time.perf_counter()
            while not self.go.wait(1.0) and not self.stop.is_set():
                pass
            self.paused_s += time.perf_counter() - began  # not embedding time: the rate (and time left) leave it out

    def _embed_one(self, index: Any, doc_id: str) -> None:
        self.say("embedding", doc_id)
        started, self.paused_s = time.perf_counter(), 0.0
        done = index.embed(self._encode, self.embedder.dim, doc_ids=[doc_id], lock_wait_s=0, purpose=PURPOSE)
        if done:
            self.rates = [*self.rates[-9:], (done, max(1e-3, time.perf_counter() - started - self.paused_s))]
        self.stop.wait(HANDOFF_S)

    def _encode(self, texts: list[str]) -> Any:
        """The embedder's encode in slices, looking at the pause flag between them (a long filing must not hold the CPU)."""
        import numpy as np

        parts = []
        for start in range(0, len(texts), PAUSE_SLICE):
            self._wait_while_paused()
            if self.stop.is_set():
                raise _Stopped
            if start:
                self.say("embedding")
            parts.append(self.embedder.encode(texts[start : start + PAUSE_SLICE]))
        return np.concatenate(parts) if parts else np.zeros((0, self.embedder.dim), dtype=np.float32)


class _Stopped(Exception):
    """The server asked the worker to stop in the middle of a document: that document is left for next time."""
