"""Fixtures for agent tests: real FinanceBench filings ingested (and BM25-indexed) once, and a client on a fake model."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.llm import LLMClient, LLMSettings
from agent.settings import AgentSettings
from corpus.catalog import Corpus
from corpus.ingest import ingest_paths
from corpus.settings import CorpusSettings
from tools.context import ToolContext

FILINGS = ["3M_2018_10K", "ADOBE_2017_10K"]


@pytest.fixture(scope="session")
def filings_settings(financebench_dir: Path, tmp_path_factory) -> CorpusSettings:
    """Two real 10-Ks ingested and BM25-indexed in a data directory shared by the agent tests."""
    from retrieval.index import HybridIndex
    from retrieval.searcher import index_dir
    from retrieval.settings import RetrievalSettings

    settings = CorpusSettings(data_dir=tmp_path_factory.mktemp("agent-filings"), ingest_workers=1)
    corpus = Corpus.open(settings)
    try:
        report = ingest_paths(corpus, [financebench_dir / "pdfs" / f"{name}.pdf" for name in FILINGS], workers=1)
        assert report.ok, report.summary()
        retrieval = RetrievalSettings()
        HybridIndex.open(index_dir(settings, retrieval), retrieval, create=True).sync(corpus, lambda lines: [len(line.split()) + 1 for line in lines])
    finally:
        corpus.close()
    return settings


@pytest.fixture
def tools(filings_settings: CorpusSettings):
    corpus = Corpus.open(filings_settings)
    yield ToolContext(corpus)
    corpus.close()


@pytest.fixture
def agent_settings() -> AgentSettings:
    return AgentSettings(max_steps=10, max_tool_calls=20, time_budget_s=60, citation_repairs=1)


def client(base_url: str, **overrides) -> LLMClient:
    """An LLM client for the fake server: no retries unless asked, short timeout."""
    values = {"base_url": base_url, "model": "fake-model", "max_retries": 0, "timeout_s": 10, "context_tokens": 32768} | overrides
    return LLMClient(LLMSettings(**values))
