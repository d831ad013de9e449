"""The Milvus backend against a real server (milvus-lite): bad input, incremental updates, other processes' commits."""

from __future__ import annotations

import socket
import uuid

import pytest

from corpus.ingest import ingest_paths
from retrieval.manifest import IndexError_
from retrieval.milvus import MilvusIndex, escape_token, lexical_text
from retrieval.searcher import HybridSearcher, open_index
from retrieval.tokenize import tokenize
from tests.corpus.samples import ten_k, write_pdf
from tests.retrieval.conftest import FakeEmbedder, open_backend


@pytest.fixture
def milvus_settings(retrieval_settings, milvus_url):
    return retrieval_settings.model_copy(update={"index_url": milvus_url, "index_collection": f"t{uuid.uuid4().hex[:12]}"})


def test_tokens_reach_milvus_whole_and_distinct():
    tokens = tokenize("The 10-K shows $1,577 million, 12.5% margin and PP&E in FY2018")
    escaped = [escape_token(t) for t in tokens]
    assert all(e.isalnum() for e in escaped) and len(set(escaped)) == len(set(tokens))
    assert escape_token("1577") == "1577" and escape_token("10-k") != "10k"
    assert escape_token("zzz") != "zzz"  # the escape prefix itself is escaped, so nothing collides
    assert lexical_text(["revenue", "12.5"]).split()[0] == "revenue"


def test_unreachable_milvus_names_the_url_and_the_fix(small_corpus, retrieval_settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here
    settings = retrieval_settings.model_copy(update={"index_url": f"http://127.0.0.1:{port}", "index_timeout_s": 2})
    with pytest.raises(IndexError_) as caught:
        open_index(small_corpus.settings, settings)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "SLEUTH_RETRIEVAL_INDEX_URL" in message and "docker compose" in message


def test_a_collection_of_another_model_is_refused_with_the_rebuild_command(small_corpus, milvus_settings):
    embedder = FakeEmbedder()
    open_backend(small_corpus, milvus_settings, embedder, embed=False)
    other = milvus_settings.model_copy(update={"embedding_model": "other-model"})
    with pytest.raises(IndexError_, match=r"built with embedding model 'fake'.*sleuth index --rebuild"):
        open_index(small_corpus.settings, other)
    rebuilt = MilvusIndex(other.index_url, other)
    rebuilt.sync(small_corpus, embedder.count_tokens, rebuild=True, dim=32)
    assert open_index(small_corpus.settings, other).view().docs.keys() == {"ACME_2021_10K", "ACME_2022_10K", "GLOBEX_2022_10K"}
    with pytest.raises(IndexError_, match="embedding size 64 differs.*--rebuild"):
        rebuilt.embed(embedder.encode, embedder.dim)


def test_incremental_updates_and_another_processes_commits(small_corpus, milvus_settings, tmp_path):
    embedder = FakeEmbedder()
    writer = open_backend(small_corpus, milvus_settings, embedder)
    reader = HybridSearcher(
        open_index(small_corpus.settings, milvus_settings.model_copy(update={"index_refresh_s": 0})), milvus_settings, embedder
    )
    assert reader.search("ACME capital expenditures 2022", k=1).passages[0].doc_id == "ACME_2022_10K"
    extra = tmp_path / "more"
    extra.mkdir()
    write_pdf(extra / "INITECH_2022_10K.pdf", ten_k("INITECH LLC", 2022, "Capital expenditures were $12 million."))
    write_pdf(extra / "ACME_2022_10K.pdf", ten_k("ACME WIDGETS, INC.", 2022, "Capital expenditures were $999 million."))
    assert ingest_paths(small_corpus, [extra]).ok
    small_corpus.remove("GLOBEX_2022_10K")
    report = writer.sync(small_corpus, embedder.count_tokens, dim=embedder.dim)
    assert report.added == ["INITECH_2022_10K"] and report.updated == ["ACME_2022_10K"] and report.removed == ["GLOBEX_2022_10K"]
    assert set(writer.pending()) == {"INITECH_2022_10K", "ACME_2022_10K"}
    result = reader.search("Initech capital expenditures", k=3)  # the reader sees the commit without a restart
    assert result.passages[0].doc_id == "INITECH_2022_10K"
    acme = reader.search("ACME capital expenditures 2022", k=20, retrievers=("bm25",)).passages
    assert any("$999 million" in p.text for p in acme) and not any("$577 million" in p.text for p in acme)
    assert "GLOBEX_2022_10K" not in reader.view().docs
    ids = [p.chunk_id for p in reader.search("capital expenditures", k=100, retrievers=("bm25",), infer_filters=False).passages]
    assert len(ids) == len(set(ids))  # a re-chunked filing overwrote its rows: nothing doubled
    assert writer.sync(small_corpus, embedder.count_tokens, dim=embedder.dim).changed is False
