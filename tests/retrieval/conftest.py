"""Fixtures for retrieval tests: a small ingested corpus and a deterministic fake embedder."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from corpus.catalog import Corpus
from retrieval.settings import RetrievalSettings


def word_count(lines: list[str]) -> list[int]:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return [len(line.split()) for line in lines]


class FakeEmbedder:
    """Bag-of-words hashing vectors: texts sharing words are close. Deterministic, no torch."""

    name = "fake"
    dim = 64
    max_tokens = 256

    def __init__(self) -> None:
        self.encoded = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"[a-z]+", text.lower()):
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.encoded += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return word_count(texts)


FILINGS = {
    "ACME_2021_10K": ("ACME WIDGETS, INC.", 2021, "Capital expenditures were $410 million. Revenue was $1,200 million."),
    "ACME_2022_10K": ("ACME WIDGETS, INC.", 2022, "Capital expenditures were $577 million. Revenue was $1,577 million."),
    "GLOBEX_2022_10K": ("GLOBEX CORPORATION", 2022, "Capital expenditures were $90 million. Our strategy is expansion in Asia."),
}


def build_small_corpus(root: Path) -> Corpus:
    """Three synthetic 10-Ks of two companies ingested under `root`."""
    from tests.corpus.samples import ingest_folder, ten_k, write_pdf

    folder = root / "filings"
    folder.mkdir()
    for doc_id, (company, year, body) in FILINGS.items():
        write_pdf(folder / f"{doc_id}.pdf", ten_k(company, year, body))
    return ingest_folder(folder, root / "data")


@pytest.fixture
def small_corpus(tmp_path):
    corpus = build_small_corpus(tmp_path)
    yield corpus
    corpus.close()


@pytest.fixture
def retrieval_settings(tmp_path) -> RetrievalSettings:
    return RetrievalSettings(index_dir=tmp_path / "index", chunk_tokens=64, chunk_overlap=8, embedding_model="fake")


@pytest.fixture(scope="session")
def milvus_url(tmp_path_factory):
    """A real Milvus endpoint for the Milvus backend's tests: `milvus-lite server` (pinned in the dev extra) on a free loopback port."""
    import shutil
    import socket
    import subprocess
    import sys
    import time

    exe = shutil.which("milvus-lite") or str(Path(sys.executable).with_name("milvus-lite"))
    if not Path(exe).is_file():
        pytest.fail("milvus-lite is not installed; run `make install` (it is in the dev extra)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("milvus")
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [exe, "server", "--data-dir", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    from pymilvus import MilvusClient

    deadline = time.monotonic() + 120
    while True:
        try:
            MilvusClient(uri=url, timeout=2).list_collections()
            break
        except Exception:  # noqa: BLE001 - not up yet
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"milvus-lite server did not start: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(params=["local", "milvus"])
def backend_settings(request, retrieval_settings):
    """Retrieval settings for each backend: the local files, and a fresh collection on the test Milvus."""
    if request.param == "local":
        return retrieval_settings
    import uuid

    url = request.getfixturevalue("milvus_url")
    return retrieval_settings.model_copy(update={"index_url": url, "index_collection": f"t{uuid.uuid4().hex[:12]}"})


def open_backend(corpus: Corpus, settings: RetrievalSettings, embedder: FakeEmbedder, *, embed: bool = True, doc_ids=None):
    """Build the index on the configured backend, as `sleuth index` does: sync, then embed."""
    from retrieval.searcher import open_index

    index = open_index(corpus.settings, settings, create=True)
    if settings.index_url:
        index.sync(corpus, embedder.count_tokens, dim=embedder.dim)
    else:
        index.sync(corpus, embedder.count_tokens)
    if embed:
        index.embed(embedder.encode, embedder.dim, doc_ids=doc_ids)
    return index
