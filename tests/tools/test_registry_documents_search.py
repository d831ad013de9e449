"""The registry (schemas from signatures, errors as observations), list_documents and search."""

from __future__ import annotations

import json

import pytest

from corpus.catalog import Corpus
from corpus.settings import CorpusSettings
from retrieval.index import HybridIndex
from retrieval.searcher import HybridSearcher
from retrieval.settings import RetrievalSettings
from tests.retrieval.conftest import FakeEmbedder, build_small_corpus
from tools import REGISTRY
from tools.context import ToolContext


@pytest.fixture
def context(tmp_path):
    corpus = build_small_corpus(tmp_path)
    settings = RetrievalSettings(index_dir=tmp_path / "index", chunk_tokens=64, chunk_overlap=8, embedding_model="fake")
    embedder = FakeEmbedder()
    index = HybridIndex.open(settings.index_dir, settings, create=True)
    index.sync(corpus, embedder.count_tokens)
    index.embed(embedder.encode, embedder.dim)
    yield ToolContext(corpus, searcher_factory=lambda: HybridSearcher(index, settings, embedder))
    corpus.close()


def test_every_tool_has_a_schema_with_described_parameters():
    schemas = {s["function"]["name"]: s["function"] for s in REGISTRY.schemas()}
    assert {"list_documents", "glob", "grep", "outline", "read", "search"} <= set(schemas)
    for name, fn in schemas.items():
        assert len(fn["description"]) > 40, name
        for pname, prop in fn["parameters"].get("properties", {}).items():
            assert prop.get("description"), f"{name}.{pname} has no description"
    assert schemas["search"]["parameters"]["required"] == ["query"]
    json.dumps(REGISTRY.schemas())  # serializable as sent to the model


def test_bad_calls_become_observations(context):
    call = REGISTRY.call("nope", {}, context)
    assert not call.ok and "the tools are" in call.text and "grep" in call.text
    call = REGISTRY.call("list_documents", "{not json", context)
    assert not call.ok and "not valid JSON" in call.text
    call = REGISTRY.call("list_documents", {"colour": "red"}, context)
    assert not call.ok and "colour" in call.text
    call = REGISTRY.call("search", {"k": "many"}, context)
    assert not call.ok and "query" in call.text and "k" in call.text


def test_list_documents(context):
    call = REGISTRY.call("list_documents", {"company": "acme"}, context)
    assert call.ok, call.text
    assert call.text.index("ACME_2022_10K") < call.text.index("ACME_2021_10K")  # newest first
    assert "10-K" in call.text and "FY2022" in call.text and "pages" in call.text
    call = REGISTRY.call("list_documents", {"year": 2022, "query": "globex"}, context)
    assert call.ok and "GLOBEX_2022_10K" in call.text and "ACME" not in call.text
    call = REGISTRY.call("list_documents", {"company": "Hooli"}, context)
    assert not call.ok and "Companies in the corpus" in call.text and "ACME" in call.text.upper()
    call = REGISTRY.call("list_documents", {"form": "20-F"}, context)
    assert not call.ok and "unknown form type" in call.text


def test_search_returns_cited_passages(context):
    call = REGISTRY.call("search", {"query": "ACME capital expenditures FY2022", "k": 3}, context)
    assert call.ok, call.text
    assert call.text.splitlines()[0].startswith("3 passages")
    assert "[1] ACME_2022_10K p.4" in call.text and "$577 million" in call.text
    assert call.citations[0].doc_id == "ACME_2022_10K" and call.citations[0].page == 4
    bad = REGISTRY.call("search", {"query": "revenue", "doc_ids": ["ACME_2022_10"]}, context)
    assert not bad.ok and "ACME_2022_10K" in bad.text
    assert not REGISTRY.call("search", {"query": "revenue", "k": 500}, context).ok


def test_search_without_an_index_says_what_still_works(tmp_path):
    corpus = Corpus.open(CorpusSettings(data_dir=tmp_path / "empty"))
    try:
        call = REGISTRY.call("search", {"query": "revenue"}, ToolContext(corpus))
        assert not call.ok and "use grep and read" in call.text and "the operator has to build the index" in call.text
        assert "sleuth" not in call.text  # the model cannot run CLI commands: tool errors name tools
    finally:
        corpus.close()
