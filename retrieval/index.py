"""The hybrid index: chunks, BM25 and embeddings as a directory of plain files with a manifest.

Layout of `<index_dir>`:
  manifest.json              settings, models, and per document: content hash, chunk count, embedded or not
  chunks/<doc_id>.json       the document's metadata and chunks (text, section path, page and line spans)
  bm25/                      BM25 over all chunks (rebuilt from the chunk files when documents change)
  embeddings/<doc_id>.npy    float16 unit vectors, one row per chunk, written once the document is embedded
  embeddings/<doc_id>.json   the chunk content hashes of those rows (the embedding cache key)

Each file is written to a temp name and renamed; the manifest is written last, so an interrupted
build leaves the previous state readable, and `sync` picks up where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from corpus.catalog import Corpus
from corpus.errors import CorpusError
from corpus.store import atomic_write
from retrieval.bm25 import BM25Index
from retrieval.chunking import Chunk, SectionSpan, TokenCounter, chunk_document
from retrieval.settings import RetrievalSettings
from retrieval.tokenize import tokenize

INDEX_VERSION = 1
CONTEXT_SEPARATOR = "\n"


class IndexError_(CorpusError):
    """The index is missing, damaged or built with other settings; the message says which command fixes it."""


@dataclass
class DocEntry:
    """What the index knows of one document."""

    doc_id: str
    content_hash: str
    company: str | None
    form_type: str | None
    fiscal_year: int | None
    fiscal_period: str | None
    period_end_date: str | None
    ticker: str | None
    chunks: int = 0
    embedded: bool = False


@dataclass
class Manifest:
    version: int
    chunk_tokens: int
    chunk_overlap: int
    tokenizer: str  # the embedding model whose tokenizer sized the chunks
    embedding_model: str
    bm25_k1: float
    bm25_b: float
    dim: int | None = None
    updated_at: float = 0.0
    docs: dict[str, DocEntry] = field(default_factory=dict)

    def layout(self) -> tuple:
        """Settings that change chunks; when they differ, the index must be rebuilt."""
        return (self.version, self.chunk_tokens, self.chunk_overlap, self.tokenizer)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def context_header(doc: DocEntry, chunk: Chunk) -> str:
    """What a chunk is about, prepended for BM25 and embeddings: company, form, period, section."""
    period = f"FY{doc.fiscal_year}" if doc.fiscal_year else ""
    if doc.fiscal_period and doc.fiscal_period != "FY":
        period = f"{period} {doc.fiscal_period}".strip()
    parts = [doc.company or doc.doc_id, doc.form_type or "", period, chunk.section_path]
    return " | ".join(p for p in parts if p)


class HybridIndex:
    """Chunks of every indexed document, their BM25 index and (for embedded documents) their vectors."""

    def __init__(self, directory: Path, manifest: Manifest, chunks: dict[str, list[Chunk]]) -> None:
        self.directory = directory
        self.manifest = manifest
        self._doc_chunks = chunks
        self._bm25: BM25Index | None = None
        self._matrix: np.ndarray | None = None
        self._refresh_views()

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path, settings: RetrievalSettings, *, create: bool = False) -> HybridIndex:
        """Load the index in `directory`; with `create`, start an empty one when there is none (or it is outdated)."""
        wanted = Manifest(
            INDEX_VERSION, settings.chunk_tokens, settings.chunk_overlap, settings.embedding_model,
            settings.embedding_model, settings.bm25_k1, settings.bm25_b,
        )  # fmt: skip
        path = directory / "manifest.json"
        if not path.is_file():
            if not create:
                raise IndexError_(f"no search index in {directory}; build it with `sleuth index`")
            return cls(directory, wanted, {})
        try:
            manifest = _read_manifest(path)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            if not create:
                raise IndexError_(f"search index manifest {path} is unreadable ({exc}); rebuild with `sleuth index --rebuild`") from exc
            return cls(directory, wanted, {})
        if manifest.layout() != wanted.layout() or manifest.embedding_model != wanted.embedding_model:
            if not create:
                raise IndexError_(
                    f"search index in {directory} was built with other settings (chunks {manifest.chunk_tokens}/"
                    f"{manifest.chunk_overlap}, model {manifest.embedding_model}); rebuild with `sleuth index --rebuild`"
                )
            return cls(directory, wanted, {})
        manifest.bm25_k1, manifest.bm25_b = settings.bm25_k1, settings.bm25_b
        chunks = {doc_id: _read_chunks(directory, doc_id) for doc_id in manifest.docs}
        for doc_id, entry in manifest.docs.items():
            if len(chunks[doc_id]) != entry.chunks:  # an interrupted sync: chunk it again
                entry.content_hash, entry.embedded = "", False
        index = cls(directory, manifest, chunks)
        try:
            index._load_bm25()
        except IndexError_:
            if not create:
                raise
            index._bm25 = None  # sync rebuilds it
        return index

    # -- views used by search ------------------------------------------------------------------

    def _refresh_views(self) -> None:
        self.doc_ids: list[str] = list(self._doc_chunks)
        self.chunks: list[Chunk] = [c for doc_id in self.doc_ids for c in self._doc_chunks[doc_id]]
        self.chunk_doc = np.fromiter(
            (i for i, doc_id in enumerate(self.doc_ids) for _ in self._doc_chunks[doc_id]), dtype=np.int32, count=len(self.chunks)
        )
        self._matrix = None

    def __len__(self) -> int:
        return len(self.chunks)

    def doc(self, doc_id: str) -> DocEntry:
        return self.manifest.docs[doc_id]

    @property
    def bm25(self) -> BM25Index:
        if self._bm25 is None:
            self._bm25 = BM25Index.build([], self.manifest.bm25_k1, self.manifest.bm25_b)
        return self._bm25

    def doc_mask(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Bool mask over chunks of the given documents."""
        wanted = np.zeros(len(self.doc_ids), dtype=bool)
        position = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        for doc_id in doc_ids:
            if doc_id in position:
                wanted[position[doc_id]] = True
        return wanted[self.chunk_doc] if len(self.chunks) else np.zeros(0, dtype=bool)

    def embedded_mask(self) -> np.ndarray:
        return self.doc_mask(d for d, e in self.manifest.docs.items() if e.embedded)

    def matrix(self) -> np.ndarray | None:
        """Unit vectors (float32) of all chunks, zero rows for documents not embedded yet; None if nothing is embedded."""
        if self._matrix is None and self.manifest.dim and any(e.embedded for e in self.manifest.docs.values()):
            # float16 on disk, float32 in memory: numpy/torch CPU matmul is fast and steady only in float32.
            matrix = np.zeros((len(self.chunks), self.manifest.dim), dtype=np.float32)
            row = 0
            for doc_id in self.doc_ids:
                n = len(self._doc_chunks[doc_id])
                if self.manifest.docs[doc_id].embedded:
                    vectors = np.load(self.directory / "embeddings" / f"{doc_id}.npy")
                    if vectors.shape != (n, self.manifest.dim):
                        raise IndexError_(f"embeddings of {doc_id} do not match its chunks; run `sleuth index --rebuild`")
                    matrix[row : row + n] = vectors
                row += n
            self._matrix = matrix
        return self._matrix

    def indexed_text(self, position: int) -> str:
        """The text BM25 and the embedder see for chunk `position`: context header and body."""
        chunk = self.chunks[position]
        return context_header(self.manifest.docs[chunk.doc_id], chunk) + CONTEXT_SEPARATOR + chunk.text

    # -- keeping in step with the catalog ------------------------------------------------------

    def sync(
        self,
        corpus: Corpus,
        count_tokens: TokenCounter,
        *,
        rebuild: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> SyncReport:
        """Chunk new and changed documents, drop removed ones, rebuild BM25, save; embeddings are left to `embed`."""
        started = time.perf_counter()
        report = SyncReport()
        catalog = {d.id: d for d in corpus.list()}
        if rebuild:
            self._doc_chunks.clear()
            self.manifest.docs.clear()
        for doc_id in [d for d in self.manifest.docs if d not in catalog]:
            self.manifest.docs.pop(doc_id, None)
            self._doc_chunks.pop(doc_id, None)
            report.removed.append(doc_id)
        todo = [d for d in catalog.values() if d.id not in self.manifest.docs or self.manifest.docs[d.id].content_hash != d.ingest_key]
        for n, doc in enumerate(todo, 1):
            if progress:
                progress("chunk", n, len(todo))
            (report.updated if doc.id in self.manifest.docs else report.added).append(doc.id)
            text = corpus.store.read(doc.id)
            spans = [SectionSpan(s.start_line, s.end_line, s.path, s.depth) for s in corpus.sections(doc.id)]
            chunks = chunk_document(
                doc.id, text, spans, count_tokens, self.manifest.chunk_tokens, self.manifest.chunk_overlap
            )
            entry = DocEntry(
                doc.id, doc.ingest_key, doc.company, doc.form_type, doc.fiscal_year, doc.fiscal_period,
                doc.period_end_date.isoformat() if doc.period_end_date else None, doc.ticker, len(chunks), False,
            )  # fmt: skip
            self.manifest.docs[doc.id] = entry
            self._doc_chunks[doc.id] = chunks
            _write_json(self.directory / "chunks" / f"{doc.id}.json", {"doc": asdict(entry), "chunks": [asdict(c) for c in chunks]})
        if report.changed or self._bm25 is None or rebuild:
            self._refresh_views()
            if progress:
                progress("bm25", 0, len(self.chunks))
            self._bm25 = BM25Index.build(
                [tokenize(self.indexed_text(i)) for i in range(len(self.chunks))], self.manifest.bm25_k1, self.manifest.bm25_b
            )
            self._save_bm25()
            self._save_manifest()
            # Only now that the manifest no longer lists them: a sync cut short must not leave it naming missing files.
            for doc_id in report.removed:
                self._drop_files(doc_id)
        report.chunks = len(self.chunks)
        report.seconds = time.perf_counter() - started
        return report

    def pending(self) -> list[str]:
        """Documents whose chunks are not embedded yet, in index order."""
        return [d for d in self.doc_ids if not self.manifest.docs[d].embedded]

    def embed(
        self,
        encode: Callable[[list[str]], np.ndarray],
        dim: int,
        *,
        doc_ids: Iterable[str] | None = None,
        on_doc: Callable[[str, int, int], None] | None = None,
    ) -> int:
        """Embed pending documents one by one (saved as each finishes, so it can stop and resume); returns chunks embedded.

        Vectors are reused for chunks whose indexed text was embedded before (in any document)."""
        if self.manifest.dim not in (None, dim):
            raise IndexError_(f"embedding size {dim} differs from the index's {self.manifest.dim}; run `sleuth index --rebuild`")
        self.manifest.dim = dim
        todo = list(doc_ids) if doc_ids is not None else self.pending()
        cache = self._vector_cache()
        done = 0
        for n, doc_id in enumerate(todo, 1):
            hashes = self._embedding_keys(doc_id)
            missing = [i for i, h in enumerate(hashes) if h not in cache]
            if missing:
                first_row = int(np.searchsorted(self.chunk_doc, self.doc_ids.index(doc_id)))
                vectors = encode([self.indexed_text(first_row + i) for i in missing])
                for i, vector in zip(missing, vectors, strict=True):
                    cache[hashes[i]] = vector.astype(np.float16)
                done += len(missing)
            matrix = np.stack([cache[h] for h in hashes]) if hashes else np.zeros((0, dim), dtype=np.float16)
            _write_npy(self.directory / "embeddings" / f"{doc_id}.npy", matrix.astype(np.float16))
            _write_json(self.directory / "embeddings" / f"{doc_id}.json", hashes)
            self.manifest.docs[doc_id].embedded = True
            self._save_manifest()
            self._matrix = None
            if on_doc:
                on_doc(doc_id, n, len(todo))
        return done

    # -- persistence ---------------------------------------------------------------------------

    def _drop_files(self, doc_id: str) -> None:
        for path in (
            self.directory / "chunks" / f"{doc_id}.json",
            self.directory / "embeddings" / f"{doc_id}.npy",
            self.directory / "embeddings" / f"{doc_id}.json",
        ):
            path.unlink(missing_ok=True)

    def _embedding_keys(self, doc_id: str) -> list[str]:
        """Cache keys of a document's chunks: hashes of exactly the text the embedder reads."""
        first = int(np.searchsorted(self.chunk_doc, self.doc_ids.index(doc_id)))
        count = len(self._doc_chunks[doc_id])
        return [hashlib.sha1(self.indexed_text(first + i).encode()).hexdigest() for i in range(count)]

    def _vector_cache(self) -> dict[str, np.ndarray]:
        """Chunk content hash -> vector, from every embedded document's files."""
        cache: dict[str, np.ndarray] = {}
        folder = self.directory / "embeddings"
        for hashes_path in folder.glob("*.json") if folder.is_dir() else []:
            vectors_path = hashes_path.with_suffix(".npy")
            if not vectors_path.is_file():
                continue
            hashes = json.loads(hashes_path.read_text())
            vectors = np.load(vectors_path)
            if len(hashes) == len(vectors):
                cache.update(zip(hashes, vectors, strict=True))
        return cache

    def _save_manifest(self) -> None:
        self.manifest.updated_at = time.time()
        data = asdict(self.manifest)
        _write_json(self.directory / "manifest.json", data)

    def _save_bm25(self) -> None:
        self.bm25.save(self.directory / "bm25")

    def _load_bm25(self) -> None:
        try:
            self._bm25 = BM25Index.load(self.directory / "bm25")
        except (OSError, ValueError, KeyError) as exc:
            raise IndexError_(f"BM25 index in {self.directory / 'bm25'} is unreadable ({exc}); run `sleuth index --rebuild`") from exc
        if len(self._bm25) != len(self.chunks):
            raise IndexError_(f"BM25 index in {self.directory} does not match its chunks; run `sleuth index --rebuild`")


def _read_manifest(path: Path) -> Manifest:
    data = json.loads(path.read_text())
    docs = {doc_id: DocEntry(**entry) for doc_id, entry in data.pop("docs").items()}
    return Manifest(**data, docs=docs)


def _read_chunks(directory: Path, doc_id: str) -> list[Chunk]:
    path = directory / "chunks" / f"{doc_id}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise IndexError_(f"chunks of {doc_id} ({path}) are unreadable ({exc}); run `sleuth index --rebuild`") from exc
    return [Chunk(**c) for c in data["chunks"]]


def _write_json(path: Path, data: object) -> None:
    atomic_write(path, json.dumps(data, separators=(",", ":")).encode())


def _write_npy(path: Path, array: np.ndarray) -> None:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write(path, buffer.getvalue())
