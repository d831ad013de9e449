"""The search index on Milvus (SLEUTH_RETRIEVAL_INDEX_URL): chunks, BM25 and vectors in a Milvus collection.

Same contract as the local index (retrieval.index): the searcher asks for a BM25 ranking and a
dense ranking inside a document scope and fuses them itself (retrieval.fusion), so both
backends share the maths that is Sleuth's. Sleuth's filing tokenizer stays the one source of
lexical truth: Milvus gets each chunk's tokens from retrieval.tokenize, escaped so that any
analyzer's word split keeps them whole, and its BM25 function scores those. Dense search is
HNSW over inner product of unit vectors.

Collections (prefix SLEUTH_RETRIEVAL_INDEX_COLLECTION, default "sleuth"):
  <prefix>_chunks  one row per chunk: text, metadata, tokens -> sparse BM25, dense vector, embedded flag
  <prefix>_docs    one row per document (its DocEntry as JSON) and one "__state__" row (settings, generation)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from corpus.catalog import Corpus
from retrieval.chunking import Chunk, TokenCounter
from retrieval.lock import write_lock
from retrieval.manifest import INDEX_VERSION, DocEntry, IndexError_, SyncReport, chunk_catalog_document, indexed_text
from retrieval.settings import RetrievalSettings
from retrieval.tokenize import tokenize

log = logging.getLogger(__name__)

STATE_ROW = "__state__"
MAX_TEXT = 65535
INSERT_BATCH = 256
_PLAIN = re.compile(r"[a-z0-9]+")
CHUNK_FIELDS = ["doc_id", "ordinal", "text", "section_path", "start_page", "end_page", "start_line", "end_line", "n_tokens"]
FIX = "start it (`docker compose --profile milvus up -d milvus`), check SLEUTH_RETRIEVAL_INDEX_URL / SLEUTH_RETRIEVAL_INDEX_TOKEN, or unset SLEUTH_RETRIEVAL_INDEX_URL for the local index"


def escape_token(token: str) -> str:
    """A Sleuth token as one analyzer word: plain [a-z0-9] tokens as they are, others ("10-k", "12.5") hex-encoded after "zz"."""
    if _PLAIN.fullmatch(token) and not token.startswith("zz"):
        return token
    return "zz" + token.encode().hex()


def lexical_text(tokens: Iterable[str]) -> str:
    return " ".join(escape_token(t) for t in tokens)


def chunk_pk(doc_id: str, ordinal: int) -> int:
    """A stable int64 key per (document, chunk position): a re-chunked document overwrites its rows."""
    return int.from_bytes(hashlib.blake2b(f"{doc_id}#{ordinal}".encode(), digest_size=8).digest(), "big") & 0x7FFF_FFFF_FFFF_FFFF


def _quote(values: Iterable[str]) -> str:
    return "[" + ",".join(json.dumps(v) for v in values) + "]"


class MilvusIndex:
    """The index on a Milvus server (Standalone, Distributed, Zilliz Cloud or `milvus-lite server`)."""

    def __init__(self, url: str, settings: RetrievalSettings, *, token: str | None = None, local_dir: Path | None = None) -> None:
        self.url = url
        self.settings = settings
        self.token = token
        self.chunks_name = f"{settings.index_collection}_chunks"
        self.docs_name = f"{settings.index_collection}_docs"
        self.local_dir = local_dir  # where same-host writers take their lock (data dir / index)
        self._client: Any = None
        self._docs: dict[str, DocEntry] = {}
        self._state: dict | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    # -- connection ----------------------------------------------------------------------------

    def _fail(self, exc: Exception, doing: str) -> IndexError_:
        return IndexError_(
            f"search index on Milvus at {self.url}: {doing} failed ({type(exc).__name__}: {str(exc)[:300]}); {FIX}"
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            from retrieval.embed import require

            pymilvus = require("pymilvus", "pymilvus", "The Milvus search index (SLEUTH_RETRIEVAL_INDEX_URL)")
            try:
                self._client = pymilvus.MilvusClient(uri=self.url, token=self.token or "", timeout=self.settings.index_timeout_s)
            except Exception as exc:  # noqa: BLE001 - pymilvus raises its own and grpc errors
                raise self._fail(exc, "connecting") from exc
        return self._client

    def _call(self, doing: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IndexError_:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, doing) from exc

    def ping(self) -> dict:
        """For readiness: reachable, collection present, documents and embedding settings."""
        names = self._call("listing collections", self.client.list_collections, timeout=3)
        if self.chunks_name not in names:
            raise IndexError_(f"Milvus at {self.url} has no collection {self.chunks_name}; build it with `sleuth index`")
        state = self._read_state(force=True)
        return {
            "backend": "milvus",
            "url": self.url,
            "collection": self.chunks_name,
            "documents": len(self._docs),
            "embedding_model": state.get("embedding_model"),
            "dim": state.get("dim"),
        }

    # -- settings, documents -------------------------------------------------------------------

    def _wanted(self, dim: int | None) -> dict:
        s = self.settings
        return {
            "version": INDEX_VERSION,
            "chunk_tokens": s.chunk_tokens,
            "chunk_overlap": s.chunk_overlap,
            "embedding_model": s.embedding_model,
            "dim": dim,
        }

    def _check_state(self, state: dict) -> None:
        wanted = self._wanted(state.get("dim"))
        if any(state.get(k) != wanted[k] for k in ("version", "chunk_tokens", "chunk_overlap", "embedding_model")):
            raise IndexError_(
                f"Milvus collection {self.chunks_name} at {self.url} was built with embedding model {state.get('embedding_model')!r} "
                f"(dimension {state.get('dim')}, chunks {state.get('chunk_tokens')}/{state.get('chunk_overlap')}, format "
                f"{state.get('version')}); this Sleuth uses {self.settings.embedding_model!r}. Rebuild it with `sleuth index --rebuild` "
                f"(or set SLEUTH_RETRIEVAL_INDEX_COLLECTION to another name)"
            )

    def _read_state(self, *, force: bool = False) -> dict:
        """Settings and the commit generation; the document list is re-read when another process committed."""
        now = time.monotonic()
        if not force and self._state is not None and now - self._checked < self.settings.index_refresh_s:
            return self._state
        with self._lock:
            rows = self._call(
                "reading the index state",
                self.client.query,
                self.docs_name,
                filter=f'doc_id == "{STATE_ROW}"',
                output_fields=["entry"],
            )
            if not rows:
                raise IndexError_(f"Milvus at {self.url} has no Sleuth index in {self.docs_name}; build it with `sleuth index`")
            state = json.loads(rows[0]["entry"])
            self._check_state(state)
            if self._state is None or state.get("generation") != self._state.get("generation"):
                docs = self._call("reading documents", self._query_all, self.docs_name, f'doc_id != "{STATE_ROW}"', ["entry"])
                self._docs = {e.doc_id: e for e in (DocEntry(**json.loads(r["entry"])) for r in docs)}
            self._state, self._checked = state, now
            return state

    def _query_all(self, collection: str, expr: str, fields: list[str]) -> list[dict]:
        iterator = self.client.query_iterator(collection, batch_size=1000, filter=expr, output_fields=fields)
        rows: list[dict] = []
        while True:
            batch = iterator.next()
            if not batch:
                iterator.close()
                return rows
            rows.extend(batch)

    def exists(self) -> bool:
        return self.chunks_name in self._call("listing collections", self.client.list_collections)

    # -- what the searcher reads (retrieval.view.IndexView, as the local LocalView) ---------------

    def view(self) -> MilvusIndex:
        self._read_state()
        return self

    @property
    def docs(self) -> dict[str, DocEntry]:
        return self._docs

    @property
    def doc_ids(self) -> list[str]:
        return list(self._docs)

    def doc(self, doc_id: str) -> DocEntry:
        return self._docs[doc_id]

    def pending(self) -> list[str]:
        return [d for d, e in self._docs.items() if not e.embedded]

    def has_vectors(self) -> bool:
        return any(e.embedded for e in self._docs.values())

    def scope(self, doc_ids: Iterable[str], exclude: Iterable[str] = ()) -> str:
        """A filter expression for the documents (the shorter of `in` and `not in`)."""
        wanted = set(doc_ids) - set(exclude)
        if wanted >= set(self._docs):
            return ""
        others = set(self._docs) - wanted
        if len(others) < len(wanted):
            return f"doc_id not in {_quote(sorted(others))}"
        return f"doc_id in {_quote(sorted(wanted))}"

    def _search(self, field: str, data: list, k: int, expr: str, params: dict) -> list[Chunk]:
        if expr == "doc_id in []":
            return []
        rows = self._call(
            f"{field} search",
            self.client.search,
            self.chunks_name,
            data=data,
            anns_field=field,
            limit=k,
            filter=expr,
            output_fields=CHUNK_FIELDS,
            search_params=params,
        )
        return [_chunk(hit["entity"]) for hit in rows[0]] if rows else []

    def bm25_chunks(self, tokens: list[str], k: int, scope: str) -> list[Chunk]:
        text = lexical_text(tokens)
        if not text:
            return []
        return self._search("sparse", [text], k, scope, {"metric_type": "BM25"})

    def dense_chunks(self, vector: np.ndarray, k: int, scope: str) -> list[Chunk]:
        expr = "embedded == true" + (f" and ({scope})" if scope else "")
        return self._search(
            "dense", [np.asarray(vector, dtype=np.float32).tolist()], k, expr, {"metric_type": "IP", "params": {"ef": max(64, k)}}
        )

    def __len__(self) -> int:
        return sum(e.chunks for e in self._docs.values())

    def describe(self) -> dict:
        return {
            "backend": "milvus",
            "url": self.url,
            "collection": self.chunks_name,
            "documents": len(self._docs),
            "chunks": len(self),
        }

    # -- writes --------------------------------------------------------------------------------

    def _create(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self.client
        schema = client.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("ordinal", DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT)
        schema.add_field(
            "tokens", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True, analyzer_params={"tokenizer": "standard"}
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("embedded", DataType.BOOL)
        for name in ("section_path", "company", "form_type", "fiscal_period"):
            schema.add_field(name, DataType.VARCHAR, max_length=2048)
        for name in ("fiscal_year", "start_page", "end_page", "start_line", "end_line", "n_tokens"):
            schema.add_field(name, DataType.INT64)
        schema.add_function(
            Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"], output_field_names=["sparse"])
        )
        index = client.prepare_index_params()
        index.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": self.settings.bm25_k1, "bm25_b": self.settings.bm25_b},
        )
        index.add_index("dense", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
        index.add_index("doc_id", index_type="INVERTED")
        client.create_collection(self.chunks_name, schema=schema, index_params=index)
        docs = client.create_schema(auto_id=False)
        docs.add_field("doc_id", DataType.VARCHAR, max_length=512, is_primary=True)
        docs.add_field("entry", DataType.VARCHAR, max_length=8192)
        docs.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        docs_index = client.prepare_index_params()
        docs_index.add_index("v", index_type="FLAT", metric_type="L2")
        client.create_collection(self.docs_name, schema=docs, index_params=docs_index)

    def _drop(self) -> None:
        for name in (self.chunks_name, self.docs_name):
            if name in self.client.list_collections():
                self.client.drop_collection(name)

    def _writing(self):  # noqa: ANN202
        """Same-host writers queue on the local lock; across hosts, rows are keyed per (doc, chunk) so a race cannot double them."""
        return write_lock(self.local_dir, 300.0, "milvus sync") if self.local_dir is not None else _nolock()

    def _commit_docs(self, entries: list[DocEntry], removed: list[str], state: dict) -> None:
        state["generation"] = int(state.get("generation", 0)) + 1
        rows = [{"doc_id": e.doc_id, "entry": json.dumps(asdict(e)), "v": [0.0, 0.0]} for e in entries]
        rows.append({"doc_id": STATE_ROW, "entry": json.dumps(state), "v": [0.0, 0.0]})
        if removed:
            self.client.delete(self.docs_name, filter=f"doc_id in {_quote(removed)}")
        self.client.upsert(self.docs_name, rows)
        self._state = None

    def sync(
        self,
        corpus: Corpus,
        count_tokens: TokenCounter,
        *,
        rebuild: bool = False,
        dim: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> SyncReport:
        """Chunk new and changed documents into Milvus, delete removed ones; vectors are left to `embed` (zeros meanwhile)."""
        started = time.perf_counter()
        report = SyncReport()
        with self._writing():
            try:
                if rebuild:
                    self._call("dropping the collections", self._drop)
                if not self.exists():
                    if dim is None:
                        raise IndexError_("creating the Milvus collection needs the embedding dimension")
                    self._call("creating the collections", self._create, dim)
                    self._commit_docs([], [], {**self._wanted(dim), "generation": 0})
                state = dict(self._read_state(force=True))
                catalog = {d.id: d for d in corpus.list()}
                report.removed = [d for d in self._docs if d not in catalog]
                todo = [d for d in catalog.values() if d.id not in self._docs or self._docs[d.id].content_hash != d.ingest_key]
                entries = []
                for n, doc in enumerate(todo, 1):
                    if progress:
                        progress("chunk", n, len(todo))
                    (report.updated if doc.id in self._docs else report.added).append(doc.id)
                    entry, chunks = chunk_catalog_document(
                        corpus, doc, count_tokens, self.settings.chunk_tokens, self.settings.chunk_overlap
                    )
                    self._call("writing chunks", self._write_chunks, entry, chunks, state["dim"])
                    entries.append(entry)
                for doc_id in report.removed:
                    self._call("deleting chunks", self.client.delete, self.chunks_name, filter=f"doc_id == {json.dumps(doc_id)}")
                if report.changed:
                    self._call("committing documents", self._commit_docs, entries, report.removed, state)
            finally:
                self._state = None
        self._read_state(force=True)
        report.chunks = len(self)
        report.seconds = time.perf_counter() - started
        return report

    def _write_chunks(self, entry: DocEntry, chunks: list[Chunk], dim: int, vectors: np.ndarray | None = None) -> None:
        zero = [0.0] * dim
        rows = []
        for i, c in enumerate(chunks):
            body = indexed_text(entry, c)
            rows.append(
                {
                    "pk": chunk_pk(entry.doc_id, c.ordinal),
                    "doc_id": entry.doc_id,
                    "ordinal": c.ordinal,
                    "text": _clip(c.text),
                    "tokens": _clip(lexical_text(tokenize(body))),
                    "dense": vectors[i].tolist() if vectors is not None else zero,
                    "embedded": vectors is not None,
                    "section_path": _clip(c.section_path, 2048),
                    "company": entry.company or "",
                    "form_type": entry.form_type or "",
                    "fiscal_period": entry.fiscal_period or "",
                    "fiscal_year": entry.fiscal_year or -1,
                    "start_page": c.start_page,
                    "end_page": c.end_page,
                    "start_line": c.start_line,
                    "end_line": c.end_line,
                    "n_tokens": c.tokens,
                }
            )
        for start in range(0, len(rows), INSERT_BATCH):
            self.client.upsert(self.chunks_name, rows[start : start + INSERT_BATCH])
        # A shorter new version: drop the old version's chunks past its end.
        self.client.delete(self.chunks_name, filter=f"doc_id == {json.dumps(entry.doc_id)} and ordinal >= {len(chunks)}")

    def _doc_chunks(self, doc_id: str) -> list[Chunk]:
        rows = self._call("reading chunks", self._query_all, self.chunks_name, f"doc_id == {json.dumps(doc_id)}", CHUNK_FIELDS)
        return sorted((_chunk(r) for r in rows), key=lambda c: c.ordinal)

    def embed(
        self,
        encode: Callable[[list[str]], np.ndarray],
        dim: int,
        *,
        doc_ids: Iterable[str] | None = None,
        on_doc: Callable[[str, int, int], None] | None = None,
    ) -> int:
        """Embed pending documents one by one, each committed as it finishes; returns chunks embedded."""
        state = self._read_state(force=True)
        if state.get("dim") != dim:
            raise IndexError_(
                f"embedding size {dim} differs from the Milvus collection's {state.get('dim')}; run `sleuth index --rebuild`"
            )
        todo = list(doc_ids) if doc_ids is not None else self.pending()
        done = 0
        for n, doc_id in enumerate(todo, 1):
            entry = self._docs.get(doc_id)
            if entry is None:
                continue
            chunks = self._doc_chunks(doc_id)
            vectors = encode([indexed_text(entry, c) for c in chunks]) if chunks else np.zeros((0, dim), dtype=np.float32)
            with self._writing():
                current = self._read_state(force=True) and self._docs.get(doc_id)
                if current is None or current.version != entry.version:
                    continue  # re-chunked meanwhile: the next run embeds the new version
                self._call("writing vectors", self._write_chunks, entry, chunks, dim, vectors)
                entry.embedded = True
                self._call("committing documents", self._commit_docs, [entry], [], dict(self._state or state))
            done += len(chunks)
            if on_doc:
                on_doc(doc_id, n, len(todo))
        self._read_state(force=True)
        return done


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    """Milvus VARCHAR limits are in bytes: cut at a character boundary below `limit` bytes."""
    data = text.encode()
    return text if len(data) < limit else data[: limit - 4].decode(errors="ignore")


def _chunk(row: dict) -> Chunk:
    return Chunk(
        row["doc_id"],
        int(row["ordinal"]),
        row["text"],
        row["section_path"],
        int(row["start_page"]),
        int(row["end_page"]),
        int(row["start_line"]),
        int(row["end_line"]),
        int(row["n_tokens"]),
    )


class _nolock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
