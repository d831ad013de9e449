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
    versions = {d: e["version"] for d, e in manifest["docs"].items()}
    assert all((retrieval_settings.index_dir / "chunks" / f"{d}.{versions[d]}.json").is_file() for d in FILINGS)


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

    gone = index.doc("GLOBEX_2022_10K").version
    report = index.sync(small_corpus, embedder.count_tokens)
    assert report.added == ["INITECH_2022_10K"] and report.updated == ["ACME_2022_10K"] and report.removed == ["GLOBEX_2022_10K"]
    assert set(index.pending()) == {"INITECH_2022_10K", "ACME_2022_10K"}
    assert not (retrieval_settings.index_dir / "chunks" / f"GLOBEX_2022_10K.{gone}.json").exists()
    assert not (retrieval_settings.index_dir / "embeddings" / f"GLOBEX_2022_10K.{gone}.npy").exists()
    live = [c for c in index.chunks if c is not None]
    assert any("$999 million" in c.text for c in live) and len(live) == len(index)
    assert not any("Globex" in c.text or "GLOBEX" in c.text for c in live)
    assert not any("$577 million" in c.text for c in live)  # the replaced version is masked out
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


def test_a_damaged_segment_is_named_and_its_documents_reindexed(small_corpus, retrieval_settings):
    embedder = FakeEmbedder()
    index, _ = build(small_corpus, retrieval_settings, embedder)
    (segment,) = (retrieval_settings.index_dir / "segments").glob("seg-*.npz")
    segment.write_bytes(b"garbage")
    with pytest.raises(IndexError_, match=segment.name):  # the damaged file is named
        HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)
    repaired = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)  # as `sleuth index` opens it
    assert sorted(repaired.sync(small_corpus, embedder.count_tokens).added) == sorted(FILINGS)
    assert len(HybridIndex.open(retrieval_settings.index_dir, retrieval_settings).bm25) == len(index)
    assert not segment.exists()  # the damaged file is gone, a new segment replaces it


def test_a_corrupt_manifest_is_named_and_rebuilt(small_corpus, retrieval_settings):
    embedder = FakeEmbedder()
    index, _ = build(small_corpus, retrieval_settings, embedder)
    (retrieval_settings.index_dir / "manifest.json").write_text("{not json")
    with pytest.raises(IndexError_, match="manifest.json.*--rebuild"):
        HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)
    fresh = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)
    assert sorted(fresh.sync(small_corpus, embedder.count_tokens).added) == sorted(FILINGS) and len(fresh) == len(index)


def test_a_sync_cut_short_leaves_a_readable_index(small_corpus, retrieval_settings, monkeypatch):
    embedder = FakeEmbedder()
    build(small_corpus, retrieval_settings, embedder)
    small_corpus.remove("GLOBEX_2022_10K")
    index = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)
    before = len(index)

    def killed(manifest) -> None:
        raise KeyboardInterrupt  # the process stops after writing its segment, before the new manifest is written

    monkeypatch.setattr(index, "_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        index.sync(small_corpus, embedder.count_tokens)
    assert len(HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)) == before  # the old state, whole
    reopened = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)
    assert reopened.sync(small_corpus, embedder.count_tokens).removed == ["GLOBEX_2022_10K"]
    assert len(HybridIndex.open(retrieval_settings.index_dir, retrieval_settings).bm25) == len(reopened) < before
    assert not list((retrieval_settings.index_dir / "chunks").glob("GLOBEX_2022_10K.*"))


def test_a_reader_picks_up_another_writers_commit(small_corpus, retrieval_settings, tmp_path):
    from tests.corpus.samples import write_pdf

    embedder = FakeEmbedder()
    build(small_corpus, retrieval_settings, embedder)
    reader = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)  # as a running server holds it
    old_view = reader.view()
    extra = tmp_path / "more"
    extra.mkdir()
    write_pdf(extra / "INITECH_2022_10K.pdf", ten_k("INITECH LLC", 2022, "Capital expenditures were $12 million."))
    assert ingest_paths(small_corpus, [extra]).ok
    writer = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)
    writer.sync(small_corpus, embedder.count_tokens)
    view = reader.view()
    assert "INITECH_2022_10K" in view.docs and "INITECH_2022_10K" not in old_view.docs  # the old view is untouched
    from retrieval.tokenize import tokenize

    hits = view.bm25_chunks(tokenize("initech capital expenditures"), 3, view.scope(["INITECH_2022_10K"]))
    assert hits and hits[0].doc_id == "INITECH_2022_10K"


def test_segments_of_one_tier_are_merged(small_corpus, retrieval_settings, tmp_path, monkeypatch):
    from retrieval import index as index_module
    from tests.corpus.samples import write_pdf

    monkeypatch.setattr(index_module, "MERGE_FACTOR", 3)
    embedder = FakeEmbedder()
    index, _ = build(small_corpus, retrieval_settings, embedder)
    merged = 0
    for n in range(4):
        folder = tmp_path / f"more{n}"
        folder.mkdir()
        write_pdf(
            folder / f"CO{n}_2022_10K.pdf", ten_k(f"COMPANY {n} INC", 2022, f"Capital expenditures were ${n + 1}0 million.")
        )
        assert ingest_paths(small_corpus, [folder]).ok
        merged += index.sync(small_corpus, embedder.count_tokens).merged
    assert merged >= 3 and len(index.manifest.segments) < 5
    assert len(list((retrieval_settings.index_dir / "segments").glob("seg-*.npz"))) == len(index.manifest.segments)
    from retrieval.tokenize import tokenize

    for n in range(4):
        view = index.view()
        (hit,) = view.bm25_chunks(tokenize(f"company {n} capital expenditures"), 1, view.scope([f"CO{n}_2022_10K"]))
        assert f"${n + 1}0 million" in hit.text


def test_a_writer_adding_one_filing_reads_no_other_documents_chunks_or_segments(
    small_corpus, retrieval_settings, tmp_path, monkeypatch
):
    """O(filing): `sync_index` opens the index as a writer, which reads only what it touches."""
    import retrieval.view as index_module
    from retrieval.segments import Segment
    from retrieval.tokenize import tokenize
    from tests.corpus.samples import write_pdf

    embedder = FakeEmbedder()
    build(small_corpus, retrieval_settings, embedder)
    extra = tmp_path / "more"
    extra.mkdir()
    write_pdf(extra / "INITECH_2022_10K.pdf", ten_k("INITECH LLC", 2022, "Capital expenditures were $12 million."))
    assert ingest_paths(small_corpus, [extra]).ok
    reads: list[str] = []
    read_chunks, load = index_module._read_chunks, Segment.load
    monkeypatch.setattr(index_module, "_read_chunks", lambda d, doc_id, v: reads.append(doc_id) or read_chunks(d, doc_id, v))
    monkeypatch.setattr(
        Segment, "load", classmethod(lambda cls, d, sid, size=None: reads.append(sid) or load.__func__(cls, d, sid, size))
    )

    writer = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings, create=True)
    assert writer.sync(small_corpus, embedder.count_tokens).added == ["INITECH_2022_10K"]
    assert reads == []  # the three indexed filings' chunks and BM25 segment stay on disk
    writer.embed(embedder.encode, embedder.dim, doc_ids=["INITECH_2022_10K"])  # reads its own chunks only (it wrote them)
    assert set(reads) <= {"INITECH_2022_10K"}
    hits = writer.bm25.search(tokenize("capital expenditures"), 10)
    assert {writer.chunks[h.index].doc_id for h in hits} >= {"ACME_2022_10K", "INITECH_2022_10K"}  # searching reads the rest

    reader = HybridIndex.open(retrieval_settings.index_dir, retrieval_settings)  # a reader (the server) reads all at open
    assert len(reader) == len(writer) and reads.count("ACME_2021_10K") == 2  # the writer's search, the reader's open
