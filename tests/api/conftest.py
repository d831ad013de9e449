"""API fixtures: the app on a data directory, talking to a scripted fake model, through FastAPI's TestClient."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from corpus.settings import CorpusSettings
from tests.fakes.fake_llm import FakeLLM

LOOPBACK = ("127.0.0.1", 50000)


@pytest.fixture
def fake_llm(sleuth_env):
    """A fake model the app is pointed at; tests script it with fake.add(...) or fake.respond_with(callable)."""
    with FakeLLM([]) as fake:
        sleuth_env(SLEUTH_LLM_BASE_URL=fake.base_url, SLEUTH_LLM_MAX_RETRIES=0, SLEUTH_LLM_TIMEOUT_S=10)
        yield fake


@pytest.fixture
def make_client(fake_llm, monkeypatch, tmp_path) -> Callable[..., TestClient]:
    """Builds a TestClient over an app; call it inside `with`."""
    monkeypatch.chdir(tmp_path)  # no stray .env

    def build(
        corpus_settings: CorpusSettings, *, client: tuple[str, int] = LOOPBACK, base_url: str = "http://127.0.0.1:8000", **api
    ) -> TestClient:
        # As a browser or curl on this machine would reach `sleuth serve`: a loopback client and Host.
        return TestClient(create_app(ApiSettings(**api), corpus_settings), base_url=base_url, client=client)

    return build


@pytest.fixture
def small_corpus(tmp_path, database_url) -> CorpusSettings:
    """One synthetic 10-K, ingested, on SQLite and on a throwaway PostgreSQL database."""
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths
    from tests.corpus.samples import TEN_K_PAGES, write_pdf

    settings = CorpusSettings(data_dir=tmp_path / "data", database_url=database_url, ingest_workers=1)
    write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    corpus = Corpus.open(settings)
    try:
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"], workers=1).ok
    finally:
        corpus.close()
    return settings


def make_keys(settings: CorpusSettings, *names: str, admin: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """API keys in the settings' database: name -> Authorization header (names in `admin` get admin keys)."""
    from api.models import migrate
    from api.run_store import RunStore
    from corpus.catalog import Corpus

    corpus = Corpus.open(settings)
    try:
        migrate(corpus.engine)
        store = RunStore(corpus.sessions)
        return {name: {"Authorization": f"Bearer {store.create_key(name, admin=name in admin)[1]}"} for name in names}
    finally:
        corpus.close()


def index_bm25(settings: CorpusSettings) -> None:
    """Chunks and BM25 for the settings' filings (no embeddings), so a RAG arm has something to search."""
    from corpus.catalog import Corpus
    from retrieval.index import HybridIndex
    from retrieval.searcher import index_dir
    from retrieval.settings import RetrievalSettings

    corpus = Corpus.open(settings)
    try:
        retrieval = RetrievalSettings()
        HybridIndex.open(index_dir(settings, retrieval), retrieval, create=True).sync(
            corpus, lambda lines: [len(line.split()) + 1 for line in lines]
        )
    finally:
        corpus.close()


def wait_for(client: TestClient, run_id: str, timeout: float = 30, headers: dict | None = None) -> dict:
    """Poll a run until it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/v1/runs/{run_id}", headers=headers).json()
        if run["status"] not in {"queued", "running"}:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def sse(text: str) -> list[dict]:
    """Parse an SSE body into [{id, event, data}]."""
    import json

    out = []
    for block in text.strip().split("\n\n"):
        fields: dict = {}
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            fields[key] = value
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
            out.append(fields)
    return out
