"""Fixtures for agent tests: real FinanceBench filings ingested (and BM25-indexed) once, and a client on a fake model."""

from __future__ import annotations

import pytest

from agent.llm import LLMClient
from agent.settings import AgentSettings, LLMSettings
from corpus.catalog import Corpus
from corpus.settings import CorpusSettings
from tools.context import ToolContext


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
