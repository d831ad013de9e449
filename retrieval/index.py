"""The local search index: chunks, BM25 segments and embeddings as a directory of plain files with a manifest.

Layout of `<index_dir>`:
  manifest.json                       settings, BM25 segments, and per document: content hash, chunk count,
                                      version, segment, embedded or not; replaced atomically at every commit
  chunks/<doc_id>.<version>.json      the document's metadata and chunks (text, section path, page and line spans)
  segments/<segment>.npz              BM25 term frequencies of the chunks one sync added (retrieval.segments)
  embeddings/<doc_id>.<version>.npy   float16 unit vectors, one row per chunk, once the document is embedded
  embeddings/<doc_id>.<version>.json  the chunk content hashes of those rows (the embedding cache key)
  write.lock, write.lock.json         the writers' lock and who holds it (retrieval.lock)
  embed.lock                          held by whoever computes embeddings (`sleuth index`, the server's background worker)

Every file but the manifest is written once under a fresh name and never changed; the manifest is
written last. So a reader always sees one committed state, a writer that dies leaves at most
unreferenced files, and a process holding the index open picks up another's commit by re-reading
the manifest (`refresh`, a stat per search). One sync writes one segment: adding a filing costs
O(that filing); segments of one size tier are merged ten at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from corpus.catalog import Corpus
from retrieval.chunking import Chunk, TokenCounter
from retrieval.lock import EMBED_LOCK, write_lock
from retrieval.manifest import (
    INDEX_VERSION,
    DocEntry,
    IndexError_,
    Manifest,
    SegmentEntry,
    SyncReport,
    chunk_catalog_document,
    indexed_text,
    manifest_json,
    read_manifest,
    write_json,
)
from retrieval.segments import Segment, SegmentedBM25, SegmentError, merge
from retrieval.settings import RetrievalSettings
from retrieval.tokenize import tokenize
from retrieval.vector_files import reuse_vectors, vector_cache, vectors_ok, write_npy
from retrieval.view import DocChunks, IndexView, LocalView, _Segments

__all__ = ["DocEntry", "HybridIndex", "IndexError_", "IndexView", "LocalView", "Manifest", "SyncReport"]

log = logging.getLogger(__name__)
MERGE_FACTOR = 10  # this many segments of one size tier (powers of ten of live chunks) are merged into one
LOCK_TIMEOUT_S = 300.0


class HybridIndex:
    """The local index: the committed view readers search, and the writes (sync, embed) done under the write lock."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        view: LocalView,
        segments: dict[str, Segment],
        stamp: tuple | None,
        *,
        lazy: bool = False,
    ) -> None:
        self.directory = directory
        self._segments = segments
        self._view = view
        view._directory = directory
        self._stamp = stamp
        self._refresh_lock = threading.Lock()
        self.manifest = manifest
        self._lazy = lazy  # a writer's: chunks and segments read when touched, not at every load (see DocChunks)

    # -- opening -------------------------------------------------------------------------------

    @staticmethod
    def wanted(settings: RetrievalSettings) -> Manifest:
        return Manifest(
            INDEX_VERSION,
            settings.chunk_tokens,
            settings.chunk_overlap,
            settings.embedding_model,
            settings.embedding_model,
            settings.bm25_k1,
            settings.bm25_b,
        )

    @classmethod
    def open(cls, directory: Path, settings: RetrievalSettings, *, create: bool = False, lazy: bool = False) -> HybridIndex:
        """Load the index in `directory`; with `create` (a writer), start an empty one when there is none (or it is
        outdated). A writer, or a reader opened `lazy` (one search from the command line), reads document chunks and
        BM25 segments only when touched; a server's reader reads them all now, so no search waits on a file."""
        wanted = cls.wanted(settings)

        def empty() -> HybridIndex:
            return cls(directory, wanted, LocalView(wanted, DocChunks(directory), {}, None, {}), {}, None, lazy=create or lazy)

        index = empty()
        if not (directory / "manifest.json").is_file():
            if not create:
                raise IndexError_(f"no search index in {directory}; build it with `sleuth index`")
            return index
        try:
            index._load(settings, repair=create)
        except IndexError_:
            if not create:
                raise
            index = empty()  # the next sync rebuilds it
        return index

    def _load(self, settings: RetrievalSettings | None = None, *, repair: bool = False) -> None:
        """Read the committed state (retrying when a writer replaced it meanwhile); only what changed is read again."""
        path = self.directory / "manifest.json"
        missing: Exception | None = None
        for attempt in range(5):
            try:
                stamp = _stamp(path)
                manifest = read_manifest(path)
            except FileNotFoundError as exc:
                raise IndexError_(f"no search index in {self.directory}; build it with `sleuth index`") from exc
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise IndexError_(
                    f"search index manifest {path} is unreadable ({exc}); rebuild with `sleuth index --rebuild`"
                ) from exc
            wanted = self.wanted(settings) if settings is not None else self.manifest
            if manifest.layout() != wanted.layout() or manifest.embedding_model != wanted.embedding_model:
                raise IndexError_(
                    f"search index in {self.directory} was built with other settings (format {manifest.version}, chunks "
                    f"{manifest.chunk_tokens}/{manifest.chunk_overlap}, model {manifest.embedding_model}); rebuild with `sleuth index --rebuild`"
                )
            manifest.bm25_k1, manifest.bm25_b = wanted.bm25_k1, wanted.bm25_b
            try:
                self._adopt(manifest, stamp, repair=repair)
                return
            except FileNotFoundError as exc:  # a writer committed and removed files we were about to read: read again
                missing = exc
                time.sleep(0.05 * (attempt + 1))
        raise IndexError_(
            f"search index in {self.directory} names a file that is not there ({missing}); run `sleuth index` to repair it"
        )

    def _adopt(self, manifest: Manifest, stamp: tuple, *, repair: bool) -> None:
        old = self._view
        segments: dict[str, Segment] = {}
        bad: list[str] = []
        for entry in manifest.segments:
            segment = self._segments.get(entry.id)
            if segment is None:
                try:
                    if self._lazy:  # a writer checks the file is whole (its size); it reads it only to merge or search
                        Segment.check(self.directory / "segments", entry.id, entry.bytes or None)
                        continue
                    segment = Segment.load(self.directory / "segments", entry.id, entry.bytes or None)
                except SegmentError as exc:
                    if "missing" in str(exc) and not repair:
                        raise FileNotFoundError(str(exc)) from exc
                    if not repair:
                        raise IndexError_(f"search index damaged: {exc}; run `sleuth index` to re-index its documents") from exc
                    bad.append(entry.id)
                    log.warning("search index: %s; its documents are indexed again", exc)
                    continue
            segments[entry.id] = segment
        if bad:  # drop the damaged segments; their documents look new to the next sync
            manifest.segments = [s for s in manifest.segments if s.id not in bad]
            for doc_id in [d for d, e in manifest.docs.items() if e.segment in bad]:
                del manifest.docs[doc_id]
        store = old._store.successor(manifest)
        # A writer only checks the chunk files are there (one directory listing); a reader reads them all now.
        names = (
            set(os.listdir(self.directory / "chunks")) if self._lazy and repair and (self.directory / "chunks").is_dir() else None
        )
        for doc_id, entry in list(manifest.docs.items()):
            try:
                if not self._lazy:
                    store.get(entry)
                elif names is not None and f"{doc_id}.{entry.version}.json" not in names:
                    raise FileNotFoundError(f"{doc_id}.{entry.version}.json")
            except (IndexError_, FileNotFoundError):
                if not repair:
                    raise
                del manifest.docs[doc_id]  # re-chunked by the next sync
        for gone in set(old._blocks) - set(segments):  # vectors of merged-away segments (a search still on them reloads)
            old._blocks.pop(gone, None)
        segments = _Segments(self.directory / "segments", {e.id: e.bytes for e in manifest.segments}, segments)
        view = LocalView(manifest, store, segments, old if old.manifest.segments else None, old._blocks)
        if not self._lazy:
            view.bm25  # noqa: B018 - a reader's first search must not build it
        view._directory = self.directory
        self._segments, self._view, self._stamp, self.manifest = segments, view, stamp, manifest

    def refresh(self) -> bool:
        """Pick up what another process committed (a stat when nothing changed); True when the view changed."""
        path = self.directory / "manifest.json"
        try:
            stamp = _stamp(path)
        except FileNotFoundError:
            return False
        if stamp == self._stamp:
            return False
        with self._refresh_lock:
            if _stamp(path) == self._stamp:
                return False
            self._load()
            return True

    # -- the committed view (readers) ----------------------------------------------------------

    def view(self) -> LocalView:
        """The latest committed state, refreshed from disk when another process changed it."""
        self.refresh()
        return self._view

    def __len__(self) -> int:
        return len(self._view)

    @property
    def doc_ids(self) -> list[str]:
        return self._view.doc_ids

    @property
    def chunks(self) -> list[Chunk | None]:
        return self._view.chunks

    @property
    def bm25(self) -> SegmentedBM25:
        return self._view.bm25

    def doc(self, doc_id: str) -> DocEntry:
        return self.manifest.docs[doc_id]

    def doc_mask(self, doc_ids: Iterable[str]) -> np.ndarray:
        return self._view.doc_mask(doc_ids)

    def matrix(self) -> np.ndarray | None:
        return self._view.matrix()

    def indexed_text(self, position: int) -> str:
        return self._view.indexed_text(position)

    def pending(self) -> list[str]:
        """Documents whose chunks are not embedded yet, in index order."""
        return self._view.pending()

    def describe(self) -> dict:
        return {"backend": "local", "path": str(self.directory), "documents": len(self.doc_ids), "chunks": len(self)}

    # -- writes --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self, purpose: str):  # noqa: ANN202
        """The write lock, with the latest committed state loaded (writers read-modify-write the manifest)."""
        with write_lock(self.directory, LOCK_TIMEOUT_S, purpose):
            if (self.directory / "manifest.json").is_file():
                try:
                    self._load(repair=True)
                except IndexError_ as exc:  # unreadable or built with other settings: this writer starts it afresh
                    log.warning("%s; starting the index afresh", exc)
                    fresh = _copy(self.manifest)
                    fresh.docs.clear()
                    fresh.segments.clear()
                    self.manifest = fresh
                    self._view = LocalView(fresh, DocChunks(self.directory), {}, None, {})
                    self._view._directory = self.directory
            yield

    def sync(
        self,
        corpus: Corpus,
        count_tokens: TokenCounter,
        *,
        rebuild: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> SyncReport:
        """Chunk new and changed documents into one new segment, drop removed ones, commit; embeddings are left to `embed`."""
        started = time.perf_counter()
        report = SyncReport()
        with self._writing("sync"):
            manifest = _copy(self.manifest)
            catalog = {d.id: d for d in corpus.list()}
            if rebuild:
                manifest.docs.clear()
                manifest.segments.clear()
            previous = dict(self.manifest.docs)  # before a rebuild cleared them: their vectors may be reused
            report.removed = [d for d in manifest.docs if d not in catalog]
            for doc_id in report.removed:
                del manifest.docs[doc_id]
            todo = [d for d in catalog.values() if d.id not in manifest.docs or manifest.docs[d.id].content_hash != d.ingest_key]
            new_chunks: list[tuple[DocEntry, list[Chunk]]] = []
            for n, doc in enumerate(todo, 1):
                if progress:
                    progress("chunk", n, len(todo))
                (report.updated if doc.id in manifest.docs else report.added).append(doc.id)
                entry, chunks = chunk_catalog_document(corpus, doc, count_tokens, manifest.chunk_tokens, manifest.chunk_overlap)
                write_json(
                    self.directory / "chunks" / f"{doc.id}.{entry.version}.json",
                    {"doc": asdict(entry), "chunks": [asdict(c) for c in chunks]},
                )
                entry.embedded = reuse_vectors(self.directory / "embeddings", previous.get(doc.id), entry, chunks)
                new_chunks.append((entry, chunks))
            if new_chunks:
                if progress:
                    progress("bm25", 0, sum(len(c) for _e, c in new_chunks))
                segment = Segment.build([tokenize(indexed_text(e, c)) for e, chunks in new_chunks for c in chunks])
                size = segment.save(self.directory / "segments")
                for entry, _chunks in new_chunks:
                    entry.segment = segment.id
                    manifest.docs[entry.doc_id] = entry
                manifest.segments.append(SegmentEntry(segment.id, [[e.doc_id, e.version, len(c)] for e, c in new_chunks], size))
            if report.changed or rebuild or not (self.directory / "manifest.json").is_file():
                report.merged = self._merge_tiers(manifest)
                self._commit(manifest)
        report.chunks = len(self)
        report.seconds = time.perf_counter() - started
        return report

    def _merge_tiers(self, manifest: Manifest) -> int:
        """Merge MERGE_FACTOR segments of one size tier (and drop empty ones) so searches touch few segments."""
        live = {
            s.id: [(d, v, n) for d, v, n in s.docs if d in manifest.docs and manifest.docs[d].version == v]
            for s in manifest.segments
        }
        manifest.segments = [s for s in manifest.segments if live[s.id]]
        merged = 0
        while True:
            tiers: dict[int, list[SegmentEntry]] = {}
            for s in manifest.segments:
                tiers.setdefault(int(math.log10(max(1, sum(n for _d, _v, n in live[s.id])))), []).append(s)
            group = next((g for g in tiers.values() if len(g) >= MERGE_FACTOR), None)
            if group is None:
                return merged
            segments = [
                self._segments.get(s.id) or Segment.load(self.directory / "segments", s.id, s.bytes or None) for s in group
            ]
            lives = [
                np.array(
                    [d in manifest.docs and manifest.docs[d].version == v for d, v, n in s.docs for _ in range(n)], dtype=bool
                )
                for s in group
            ]
            out = merge(segments, lives)
            size = out.save(self.directory / "segments")
            docs = [entry for s in group for entry in live[s.id]]
            for doc_id, _v, _n in docs:
                manifest.docs[doc_id].segment = out.id
            first = manifest.segments.index(group[0])
            keep = [s for s in manifest.segments if s not in group]
            keep.insert(min(first, len(keep)), SegmentEntry(out.id, [list(d) for d in docs], size))
            manifest.segments = keep
            live[out.id] = docs
            self._segments[out.id] = out
            merged += len(group)

    def _commit(self, manifest: Manifest) -> None:
        """Write the manifest (the commit point), adopt it, then delete what no committed state names any more."""
        manifest.generation += 1
        manifest.updated_at = time.time()
        write_json(self.directory / "manifest.json", manifest_json(manifest))
        self._load()
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        keep_docs = {f"{d}.{e.version}" for d, e in self.manifest.docs.items()}
        for folder, suffixes in (("chunks", (".json",)), ("embeddings", (".npy", ".json"))):
            for path in (self.directory / folder).glob("*") if (self.directory / folder).is_dir() else []:
                stem = path.name.removesuffix(path.suffix)
                if path.suffix in suffixes and stem not in keep_docs and not path.name.startswith("."):
                    path.unlink(missing_ok=True)
        keep_segments = {s.id for s in self.manifest.segments}
        for path in (self.directory / "segments").glob("seg-*.npz") if (self.directory / "segments").is_dir() else []:
            if path.stem not in keep_segments:
                path.unlink(missing_ok=True)

    def embed(
        self,
        encode: Callable[[list[str]], np.ndarray],
        dim: int,
        *,
        doc_ids: Iterable[str] | None = None,
        on_doc: Callable[[str, int, int], None] | None = None,
        lock_wait_s: float = LOCK_TIMEOUT_S,
        purpose: str = "embed",
    ) -> int:
        """Embed pending documents one by one, each committed as it finishes (so it can stop and resume); returns chunks embedded.

        One embedder at a time holds the embed lock for the whole call (IndexBusy after `lock_wait_s`), so `sleuth index`
        and a server's background worker never write the same vector files; vectors are computed outside the write lock
        and reused for chunk texts embedded before (in any document)."""
        if self.manifest.dim not in (None, dim):
            raise IndexError_(f"embedding size {dim} differs from the index's {self.manifest.dim}; run `sleuth index --rebuild`")
        with write_lock(self.directory, lock_wait_s, purpose, name=EMBED_LOCK):
            return self._embed(encode, dim, doc_ids, on_doc)

    def _embed(
        self,
        encode: Callable[[list[str]], np.ndarray],
        dim: int,
        doc_ids: Iterable[str] | None,
        on_doc: Callable[[str, int, int], None] | None,
    ) -> int:
        self.refresh()
        todo = list(doc_ids) if doc_ids is not None else self.pending()
        cache = vector_cache(self.directory / "embeddings")
        done = 0
        for n, doc_id in enumerate(todo, 1):
            view = self._view
            entry = view.docs.get(doc_id)
            if entry is None or doc_id not in view.doc_start:
                continue
            try:
                texts = [indexed_text(entry, c) for c in view.doc_chunks(doc_id)]
            except FileNotFoundError:  # re-chunked by another writer meanwhile: its new version is pending
                continue
            hashes = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
            missing = [i for i, h in enumerate(hashes) if h not in cache]
            if missing:
                for i, vector in zip(missing, encode([texts[i] for i in missing]), strict=True):
                    cache[hashes[i]] = vector.astype(np.float16)
                done += len(missing)
            matrix = np.stack([cache[h] for h in hashes]) if hashes else np.zeros((0, dim), dtype=np.float16)
            key = f"{doc_id}.{entry.version}"
            write_npy(self.directory / "embeddings" / f"{key}.npy", matrix.astype(np.float16))
            write_json(self.directory / "embeddings" / f"{key}.json", hashes)
            with self._writing("embed"):
                manifest = _copy(self.manifest)
                current = manifest.docs.get(doc_id)
                if current is not None and current.version == entry.version:  # not re-chunked meanwhile
                    current.embedded = True
                    manifest.dim = dim
                    self._commit(manifest)
            if on_doc:
                on_doc(doc_id, n, len(todo))
        return done

    def check_vectors(self) -> list[str]:
        """Documents marked embedded whose vector file is missing, unreadable or the wrong shape are marked pending again
        (and committed), so the next embed redoes them; returns their doc_ids."""
        self.refresh()
        broken = [
            d
            for d, e in self.manifest.docs.items()
            if e.embedded and not vectors_ok(self.directory / "embeddings", e, self.manifest.dim)
        ]
        if not broken:
            return []
        with self._writing("check vectors"):
            manifest = _copy(self.manifest)
            again = [
                d
                for d in broken
                if d in manifest.docs
                and manifest.docs[d].embedded
                and not vectors_ok(self.directory / "embeddings", manifest.docs[d], self.manifest.dim)
            ]
            for doc_id in again:
                manifest.docs[doc_id].embedded = False
            if again:
                self._commit(manifest)
        return again


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _copy(manifest: Manifest) -> Manifest:
    data = manifest_json(manifest)
    docs = {d: DocEntry(**e) for d, e in data.pop("docs").items()}
    segments = [SegmentEntry(**s) for s in data.pop("segments")]
    return Manifest(**data, docs=docs, segments=segments)
