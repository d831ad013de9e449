"""The background embedding worker: one commit per document, pause, yielding to `sleuth index`, bad vector files, full disk, kill."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import retrieval.background as background
from retrieval.background import BackgroundEmbedder, Worker, coverage
from retrieval.index import HybridIndex
from retrieval.lock import EMBED_LOCK, write_lock
from retrieval.searcher import HybridSearcher
from tests.retrieval.conftest import FILINGS, FakeEmbedder


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(background, "IDLE_POLL_S", 0.05)
    monkeypatch.setattr(background, "BUSY_WAIT_S", 0.05)
    monkeypatch.setattr(background, "HANDOFF_S", 0.0)


def synced(corpus, settings) -> HybridIndex:
    index = HybridIndex.open(settings.index_dir, settings, create=True)
    index.sync(corpus, FakeEmbedder().count_tokens)
    return index


class Running:
    """A Worker on a thread, with its go/stop events."""

    def __init__(self, settings, embedder=None, *, go: bool = True) -> None:
        self.go, self.stop = threading.Event(), threading.Event()
        if go:
            self.go.set()
        self.embedder = embedder or FakeEmbedder()
        self.worker = Worker(settings.index_dir, settings, self.embedder, self.go, self.stop)
        self.thread = threading.Thread(target=self.worker.loop, daemon=True)
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.go.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def status(settings) -> dict:
    return json.loads((settings.index_dir / background.STATUS_FILE).read_text())


def test_embeds_document_by_document_and_search_picks_each_up(small_corpus, retrieval_settings):
    index = synced(small_corpus, retrieval_settings)
    assert (
        coverage(retrieval_settings.index_dir).line()
        == "dense: 0 of 3 filings; `sleuth serve` embeds the rest in the background, or run `sleuth index`"
    )
    generation = index.manifest.generation
    running = Running(retrieval_settings)
    try:
        wait_for(lambda: coverage(retrieval_settings.index_dir).docs_embedded == 3)
    finally:
        running.finish()
    index.refresh()
    assert index.manifest.generation == generation + 3  # one commit per document
    assert coverage(retrieval_settings.index_dir).line() == "dense: 3 of 3 filings (complete)"
    searcher = HybridSearcher(
        HybridIndex.open(retrieval_settings.index_dir, retrieval_settings), retrieval_settings, FakeEmbedder()
    )
    result = searcher.search("capital expenditures", retrievers=("dense",))
    assert result.passages and not result.notes


def test_coverage_line_shows_time_left_and_state(small_corpus, retrieval_settings):
    synced(small_corpus, retrieval_settings)
    record = {"pid": os.getpid(), "state": "embedding", "rate": 0.05, "message": "", "updated": time.time()}
    (retrieval_settings.index_dir / background.STATUS_FILE).write_text(json.dumps(record))
    found = coverage(retrieval_settings.index_dir)
    assert found.line() == f"dense: 0 of 3 filings, ~{max(1, round(found.chunks / 0.05 / 60))} min left"
    (retrieval_settings.index_dir / background.STATUS_FILE).write_text(
        json.dumps({**record, "pid": 2**22 + 7})
    )  # no such process
    assert coverage(retrieval_settings.index_dir).rate is None
    assert "SLEUTH_EMBEDDING_BACKGROUND" in coverage(retrieval_settings.index_dir, enabled=False).line()
    assert coverage(retrieval_settings.index_dir.parent / "nothing") is None


def test_paused_worker_embeds_nothing_until_resumed(small_corpus, retrieval_settings):
    synced(small_corpus, retrieval_settings)
    running = Running(retrieval_settings, go=False)
    try:
        wait_for(
            lambda: (retrieval_settings.index_dir / background.STATUS_FILE).exists()
            and status(retrieval_settings)["state"] == "paused"
        )
        assert running.embedder.encoded == 0
        assert "paused" in coverage(retrieval_settings.index_dir).line()
        running.go.set()
        wait_for(lambda: coverage(retrieval_settings.index_dir).docs_embedded == 3)
    finally:
        running.finish()


def test_yields_to_sleuth_index_and_never_embeds_beside_it(small_corpus, retrieval_settings):
    index = synced(small_corpus, retrieval_settings)
    with write_lock(retrieval_settings.index_dir, 5, "sleuth index", name=EMBED_LOCK):
        running = Running(retrieval_settings)
        try:
            wait_for(
                lambda: (retrieval_settings.index_dir / background.STATUS_FILE).exists()
                and status(retrieval_settings)["state"] == "waiting"
            )
            assert running.embedder.encoded == 0
            assert "`sleuth index` is embedding" in coverage(retrieval_settings.index_dir).line()
        except BaseException:
            running.finish()
            raise
    try:
        wait_for(lambda: coverage(retrieval_settings.index_dir).docs_embedded == 3)
    finally:
        running.finish()
    from retrieval.lock import IndexBusy

    with write_lock(retrieval_settings.index_dir, 5, background.PURPOSE, name=EMBED_LOCK):  # and `sleuth index` waits for it
        with pytest.raises(IndexBusy, match="being embedded by .*background embedding"):
            index.embed(FakeEmbedder().encode, FakeEmbedder.dim, lock_wait_s=0.1)


def test_a_corrupt_vector_file_is_searched_around_and_re_embedded(small_corpus, retrieval_settings, monkeypatch):
    index = synced(small_corpus, retrieval_settings)
    index.embed(FakeEmbedder().encode, FakeEmbedder.dim)
    victim = index.doc_ids[0]
    path = retrieval_settings.index_dir / "embeddings" / f"{victim}.{index.doc(victim).version}.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    searcher = HybridSearcher(
        HybridIndex.open(retrieval_settings.index_dir, retrieval_settings), retrieval_settings, FakeEmbedder()
    )
    result = searcher.search("capital expenditures", k=20, retrievers=("dense",))  # not fatal: the other filings answer
    assert result.passages and victim not in {p.doc_id for p in result.passages}
    monkeypatch.setattr(background, "CHECK_EVERY_S", 0.0)
    running = Running(retrieval_settings)
    try:
        wait_for(lambda: running.embedder.encoded > 0 and coverage(retrieval_settings.index_dir).docs_embedded == len(FILINGS))
    finally:
        running.finish()
    assert running.embedder.encoded == index.doc(victim).chunks  # only the broken document was embedded again
    assert np.load(path).shape == (index.doc(victim).chunks, FakeEmbedder.dim) and index.check_vectors() == []
    fresh = HybridSearcher(HybridIndex.open(retrieval_settings.index_dir, retrieval_settings), retrieval_settings, FakeEmbedder())
    assert victim in {p.doc_id for p in fresh.search("capital expenditures", k=20, retrievers=("dense",)).passages}


def test_a_full_disk_stops_embedding_with_a_message_and_search_keeps_working(small_corpus, retrieval_settings, monkeypatch):
    import retrieval.index

    synced(small_corpus, retrieval_settings)

    def full(path: Path, array: np.ndarray) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(retrieval.index, "write_npy", full)
    running = Running(retrieval_settings)
    running.thread.join(10)
    assert not running.thread.is_alive()  # it gave up by itself
    line = coverage(retrieval_settings.index_dir).line()
    assert "background embedding stopped: the disk holding" in line and "is full" in line and "free space" in line
    searcher = HybridSearcher(
        HybridIndex.open(retrieval_settings.index_dir, retrieval_settings), retrieval_settings, FakeEmbedder()
    )
    result = searcher.search("capital expenditures")
    assert result.passages and any("no embeddings yet" in n for n in result.notes)


class DiesOnSecond(FakeEmbedder):
    """Dies (like a killed process: no clean-up) while embedding the second document."""

    calls = 0

    def encode(self, texts, progress=False):
        self.calls += 1
        if self.calls == 2:
            os._exit(9)
        return super().encode(texts)


def _die_midway(settings) -> None:
    go, stop = threading.Event(), threading.Event()
    go.set()
    Worker(settings.index_dir, settings, DiesOnSecond(), go, stop).loop()


def test_a_killed_worker_loses_at_most_the_document_in_progress(small_corpus, retrieval_settings):
    index = synced(small_corpus, retrieval_settings)
    child = multiprocessing.get_context("spawn").Process(target=_die_midway, args=(retrieval_settings,))
    child.start()
    child.join(30)
    assert child.exitcode == 9
    index.refresh()
    assert len(index.pending()) == 2  # the first document's commit stands
    assert coverage(retrieval_settings.index_dir).state == "idle"  # the dead worker's status says nothing
    running = Running(retrieval_settings)
    try:
        wait_for(lambda: coverage(retrieval_settings.index_dir).docs_embedded == len(FILINGS))
    finally:
        running.finish()
    assert running.embedder.encoded == sum(index.doc(d).chunks for d in index.doc_ids[1:])  # the first was not redone


def test_the_worker_process_embeds_at_low_priority_and_stops(small_corpus, tmp_path):
    from retrieval.embed import Embedder
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings(index_dir=tmp_path / "index", embedding_runtime="onnx-int8")
    index = HybridIndex.open(settings.index_dir, settings, create=True)
    index.sync(small_corpus, Embedder().count_tokens)
    worker = BackgroundEmbedder(settings.index_dir, settings, threads=1)
    worker.start()
    try:
        wait_for(lambda: coverage(settings.index_dir).docs_embedded == len(FILINGS), timeout=120)
        assert os.getpriority(os.PRIO_PROCESS, worker._process.pid) == background.NICE
        worker.pause(True)
        assert worker.paused and worker.alive()
    finally:
        worker.stop()
    assert not worker.alive()
    index.refresh()
    assert index.matrix() is not None and index.manifest.dim == 384


def test_time_paused_in_a_document_is_not_counted_in_the_rate(small_corpus, retrieval_settings, monkeypatch):
    # The server pauses the worker while research runs use the CPU model; the rate (and the time left shown) must not
    # count that wait as embedding time (a newcomer saw "~44 min left" turn into "~119 min left" after one run).
    monkeypatch.setattr(background, "PAUSE_SLICE", 1)  # a look at the pause flag after every chunk
    synced(small_corpus, retrieval_settings)
    embedder = FakeEmbedder()
    running = None

    def encode(texts):
        if running is not None and running.go.is_set() and not getattr(encode, "paused", False):
            encode.paused = True
            running.go.clear()  # paused in the middle of the first document, for 1.5 s
            threading.Timer(1.5, running.go.set).start()
        return FakeEmbedder.encode(embedder, texts)

    embedder.encode = encode
    running = Running(retrieval_settings, embedder)
    try:
        wait_for(lambda: coverage(retrieval_settings.index_dir).docs_embedded == 3)
    finally:
        running.finish()
    assert encode.paused
    chunks, seconds = running.worker.rates[0]
    assert chunks > 1 and seconds < 1.0, f"{chunks} chunks in {seconds:.2f} s: the 1.5 s pause was counted"
