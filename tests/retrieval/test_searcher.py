"""HybridSearcher end to end over a small ingested corpus: filters from the question, fusion, citations."""

from __future__ import annotations

import pytest

from retrieval.filters import Filters
from retrieval.searcher import HybridSearcher, SearchError
from tests.retrieval.conftest import FakeEmbedder, open_backend

# Every test here runs on both backends (the local files and Milvus, via the backend_settings fixture).


@pytest.fixture
def searcher(small_corpus, backend_settings):
    embedder = FakeEmbedder()
    index = open_backend(small_corpus, backend_settings, embedder)
    return HybridSearcher(index, backend_settings, embedder)


def test_company_and_year_in_the_question_pick_the_filing(searcher):
    result = searcher.search("What were ACME's capital expenditures in FY2022?", k=3)
    top = result.passages[0]
    assert top.doc_id == "ACME_2022_10K" and "$577 million" in top.text
    assert result.intent.companies == {"acme"} and result.intent.years == {2022}
    assert set(result.searched_docs) == {"ACME_2021_10K", "ACME_2022_10K"}  # company narrows
    assert result.preferred_docs == ["ACME_2022_10K"]  # year ranks first
    assert top.start_page == 4 and top.section_path.startswith("Item 7")
    assert top.ranks["bm25"] is not None and set(result.timings_ms) >= {"bm25", "dense", "fuse", "total"}


def test_fallback_fills_from_other_years(searcher):
    result = searcher.search("ACME capital expenditures 2022", k=30)
    docs = [p.doc_id for p in result.passages]
    assert docs[0] == "ACME_2022_10K" and "ACME_2021_10K" in docs
    assert docs.index("ACME_2021_10K") > max(i for i, d in enumerate(docs) if d == "ACME_2022_10K")


def test_explicit_filters_and_modes(searcher):
    result = searcher.search("capital expenditures", k=5, filters=Filters(company="Globex"), retrievers=("bm25",))
    assert {p.doc_id for p in result.passages} == {"GLOBEX_2022_10K"} and "$90 million" in result.passages[0].text
    assert set(result.passages[0].ranks) == {"bm25"}
    dense = searcher.search("expansion strategy Asia", k=2, retrievers=("dense",), infer_filters=False)
    assert dense.passages[0].doc_id == "GLOBEX_2022_10K"
    only = searcher.search("revenue", filters=Filters(doc_ids=["ACME_2021_10K"], year=2021, form="10-K"))
    assert {p.doc_id for p in only.passages} == {"ACME_2021_10K"}


def test_bad_input_teaches_what_works(searcher):
    with pytest.raises(SearchError, match="empty query"):
        searcher.search("  ")
    with pytest.raises(SearchError, match="unknown doc_ids"):
        searcher.search("revenue", filters=Filters(doc_ids=["NOPE"]))
    with pytest.raises(SearchError, match="no indexed document of company"):
        searcher.search("revenue", filters=Filters(company="Hooli"))
    with pytest.raises(SearchError, match="unknown form type"):
        searcher.search("revenue", filters=Filters(form="S-1"))
    with pytest.raises(SearchError, match="k=0"):
        searcher.search("revenue", k=0)


def test_bm25_only_until_embeddings_exist(small_corpus, backend_settings):
    embedder = FakeEmbedder()
    index = open_backend(small_corpus, backend_settings, embedder, embed=False)
    result = HybridSearcher(index, backend_settings, embedder).search("operating lease cost")
    assert result.passages and "lease" in result.passages[0].text.lower()
    assert any("no embeddings yet" in n for n in result.notes)
    index.embed(embedder.encode, embedder.dim, doc_ids=["ACME_2021_10K"])
    result = HybridSearcher(index, backend_settings, embedder).search("operating lease cost")
    assert any("covers 1 of 3 documents" in n for n in result.notes)


def test_a_lazy_reader_finds_the_same_and_reads_only_what_the_search_touches(small_corpus, retrieval_settings):
    from retrieval.index import HybridIndex

    embedder = FakeEmbedder()
    open_backend(small_corpus, retrieval_settings, embedder)  # built and embedded by a writer
    question = "What were ACME's capital expenditures in FY2022?"
    eager = HybridSearcher(HybridIndex.open(retrieval_settings.index_dir, retrieval_settings), retrieval_settings, embedder)
    lazy_index = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, lazy=True)
    lazy = HybridSearcher(lazy_index, retrieval_settings, embedder)
    assert [p.chunk_id for p in lazy.search(question, k=5).passages] == [p.chunk_id for p in eager.search(question, k=5).passages]
    read = {doc_id for doc_id, _version in lazy_index.view()._store._cache}
    assert read and read <= {"ACME_2021_10K", "ACME_2022_10K"}, "only the searched company's chunk files were read"
