"""Shared fixtures: where the FinanceBench filings are, and extracted text of real filings."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pytest

# Tests never download models: any hub access fails at once instead of reaching the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Servers under test embed nothing in the background (a worker process per app); tests/api/test_embedding_worker.py turns it on.
os.environ.setdefault("SLEUTH_EMBEDDING_BACKGROUND", "false")

from corpus.extract import extract
from corpus.text import PagedText
from tests.parallel import (  # noqa: F401 - the hooks for xdist runs
    built_once,
    pytest_collection_modifyitems,
    pytest_runtest_protocol,
    pytest_xdist_make_scheduler,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Each test reads get_settings() from its own environment, never from a cache an earlier test filled."""
    from api.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def sleuth_env(monkeypatch):
    """The one way a test changes Sleuth's settings: sleuth_env(SLEUTH_X="1", SLEUTH_Y=None) sets (None: unsets) environment
    variables for this test and returns get_settings() read afresh."""
    from api.settings import Settings, get_settings

    def apply(**variables: object) -> Settings:
        for name, value in variables.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value))
        get_settings.cache_clear()
        return get_settings()

    return apply


def financebench_path() -> Path:
    """SLEUTH_FINANCEBENCH_DIR, else ../shared/financebench beside the checkout."""
    env = os.environ.get("SLEUTH_FINANCEBENCH_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "financebench"


@pytest.fixture(scope="session")
def financebench_dir() -> Path:
    path = financebench_path()
    if not (path / "pdfs").is_dir():
        pytest.skip(f"FinanceBench data not found at {path} (set SLEUTH_FINANCEBENCH_DIR)")
    return path


@lru_cache(maxsize=64)
def _paged(pdf: str) -> PagedText:
    return PagedText.from_pages(extract(Path(pdf)).pages)


@pytest.fixture(scope="session")
def filing_text(financebench_dir: Path):
    """Callable: doc name (e.g. '3M_2018_10K') -> PagedText of that filing, cached."""

    def load(doc_name: str) -> PagedText:
        return _paged(str(financebench_dir / "pdfs" / f"{doc_name}.pdf"))

    return load


FILINGS = ["3M_2018_10K", "ADOBE_2017_10K"]


def ingest_with_bm25(settings, paths: list[Path]) -> None:
    """Ingest `paths` into `settings`' data directory and build its BM25 index (no embeddings), as `sleuth ingest` does."""
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths
    from retrieval.index import HybridIndex
    from retrieval.searcher import index_dir
    from retrieval.settings import RetrievalSettings

    corpus = Corpus.open(settings)
    try:
        report = ingest_paths(corpus, paths, workers=1)
        assert report.ok, report.summary()
        retrieval = RetrievalSettings()
        HybridIndex.open(index_dir(settings, retrieval), retrieval, create=True).sync(
            corpus, lambda lines: [len(line.split()) + 1 for line in lines]
        )
    finally:
        corpus.close()


@pytest.fixture(scope="session")
def filings_settings(financebench_dir: Path, tmp_path_factory):
    """Two real 10-Ks ingested and BM25-indexed (no embeddings) in a data directory shared by agent and API tests (one per
    xdist worker, ingested once for the run)."""
    from corpus.settings import CorpusSettings

    def build(data_dir: Path) -> None:
        ingest_with_bm25(
            CorpusSettings(data_dir=data_dir, ingest_workers=1), [financebench_dir / "pdfs" / f"{name}.pdf" for name in FILINGS]
        )

    return CorpusSettings(data_dir=built_once(tmp_path_factory, "agent-filings", build), ingest_workers=1)


# A company's filings over the years, for series tests (tools, API, bench): 3M's 10-Ks FY2017-FY2022, Adobe's 10-Ks in
# thousands (2015) and millions (2017) and a 10-Q, Block's restated FY2019-FY2020 and renamed financing line, General
# Mills' equity statement, MGM's 10-Q beside its 10-K.
SERIES_FILINGS = [
    "3M_2017_10K",
    "3M_2018_10K",
    "3M_2019_10K",
    "3M_2021_10K",
    "3M_2022_10K",
    "ADOBE_2015_10K",
    "ADOBE_2017_10K",
    "ADOBE_2022Q2_10Q",
    "BLOCK_2017_10K",
    "BLOCK_2019_10K",
    "BLOCK_2020_10K",
    "BLOCK_2021_10K",
    "GENERALMILLS_2021_10K",
    "GENERALMILLS_2022_10K",
    "MGMRESORTS_2022_10K",
    "MGMRESORTS_2023Q2_10Q",
    "BOEING_2017_10K",
    "BOEING_2021_10K",
    "VERIZON_2020_10K",
    "VERIZON_2021_10K",
    "VERIZON_2022_10K",
]


@pytest.fixture(scope="session")
def series_settings(financebench_dir: Path, tmp_path_factory):
    """SERIES_FILINGS ingested (no search index) into a data directory series tests share read-only."""
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths
    from corpus.settings import CorpusSettings

    def build(data_dir: Path) -> None:
        corpus = Corpus.open(CorpusSettings(data_dir=data_dir, ingest_workers=1))
        try:
            report = ingest_paths(corpus, [financebench_dir / "pdfs" / f"{name}.pdf" for name in SERIES_FILINGS], workers=1)
            assert report.ok, report.summary()
        finally:
            corpus.close()

    return CorpusSettings(data_dir=built_once(tmp_path_factory, "series-filings", build), ingest_workers=1)


PG_ADMIN_URL = os.environ.get("SLEUTH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _start_postgres() -> None:
    """Start the machine's PostgreSQL cluster if it is installed but down (as CI may find it)."""
    import shutil
    import subprocess

    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return
    for version in sorted(os.listdir("/etc/postgresql")):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], capture_output=True, timeout=60, check=False
        )


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of a reachable PostgreSQL server, started by the test run if needed; skips with the reason otherwise."""
    import sqlalchemy

    error: Exception | None = None
    for attempt in range(2):
        engine = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text("select 1"))
            return PG_ADMIN_URL
        except Exception as exc:  # noqa: BLE001 - any connection failure means "try to start it, else skip"
            error = exc
            if attempt == 0:
                _start_postgres()
        finally:
            engine.dispose()
    pytest.skip(f"no PostgreSQL server at {PG_ADMIN_URL} and none could be started ({error}); set SLEUTH_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_url(postgres_admin_url: str):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    import sqlalchemy
    from sqlalchemy.engine import make_url

    name = f"sleuth_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path: Path) -> str:
    """The catalog URL for both supported backends: SQLite in tmp_path and a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def corpus(tmp_path: Path, database_url: str):
    """An empty corpus (text store + migrated catalog) on each backend."""
    from corpus.catalog import Corpus
    from corpus.settings import CorpusSettings

    opened = Corpus.open(CorpusSettings(data_dir=tmp_path / "data", database_url=database_url, ingest_workers=1))
    yield opened
    opened.close()
