"""`sleuth serve` embeds in the background: coverage in /readyz and the documents list, search picks the vectors up."""

from __future__ import annotations

import time

from corpus.catalog import Corpus
from retrieval.searcher import sync_index
from retrieval.settings import RetrievalSettings


def test_the_server_embeds_what_is_not_embedded_and_shows_coverage(make_client, small_corpus, sleuth_env):
    sleuth_env(SLEUTH_RETRIEVAL_EMBEDDING_BACKGROUND="true", SLEUTH_RETRIEVAL_EMBEDDING_RUNTIME="onnx-int8")
    corpus = Corpus.open(small_corpus)
    try:
        index, _ = sync_index(corpus, RetrievalSettings())  # chunks and BM25 only, as `sleuth ingest` leaves it
    finally:
        corpus.close()
    assert index.pending()
    with make_client(small_corpus) as client:
        deadline = time.monotonic() + 120
        while True:
            coverage = client.get("/v1/documents").json()["embeddings"]
            if coverage["docs_embedded"] == coverage["docs"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert coverage["line"] == "dense: 1 of 1 filings (complete)" and coverage["chunks_embedded"] == coverage["chunks"] > 0
        ready = client.get("/readyz").json()
        assert ready["checks"]["embeddings"]["line"] == coverage["line"] and ready["checks"]["embeddings"]["ok"]
        services = client.app.state.services
        assert services.embedding.alive()
        result = services.researchers()[0].tools.searcher.search("operating lease cost", retrievers=("dense",))
        assert result.passages and not result.notes  # the server's own searcher picked the vectors up
    assert not services.embedding.alive()  # stopped with the server


def test_switched_off_it_says_how_to_embed(make_client, small_corpus):
    corpus = Corpus.open(small_corpus)
    try:
        sync_index(corpus, RetrievalSettings())
    finally:
        corpus.close()
    with make_client(small_corpus) as client:
        coverage = client.get("/v1/documents").json()["embeddings"]
        assert client.app.state.services.embedding is None
        assert client.get("/readyz").status_code == 200  # not embedded is not unready
    assert coverage["line"] == (
        "dense: 0 of 1 filings; background embedding is off (SLEUTH_EMBEDDING_BACKGROUND=false): run `sleuth index`"
    )
