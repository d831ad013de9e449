"""One committed state of the local index as searches see it: chunk positions, BM25 over the segments, vectors.

Chunks are read per document from `chunks/<doc_id>.<version>.json` through `DocChunks`: a reader's index reads
them all when it opens, a writer's only those it touches; BM25 segments likewise (`_Segments`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from retrieval.chunking import Chunk
from retrieval.dense import dense_search
from retrieval.hits import Hit
from retrieval.manifest import DocEntry, IndexError_, Manifest, SegmentEntry, indexed_text
from retrieval.segments import Segment, SegmentedBM25, SegmentError

log = logging.getLogger(__name__)


@runtime_checkable
class IndexView(Protocol):
    """What a search reads from an index backend: the local files' LocalView, or the Milvus index itself.

    A scope is the backend's own form of a set of documents (a chunk mask, a filter expression): made by `scope`,
    passed back unchanged to `bm25_chunks` and `dense_chunks`.
    """

    @property
    def docs(self) -> dict[str, DocEntry]: ...

    @property
    def doc_ids(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def pending(self) -> list[str]:
        """Live documents whose chunks have no vectors yet."""
        ...

    def has_vectors(self) -> bool: ...

    def scope(self, doc_ids: Iterable[str], exclude: Iterable[str] = ()) -> Any: ...

    def bm25_chunks(self, tokens: list[str], k: int, scope: Any) -> list[Chunk]: ...

    def dense_chunks(self, vector: np.ndarray, k: int, scope: Any) -> list[Chunk]: ...


class LocalView:
    """One committed state of the local index, never modified: what a search runs against."""

    def __init__(
        self,
        manifest: Manifest,
        store: DocChunks,
        segments: dict[str, Segment],
        previous: LocalView | None,
        blocks: dict[str, np.ndarray],
    ) -> None:
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
            old = {
                s.id: {(d, v) for d, v, _ in s.docs if previous.docs.get(d) and previous.docs[d].version == v}
                for s in previous.manifest.segments
            }
            changed = {
                s.id
                for s in manifest.segments
                if s.id in old and old[s.id] != {(d, v) for d, v, _ in s.docs if self.docs.get(d) and self.docs[d].version == v}
            }
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
        self.broken: set[str] = previous.broken if previous is not None else set()  # '<doc_id>.<version>' with unreadable vectors
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
                    k1, b = self.manifest.bm25_k1, self.manifest.bm25_b
                    self._bm25 = SegmentedBM25(ordered, self.live, k1, b, previous=previous, changed=changed)
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
                        problem = "" if vectors.shape == (count, self.manifest.dim) else "do not match its chunks"
                    except (OSError, ValueError) as exc:
                        problem = f"are unreadable ({exc})"
                    if problem:  # searched without them (zero rows, dropped from hits) until the document is embedded again
                        if key not in self.broken:
                            log.warning(
                                "embeddings of %s (%s) %s; dense search skips it until it is re-embedded "
                                "(by the server's background worker or `sleuth index`)",
                                doc_id,
                                path,
                                problem,
                            )
                        self.broken.add(key)
                    else:
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
                hits += [
                    Hit(offset + h.index, h.score) for h in dense_search(self._block(entry, self._directory), vector, k, part)
                ]
            offset += n
        if self.broken:
            hits = [h for h in hits if self._key_of(h.index) not in self.broken]
        hits.sort(key=lambda h: (-h.score, h.index))
        return hits[:k]

    def _key_of(self, position: int) -> str:
        doc_id = self.doc_ids[self.chunk_doc[position]]
        return f"{doc_id}.{self.docs[doc_id].version}"

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


class _Positions:
    """The chunk at each position of a view's BM25/vector rows (None where a chunk is dead), without a list of them all."""

    def __init__(self, view: LocalView) -> None:
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


def _read_chunks(directory: Path, doc_id: str, version: str) -> list[Chunk]:
    path = directory / "chunks" / f"{doc_id}.{version}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise IndexError_(f"chunks of {doc_id} ({path}) are unreadable ({exc}); run `sleuth index` to re-index it") from exc
    return [Chunk(**c) for c in data["chunks"]]
