"""The local search index: chunks, BM25 segments and embeddings as a directory of plain files with a manifest.

Layout of `<index_dir>`:
  manifest.json                       settings, BM25 segments, and per document: content hash, chunk count,
                                      version, segment, embedded or not; replaced atomically at every commit
  chunks/<doc_id>.<version>.json      the document's metadata and chunks (text, section path, page and line spans)
  segments/<segment>.npz              BM25 term frequencies of the chunks one sync added (retrieval.segments)
  embeddings/<doc_id>.<version>.npy   float16 unit vectors, one row per chunk, once the document is embedded
  embeddings/<doc_id>.<version>.json  the chunk content hashes of those rows (the embedding cache key)
  write.lock, write.lock.json         the writers' lock and who holds it (retrieval.lock)

Every file but the manifest is written once under a fresh name and never changed; the manifest is
written last. So a reader always sees one committed state, a writer that dies leaves at most
unreferenced files, and a process holding the index open picks up another's commit by re-reading
the manifest (`refresh`, a stat per search). One sync writes one segment: adding a filing costs
O(that filing); segments of one size tier are merged ten at a time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from corpus.catalog import Corpus
from retrieval.chunking import Chunk, TokenCounter
from retrieval.dense import dense_search
from retrieval.hits import Hit
from retrieval.lock import write_lock
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
)  # fmt: skip
from retrieval.segments import Segment, SegmentedBM25, SegmentError, merge
from retrieval.settings import RetrievalSettings
from retrieval.tokenize import tokenize

__all__ = ["DocEntry", "HybridIndex", "IndexError_", "IndexView", "Manifest", "SyncReport"]

log = logging.getLogger(__name__)
MERGE_FACTOR = 10  # this many segments of one size tier (powers of ten of live chunks) are merged into one
LOCK_TIMEOUT_S = 300.0


class IndexView:
    """One committed state of the local index, never modified: what a search runs against."""

    def __init__(self, manifest: Manifest, store: DocChunks, segments: dict[str, Segment],
                 previous: IndexView | None, blocks: dict[str, np.ndarray]) -> None:  # fmt: skip
        self.manifest = manifest
        self.docs = manifest.docs
        self._store = store
        self.doc_ids: list[str] = []
        owner: list[int] = []
        self.doc_start: dict[str, int] = {}
        for entry in manifest.segments:
            for doc_id, version, n in entry.docs:
                doc = self.docs.get(doc_id)
                if doc is not None and doc.version == version and doc.segment == entry.id:
                    self.doc_start[doc_id] = len(owner)
                    owner.extend([len(self.doc_ids)] * n)
                    self.doc_ids.append(doc_id)
                else:
                    owner.extend([-1] * n)
        self.chunks = _Positions(self)
        self.chunk_doc = np.asarray(owner, dtype=np.int32)
        self.live = self.chunk_doc >= 0
        changed: set[str] = set()
        base: SegmentedBM25 | None = None  # the last BM25 built, whose vocabulary the segments' term ids belong to
        if previous is not None:  # segments whose live chunks changed need their document frequencies recounted
            old = {s.id: {(d, v) for d, v, _ in s.docs if previous.docs.get(d) and previous.docs[d].version == v} for s in previous.manifest.segments}
            changed = {s.id for s in manifest.segments if s.id in old and old[s.id] != {(d, v) for d, v, _ in s.docs if self.docs.get(d) and self.docs[d].version == v}}
            base = previous._bm25
            if base is None:  # never searched (a writer's view): count from its base, with what changed since
                base, before = previous._bm25_from
                changed |= before
        self._segments = segments
        self._bm25: SegmentedBM25 | None = None
        self._bm25_from = (base, changed)
        self._bm25_lock = threading.Lock()
        self._blocks = blocks  # segment id -> float32 rows (shared across views; rows are only ever filled)
        self._filled: dict[str, set[str]] = previous._filled if previous is not None else {}
        self._dense_lock = previous._dense_lock if previous is not None else threading.Lock()
        self._directory: Path | None = None
        self._embedded: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.live.sum())

    @property
    def bm25(self) -> SegmentedBM25:
        """BM25 over the view's segments (a reader's index builds it at load; a writer's only if it searches)."""
        if self._bm25 is None:
            with self._bm25_lock:
                if self._bm25 is None:
                    previous, changed = self._bm25_from
                    ordered = [self._segments[s.id] for s in self.manifest.segments]
                    self._bm25 = SegmentedBM25(ordered, self.live, self.manifest.bm25_k1, self.manifest.bm25_b,
                                               previous=previous, changed=changed)  # fmt: skip
                    self._bm25_from = (None, set())
        return self._bm25

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """The chunks of one live document, in order (read from its file the first time)."""
        return self._store.get(self.docs[doc_id])

    def pending(self) -> list[str]:
        return [d for d in self.doc_ids if not self.docs[d].embedded]

    def has_vectors(self) -> bool:
        return bool(self.manifest.dim) and any(self.docs[d].embedded for d in self.doc_ids)

    def doc_mask(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Bool mask over chunk positions of the given documents."""
        position = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        wanted = np.zeros(len(self.doc_ids) + 1, dtype=bool)  # the last entry stands for dead chunks (-1)
        for doc_id in doc_ids:
            if doc_id in position:
                wanted[position[doc_id]] = True
        return wanted[self.chunk_doc]

    def scope(self, doc_ids: Iterable[str], exclude: Iterable[str] = ()) -> np.ndarray:
        mask = self.doc_mask(doc_ids)
        excluded = list(exclude)
        return mask & ~self.doc_mask(excluded) if excluded else mask

    def indexed_text(self, position: int) -> str:
        chunk = self.chunks[position]
        return indexed_text(self.docs[chunk.doc_id], chunk)

    def bm25_chunks(self, tokens: list[str], k: int, scope: np.ndarray) -> list[Chunk]:
        return [self.chunks[h.index] for h in self.bm25.search(tokens, k, scope)]

    def dense_chunks(self, vector: np.ndarray, k: int, scope: np.ndarray) -> list[Chunk]:
        return [self.chunks[h.index] for h in self.dense_hits(vector, k, scope)]

    # -- vectors, per segment ------------------------------------------------------------------

    def _block(self, entry: SegmentEntry, directory: Path) -> np.ndarray:
        """float32 rows of one segment, filled with the vectors of its embedded live documents."""
        with self._dense_lock:
            n = sum(c for _d, _v, c in entry.docs)
            block = self._blocks.get(entry.id)
            if block is None or block.shape != (n, self.manifest.dim):
                block = self._blocks[entry.id] = np.zeros((n, self.manifest.dim), dtype=np.float32)
                self._filled[entry.id] = set()
            filled = self._filled.setdefault(entry.id, set())
            row = 0
            for doc_id, version, count in entry.docs:
                doc = self.docs.get(doc_id)
                key = f"{doc_id}.{version}"
                if doc is not None and doc.version == version and doc.embedded and key not in filled:
                    path = directory / "embeddings" / f"{key}.npy"
                    try:
                        vectors = np.load(path)
                    except (OSError, ValueError) as exc:
                        raise IndexError_(f"embeddings of {doc_id} ({path}) are unreadable ({exc}); run `sleuth index --rebuild`") from exc
                    if vectors.shape != (count, self.manifest.dim):
                        raise IndexError_(f"embeddings of {doc_id} ({path}) do not match its chunks; run `sleuth index --rebuild`")
                    block[row : row + count] = vectors
                    filled.add(key)
                row += count
            return block

    def dense_hits(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[Hit]:
        """Top-k embedded live chunks by inner product, over each segment's rows (retrieval.dense), best first."""
        if not self.has_vectors() or self._directory is None:
            return []
        if self._embedded is None:
            self._embedded = self.doc_mask(d for d in self.doc_ids if self.docs[d].embedded)
        embedded = self._embedded
        allowed = embedded if allowed is None else allowed & embedded
        hits: list[Hit] = []
        offset = 0
        for entry in self.manifest.segments:
            n = sum(c for _d, _v, c in entry.docs)
            part = allowed[offset : offset + n]
            if part.any():
                hits += [Hit(offset + h.index, h.score) for h in dense_search(self._block(entry, self._directory), vector, k, part)]
            offset += n
        hits.sort(key=lambda h: (-h.score, h.index))
        return hits[:k]

    def matrix(self) -> np.ndarray | None:
        """All rows as one float32 matrix (zero rows for chunks not embedded or dead); None if nothing is embedded."""
        if not self.has_vectors() or self._directory is None:
            return None
        return np.concatenate([self._block(e, self._directory) for e in self.manifest.segments])


class DocChunks:
    """Each document version's chunks, read from its chunks file the first time they are needed and kept for later views.

    A reader's index reads them all when it opens (a search never waits on a file); a writer's (`sync_index`) reads
    only what it touches, so adding one filing to a large index costs O(that filing)."""

    def __init__(self, directory: Path, cache: dict[tuple[str, str], list[Chunk]] | None = None) -> None:
        self.directory = directory
        self._cache = cache if cache is not None else {}

    def successor(self, manifest: Manifest) -> DocChunks:
        """A store for the next committed state: the versions it still names stay cached."""
        names = {(d, e.version) for d, e in manifest.docs.items()}
        return DocChunks(self.directory, {k: v for k, v in self._cache.items() if k in names})

    def get(self, entry: DocEntry) -> list[Chunk]:
        key = (entry.doc_id, entry.version)
        chunks = self._cache.get(key)
        if chunks is None:
            chunks = _read_chunks(self.directory, entry.doc_id, entry.version)
            if len(chunks) != entry.chunks:
                raise IndexError_(f"chunks of {entry.doc_id} do not match the manifest; run `sleuth index` to re-index it")
            self._cache[key] = chunks
        return chunks


class _Segments(dict):
    """BM25 segments by id; one not read yet (a writer's) is read when first needed."""

    def __init__(self, directory: Path, sizes: dict[str, int], loaded: dict[str, Segment]) -> None:
        super().__init__(loaded)
        self.directory = directory
        self.sizes = sizes

    def __missing__(self, segment_id: str) -> Segment:
        try:
            segment = Segment.load(self.directory, segment_id, self.sizes.get(segment_id) or None)
        except SegmentError as exc:
            raise IndexError_(f"search index damaged: {exc}; run `sleuth index` to re-index its documents") from exc
        self[segment_id] = segment
        return segment


def _check_segment(directory: Path, entry: SegmentEntry) -> None:
    path = directory / f"{entry.id}.npz"
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise SegmentError(f"{path} is missing") from exc
    if entry.bytes and size != entry.bytes:
        raise SegmentError(f"{path} has {size} bytes, the manifest says {entry.bytes} (truncated or overwritten)")


class _Positions:
    """The chunk at each position of a view's BM25/vector rows (None where a chunk is dead), without a list of them all."""

    def __init__(self, view: IndexView) -> None:
        self._view = view

    def __len__(self) -> int:
        return len(self._view.chunk_doc)

    def __getitem__(self, position: int) -> Chunk | None:
        view = self._view
        owner = int(view.chunk_doc[position])
        if owner < 0:
            return None
        doc_id = view.doc_ids[owner]
        try:
            return view.doc_chunks(doc_id)[position - view.doc_start[doc_id]]
        except FileNotFoundError as exc:  # a writer re-chunked it since this (lazily read) view was committed
            raise IndexError_(f"{doc_id} was re-indexed while this search ran ({exc.filename}); search again") from exc

    def __iter__(self) -> Iterator[Chunk | None]:
        return (self[i] for i in range(len(self)))


class HybridIndex:
    """The local index: the committed view readers search, and the writes (sync, embed) done under the write lock."""

    def __init__(self, directory: Path, manifest: Manifest, view: IndexView, segments: dict[str, Segment], stamp: tuple | None) -> None:
        self.directory = directory
        self._segments = segments
        self._view = view
        view._directory = directory
        self._stamp = stamp
        self._refresh_lock = threading.Lock()
        self.manifest = manifest
        self._lazy = False  # chunks read when touched, not at every load (writers: see DocChunks)

    # -- opening -------------------------------------------------------------------------------

    @staticmethod
    def wanted(settings: RetrievalSettings) -> Manifest:
        return Manifest(INDEX_VERSION, settings.chunk_tokens, settings.chunk_overlap, settings.embedding_model,
                        settings.embedding_model, settings.bm25_k1, settings.bm25_b)  # fmt: skip

    @classmethod
    def open(cls, directory: Path, settings: RetrievalSettings, *, create: bool = False) -> HybridIndex:
        """Load the index in `directory`; with `create` (a writer), start an empty one when there is none (or it is
        outdated), and read document chunks only when touched (an O(filing) sync into a large index)."""
        wanted = cls.wanted(settings)
        index = cls(directory, wanted, IndexView(wanted, DocChunks(directory), {}, None, {}), {}, None)
        index._lazy = create
        if not (directory / "manifest.json").is_file():
            if not create:
                raise IndexError_(f"no search index in {directory}; build it with `sleuth index`")
            return index
        try:
            index._load(settings, repair=create)
        except IndexError_:
            if not create:
                raise
            index = cls(directory, wanted, IndexView(wanted, DocChunks(directory), {}, None, {}), {}, None)  # the next sync rebuilds it
            index._lazy = create
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
                raise IndexError_(f"search index manifest {path} is unreadable ({exc}); rebuild with `sleuth index --rebuild`") from exc
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
        raise IndexError_(f"search index in {self.directory} names a file that is not there ({missing}); run `sleuth index` to repair it")

    def _adopt(self, manifest: Manifest, stamp: tuple, *, repair: bool) -> None:
        old = self._view
        segments: dict[str, Segment] = {}
        bad: list[str] = []
        for entry in manifest.segments:
            segment = self._segments.get(entry.id)
            if segment is None:
                try:
                    if self._lazy:  # a writer checks the file is whole (its size); it reads it only to merge or search
                        _check_segment(self.directory / "segments", entry)
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
        names = set(os.listdir(self.directory / "chunks")) if self._lazy and repair and (self.directory / "chunks").is_dir() else None
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
        view = IndexView(manifest, store, segments, old if old.manifest.segments else None, old._blocks)
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

    def view(self) -> IndexView:
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
                    self._view = IndexView(fresh, DocChunks(self.directory), {}, None, {})
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
                write_json(self.directory / "chunks" / f"{doc.id}.{entry.version}.json", {"doc": asdict(entry), "chunks": [asdict(c) for c in chunks]})
                entry.embedded = self._reuse_vectors(previous.get(doc.id), entry, chunks)
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
        live = {s.id: [(d, v, n) for d, v, n in s.docs if d in manifest.docs and manifest.docs[d].version == v] for s in manifest.segments}
        manifest.segments = [s for s in manifest.segments if live[s.id]]
        merged = 0
        while True:
            tiers: dict[int, list[SegmentEntry]] = {}
            for s in manifest.segments:
                tiers.setdefault(int(math.log10(max(1, sum(n for _d, _v, n in live[s.id])))), []).append(s)
            group = next((g for g in tiers.values() if len(g) >= MERGE_FACTOR), None)
            if group is None:
                return merged
            segments = [self._segments.get(s.id) or Segment.load(self.directory / "segments", s.id, s.bytes or None) for s in group]
            lives = [np.array([d in manifest.docs and manifest.docs[d].version == v for d, v, n in s.docs for _ in range(n)], dtype=bool) for s in group]
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
    ) -> int:
        """Embed pending documents one by one, each committed as it finishes (so it can stop and resume); returns chunks embedded.

        Vectors are computed outside the write lock; vectors are reused for chunk texts embedded before (in any document)."""
        if self.manifest.dim not in (None, dim):
            raise IndexError_(f"embedding size {dim} differs from the index's {self.manifest.dim}; run `sleuth index --rebuild`")
        self.refresh()
        todo = list(doc_ids) if doc_ids is not None else self.pending()
        cache = self._vector_cache()
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
            _write_npy(self.directory / "embeddings" / f"{key}.npy", matrix.astype(np.float16))
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

    def _reuse_vectors(self, old: DocEntry | None, entry: DocEntry, chunks: list[Chunk]) -> bool:
        """Give a re-chunked document its previous version's vectors when every chunk text is unchanged (re-ingest, rebuild)."""
        if old is None or not old.embedded:
            return False
        stem = self.directory / "embeddings" / f"{old.doc_id}.{old.version}"
        try:
            known = dict(zip(json.loads(Path(f"{stem}.json").read_text()), np.load(f"{stem}.npy"), strict=True))
        except (OSError, ValueError):
            return False
        hashes = [hashlib.sha1(indexed_text(entry, c).encode()).hexdigest() for c in chunks]
        if not hashes or any(h not in known for h in hashes):
            return False
        key = f"{entry.doc_id}.{entry.version}"
        _write_npy(self.directory / "embeddings" / f"{key}.npy", np.stack([known[h] for h in hashes]).astype(np.float16))
        write_json(self.directory / "embeddings" / f"{key}.json", hashes)
        return True

    def _vector_cache(self) -> dict[str, np.ndarray]:
        """Chunk content hash -> vector, from every embedded document's files."""
        cache: dict[str, np.ndarray] = {}
        folder = self.directory / "embeddings"
        for hashes_path in folder.glob("*.json") if folder.is_dir() else []:
            vectors_path = hashes_path.with_suffix(".npy")
            try:
                hashes = json.loads(hashes_path.read_text())
                vectors = np.load(vectors_path)
            except (OSError, ValueError):
                continue
            if len(hashes) == len(vectors):
                cache.update(zip(hashes, vectors, strict=True))
        return cache


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _copy(manifest: Manifest) -> Manifest:
    data = manifest_json(manifest)
    docs = {d: DocEntry(**e) for d, e in data.pop("docs").items()}
    segments = [SegmentEntry(**s) for s in data.pop("segments")]
    return Manifest(**data, docs=docs, segments=segments)


def _read_chunks(directory: Path, doc_id: str, version: str) -> list[Chunk]:
    path = directory / "chunks" / f"{doc_id}.{version}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise IndexError_(f"chunks of {doc_id} ({path}) are unreadable ({exc}); run `sleuth index` to re-index it") from exc
    return [Chunk(**c) for c in data["chunks"]]


def _write_npy(path: Path, array: np.ndarray) -> None:
    import io

    from corpus.store import atomic_write

    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write(path, buffer.getvalue())
