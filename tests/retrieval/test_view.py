"""Both index backends satisfy the IndexView protocol the searcher is typed against."""

from __future__ import annotations

import inspect

import pytest

from retrieval.index import HybridIndex
from retrieval.milvus import MilvusIndex
from retrieval.view import IndexView, LocalView
from tests.retrieval.conftest import FakeEmbedder

MEMBERS = ("docs", "doc_ids", "__len__", "pending", "has_vectors", "scope", "bm25_chunks", "dense_chunks")


def _parameters(cls: type, name: str) -> list[str] | None:
    member = inspect.getattr_static(cls, name)
    if isinstance(member, property) or not callable(member):
        return None  # an attribute or property: no parameters to compare
    return list(inspect.signature(member).parameters)


@pytest.mark.parametrize("backend", [LocalView, MilvusIndex])
def test_each_backend_has_the_protocols_methods_with_its_parameters(backend):
    for name in MEMBERS:
        expected = _parameters(IndexView, name)
        if expected is not None:
            assert _parameters(backend, name) == expected, f"{backend.__name__}.{name}"


def test_a_local_view_and_a_milvus_index_are_index_views(small_corpus, retrieval_settings):
    index = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)
    index.sync(small_corpus, FakeEmbedder().count_tokens)
    view = index.view()
    assert isinstance(view, IndexView) and view.doc_ids and len(view) > 0
    scope = view.scope(view.doc_ids[:1])
    assert {c.doc_id for c in view.bm25_chunks(["capital"], 5, scope)} <= {view.doc_ids[0]}
    milvus = MilvusIndex("http://127.0.0.1:9", retrieval_settings)  # never connected: the protocol needs no server
    assert isinstance(milvus, IndexView)
    assert not isinstance(object(), IndexView)
