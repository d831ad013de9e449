"""What an index knows of its documents and settings, shared by the local and the Milvus backends."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from corpus.errors import CorpusError
from corpus.text_store import atomic_write
from retrieval.chunking import Chunk, SectionSpan, TokenCounter, chunk_document

if TYPE_CHECKING:
    from corpus.catalog import Corpus
    from corpus.models import Document

INDEX_VERSION = 2
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
    version: str = ""  # names this chunking's files (chunks, vectors); new at every re-chunk, so files are never rewritten
    segment: str = ""  # the BM25 segment holding this version's postings (local backend)


@dataclass
class SegmentEntry:
    id: str
    docs: list[list]  # [doc_id, version, chunk count] in segment order
    bytes: int = 0


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
    generation: int = 0  # +1 at every commit
    docs: dict[str, DocEntry] = field(default_factory=dict)
    segments: list[SegmentEntry] = field(default_factory=list)

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
    merged: int = 0  # segments merged into one after the commit

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


def indexed_text(doc: DocEntry, chunk: Chunk) -> str:
    """The text BM25 and the embedder see for a chunk: context header and body."""
    return context_header(doc, chunk) + CONTEXT_SEPARATOR + chunk.text


def new_version() -> str:
    return uuid.uuid4().hex[:12]


def chunk_catalog_document(
    corpus: Corpus, doc: Document, count_tokens: TokenCounter, chunk_tokens: int, overlap: int
) -> tuple[DocEntry, list[Chunk]]:
    """A catalog document cut into chunks along its sections, with its index entry (the same for both backends)."""
    text = corpus.store.read(doc.id)
    spans = [SectionSpan(s.start_line, s.end_line, s.path, s.depth) for s in corpus.sections(doc.id)]
    chunks = chunk_document(doc.id, text, spans, count_tokens, chunk_tokens, overlap)
    entry = DocEntry(
        doc.id,
        doc.ingest_key,
        doc.company,
        doc.form_type,
        doc.fiscal_year,
        doc.fiscal_period,
        doc.period_end_date.isoformat() if doc.period_end_date else None,
        doc.ticker,
        len(chunks),
        False,
        new_version(),
    )
    return entry, chunks


def read_manifest(path: Path) -> Manifest:
    data = json.loads(path.read_text())
    docs = {doc_id: DocEntry(**entry) for doc_id, entry in data.pop("docs").items()}
    segments = [SegmentEntry(**s) for s in data.pop("segments", [])]
    return Manifest(**data, docs=docs, segments=segments)


def write_json(path: Path, data: object) -> None:
    atomic_write(path, json.dumps(data, separators=(",", ":")).encode())


def manifest_json(manifest: Manifest) -> dict:
    return asdict(manifest)
