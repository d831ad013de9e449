"""Index lifecycle: build, incremental add/remove, embeddings cached and resumable, plain files on disk."""

from __future__ import annotations

import json

import pytest

from corpus.ingest import ingest_paths
from retrieval.index import HybridIndex, IndexError_
from tests.corpus.samples import ten_k
from tests.retrieval.conftest import FILINGS, FakeEmbedder


def build(small_corpus, settings, embedder):
    index = HybridIndex.open(settings.index_dir, settings, create=True)
    report = index.sync(small_corpus, embedder.count_tokens)
    return index, report


def test_sync_chunks_every_document_and_bm25_works_before_embeddings(small_corpus, retrieval_settings):
    embedder = FakeEmbedder()
    index, report = build(small_corpus, retrieval_settings, embedder)
    assert sorted(report.added) == sorted(FILINGS) and report.chunks == len(index) > 6
    assert index.pending() == sorted(FILINGS, key=index.doc_ids.index)
    assert index.matrix() is None  # nothing embedded yet: BM25 only
    from retrieval.tokenize import tokenize

    hits = index.bm25.search(tokenize("operating lease cost"), 5)
    assert hits and "lease" in index.chunks[hits[0].index].text.lower()
    manifest = json.loads((retrieval_settings.index_dir / "manifest.json").read_text())
    assert manifest["chunk_tokens"] == 64 and set(manifest["docs"]) == set(FILINGS)
    assert all((retrieval_settings.index_dir / "chunks" / f"{d}.json").is_file() for d in FILINGS)


def test_embeddings_are_saved_per_document_cached_and_resumable(small_corpus, retrieval_settings):
    embedder = FakeEmbedder()
    index, _ = build(small_corpus, retrieval_settings, embedder)
    first = index.doc_ids[0]

    calls = []

    def stop_after_first(doc_id, n, total):
        calls.append(doc_id)
        if n == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.embed(embedder.encode, embedder.dim, on_doc=stop_after_first)
    reopened = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)
    assert reopened.manifest.docs[first].embedded and len(reopened.pending()) == len(FILINGS) - 1

    before = embedder.encoded
    reopened.embed(embedder.encode, embedder.dim)
    assert not reopened.pending()
    assert embedder.encoded - before == sum(reopened.doc(d).chunks for d in reopened.doc_ids[1:])
    matrix = reopened.matrix()
    assert matrix.shape == (len(reopened), embedder.dim)
    assert abs(float((matrix[0].astype("float32") ** 2).sum()) - 1.0) < 1e-2

    # A full rebuild re-chunks, but identical chunk texts reuse cached vectors: nothing is encoded again.
    before = embedder.encoded
    reopened.sync(small_corpus, embedder.count_tokens, rebuild=True)
    reopened.embed(embedder.encode, embedder.dim)
    assert embedder.encoded == before


def test_incremental_add_update_and_remove(small_corpus, retrieval_settings, tmp_path):
    from tests.corpus.samples import write_pdf

    embedder = FakeEmbedder()
    index, _ = build(small_corpus, retrieval_settings, embedder)
    index.embed(embedder.encode, embedder.dim)

    extra = tmp_path / "more"
    extra.mkdir()
    write_pdf(extra / "INITECH_2022_10K.pdf", ten_k("INITECH LLC", 2022, "Capital expenditures were $12 million."))
    write_pdf(extra / "ACME_2022_10K.pdf", ten_k("ACME WIDGETS, INC.", 2022, "Capital expenditures were $999 million."))
    assert ingest_paths(small_corpus, [extra]).ok
    small_corpus.remove("GLOBEX_2022_10K")

    report = index.sync(small_corpus, embedder.count_tokens)
    assert report.added == ["INITECH_2022_10K"] and report.updated == ["ACME_2022_10K"] and report.removed == ["GLOBEX_2022_10K"]
    assert set(index.pending()) == {"INITECH_2022_10K", "ACME_2022_10K"}
    assert not (retrieval_settings.index_dir / "chunks" / "GLOBEX_2022_10K.json").exists()
    assert not (retrieval_settings.index_dir / "embeddings" / "GLOBEX_2022_10K.npy").exists()
    assert any("$999 million" in c.text for c in index.chunks)
    assert not any("Globex" in c.text or "GLOBEX" in c.text for c in index.chunks)
    assert index.sync(small_corpus, embedder.count_tokens).changed is False  # nothing new: no work


def test_other_settings_need_a_rebuild(small_corpus, retrieval_settings):
    build(small_corpus, retrieval_settings, FakeEmbedder())
    changed = retrieval_settings.model_copy(update={"chunk_tokens": 128})
    with pytest.raises(IndexError_, match="--rebuild"):
        HybridIndex.open(retrieval_settings.index_dir, changed)
    fresh = HybridIndex.open(retrieval_settings.index_dir, changed, create=True)
    assert len(fresh) == 0 and fresh.manifest.chunk_tokens == 128
    with pytest.raises(IndexError_, match="sleuth index"):
        HybridIndex.open(retrieval_settings.index_dir / "nowhere", retrieval_settings)


def test_damaged_bm25_is_rebuilt_by_sync(small_corpus, retrieval_settings):
    embedder = FakeEmbedder()
    index, _ = build(small_corpus, retrieval_settings, embedder)
    for path in (retrieval_settings.index_dir / "bm25").iterdir():
        path.write_bytes(b"garbage")
    with pytest.raises(IndexError_, match="--rebuild"):
        HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)
    repaired = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)
    repaired.sync(small_corpus, embedder.count_tokens)
    assert len(HybridIndex.open(retrieval_settings.index_dir, retrieval_settings).bm25) == len(index)


def test_a_sync_cut_short_leaves_a_readable_index(small_corpus, retrieval_settings, monkeypatch):
    embedder = FakeEmbedder()
    build(small_corpus, retrieval_settings, embedder)
    small_corpus.remove("GLOBEX_2022_10K")
    index = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)

    def killed() -> None:
        raise KeyboardInterrupt  # the process stops while BM25 is rebuilt, before the new manifest is written

    monkeypatch.setattr(index, "_save_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        index.sync(small_corpus, embedder.count_tokens)
    assert (retrieval_settings.index_dir / "chunks" / "GLOBEX_2022_10K.json").is_file()  # the old manifest still names it
    reopened = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)  # as every sync opens it
    assert reopened.sync(small_corpus, embedder.count_tokens).removed == ["GLOBEX_2022_10K"]
    assert len(HybridIndex.open(retrieval_settings.index_dir, retrieval_settings).bm25) == len(reopened)
    assert not (retrieval_settings.index_dir / "chunks" / "GLOBEX_2022_10K.json").exists()
