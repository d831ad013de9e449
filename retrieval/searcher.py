"""HybridSearcher: the one search API behind the agent's `search` tool, the RAG pipeline and the HTTP API."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from corpus.catalog import Corpus, normalize_form
from corpus.errors import CorpusError
from corpus.settings import CorpusSettings
from retrieval.chunking import Chunk
from retrieval.filters import Filters
from retrieval.fusion import rrf
from retrieval.hits import Hit
from retrieval.index import HybridIndex, SyncReport
from retrieval.manifest import DocEntry, indexed_text
from retrieval.query import QueryIntent, company_of, index_matcher, understand
from retrieval.settings import RetrievalSettings
from retrieval.synonyms import expansion
from retrieval.tokenize import tokenize
from retrieval.view import IndexView

if TYPE_CHECKING:
    from retrieval.embed import Embedder
    from retrieval.milvus import MilvusIndex

# RRF weights (bm25, dense) per question kind, from `bench/retrieval.py --weights` on the 40 dev
# questions: for exact-figure questions leaning BM25 (1.0/0.7, 1.0/0.5) did not beat equal weights
# (R@10 70% either way; MRR@10 0.435 equal vs 0.419), so they stay equal. Only 3 dev questions are
# conceptual, too few to measure; they lean dense, the usual finding for paraphrased questions.
FUSION_WEIGHTS = {"exact": (1.0, 1.0), "conceptual": (0.6, 1.0)}
RETRIEVERS = ("bm25", "dense")


class SearchError(CorpusError):
    """Bad search input (unknown filter value, empty query); the message says what would work."""


@dataclass
class Passage:
    """A retrieved chunk with its citation and provenance."""

    chunk_id: str
    doc_id: str
    company: str | None
    form_type: str | None
    fiscal_year: int | None
    fiscal_period: str | None
    section_path: str
    start_page: int
    end_page: int
    start_line: int
    end_line: int
    text: str
    score: float
    ranks: dict[str, int | None] = field(default_factory=dict)  # 1-based rank per retriever, None if not retrieved

    @property
    def pages(self) -> str:
        return str(self.start_page) if self.start_page == self.end_page else f"{self.start_page}-{self.end_page}"


@dataclass
class SearchResult:
    query: str
    passages: list[Passage]
    intent: QueryIntent
    searched_docs: list[str]  # documents the search was restricted to (all, when unfiltered)
    preferred_docs: list[str]  # documents matching years/forms from the question, ranked first
    timings_ms: dict[str, float]
    notes: list[str] = field(default_factory=list)


class HybridSearcher:
    """BM25 + dense retrieval, weighted RRF, question-aware filters and an optional reranker over one index."""

    def __init__(self, index: HybridIndex, settings: RetrievalSettings, embedder=None, reranker=None) -> None:  # noqa: ANN001
        self.index = index
        self.settings = settings
        self.embedder = embedder
        self.reranker = reranker
        self._matcher_docs: dict | None = None
        self.matcher = index_matcher([])
        self.view()

    @classmethod
    def open(
        cls, corpus_settings: CorpusSettings | None = None, settings: RetrievalSettings | None = None, *, lazy: bool = False
    ) -> HybridSearcher:
        """The searcher over the configured index, with the configured embedder and reranker (both load lazily); `lazy`
        for one search (the CLI): the local index reads only the files that search touches."""
        from retrieval.embed import Embedder
        from retrieval.rerank import make_reranker

        corpus_settings = corpus_settings or CorpusSettings()
        settings = settings or RetrievalSettings()
        index = open_index(corpus_settings, settings, lazy=lazy)
        return cls(index, settings, Embedder.from_settings(settings), make_reranker(settings))

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        *,
        infer_filters: bool = True,
        retrievers: tuple[str, ...] = RETRIEVERS,
        rerank: bool | None = None,
    ) -> SearchResult:
        """Top-`k` passages for `query`; filters from the question narrow (company) or rank first (year, form)."""
        if not query.strip():
            raise SearchError("empty query; ask about a figure, line item or topic, e.g. 'FY2018 capital expenditure'")
        if k < 1 or k > 1000:
            raise SearchError(f"k={k} is out of range; use 1..1000")
        unknown = set(retrievers) - set(RETRIEVERS)
        if unknown or not retrievers:
            raise SearchError(f"unknown retrievers {sorted(unknown)}; use some of {list(RETRIEVERS)}")
        timings: dict[str, float] = {}
        notes: list[str] = []
        t0 = time.perf_counter()
        view = self.view()
        intent = understand(query, self.matcher) if infer_filters else QueryIntent()
        searched = self._filter_docs(view.docs, filters or Filters(), intent)
        preferred = self._preferred_docs(view.docs, searched, intent)
        timings["understand"] = _ms(t0)

        depth = max(k, self.settings.rerank_top_n if self._reranking(rerank) else k, 50)
        vector = self._query_vector(view, query, timings, notes) if "dense" in retrievers else None
        weights = dict(zip(RETRIEVERS, FUSION_WEIGHTS[intent.kind], strict=True))
        pool = _Pool()
        ranks: dict[str, dict[int, int]] = {n: {} for n in retrievers}
        if preferred:  # the question's own filings first; the company's others only fill up
            fused = self._fused(view, query, vector, depth, view.scope(preferred), retrievers, weights, ranks, timings, pool)
            if len(fused) < depth:
                rest = view.scope(searched, exclude=preferred)
                fused += self._fused(view, query, vector, depth - len(fused), rest, retrievers, weights, ranks, timings, pool)
        else:
            fused = self._fused(view, query, vector, depth, view.scope(searched), retrievers, weights, ranks, timings, pool)
        if self._reranking(rerank) and fused:
            t = time.perf_counter()
            head = fused[: self.settings.rerank_top_n]
            order = self.reranker.rerank(
                query, [indexed_text(view.docs[pool.chunks[h.index].doc_id], pool.chunks[h.index]) for h in head]
            )
            fused = [Hit(head[h.index].index, h.score) for h in order] + fused[len(head) :]
            timings["rerank"] = _ms(t)
        timings["total"] = _ms(t0)
        passages = [
            self._passage(view, pool.chunks[h.index], h.score, {n: ranks[n].get(h.index) for n in retrievers}) for h in fused[:k]
        ]
        return SearchResult(query, passages, intent, searched, preferred, timings, notes)

    def _fused(
        self,
        view: IndexView,
        query: str,
        vector: np.ndarray | None,
        depth: int,
        scope: object,
        retrievers: tuple[str, ...],
        weights: dict[str, float],
        ranks: dict[str, dict[int, int]],
        timings: dict[str, float],
        pool: _Pool,
    ) -> list[Hit]:
        """Weighted RRF (retrieval.fusion, for every backend) of the retrievers' top-`depth` lists inside `scope`."""
        lists: list[list[int]] = []
        used: list[float] = []
        names: list[str] = []
        if "bm25" in retrievers:
            t = time.perf_counter()
            chunks = view.bm25_chunks(tokenize(f"{query} {expansion(query)}"), depth, scope)
            timings["bm25"] = timings.get("bm25", 0) + _ms(t)
            lists.append([pool.key(c) for c in chunks])
            used.append(weights["bm25"])
            names.append("bm25")
        if "dense" in retrievers and vector is not None:
            t = time.perf_counter()
            chunks = view.dense_chunks(vector, depth, scope)
            timings["dense"] = timings.get("dense", 0) + _ms(t)
            lists.append([pool.key(c) for c in chunks])
            used.append(weights["dense"])
            names.append("dense")
        for name, ranking in zip(names, lists, strict=True):
            offset = len(ranks[name])
            for r, index in enumerate(ranking, 1):
                ranks[name].setdefault(index, offset + r)
        t = time.perf_counter()
        fused = rrf(lists, used, k=self.settings.rrf_k, limit=depth) if lists else []
        timings["fuse"] = timings.get("fuse", 0) + _ms(t)
        return fused

    # -- filters -------------------------------------------------------------------------------

    def _filter_docs(self, docs: dict[str, DocEntry], filters: Filters, intent: QueryIntent) -> list[str]:
        chosen = list(docs)
        if filters.doc_ids:
            missing = [d for d in filters.doc_ids if d not in docs]
            if missing:
                raise SearchError(f"unknown doc_ids {missing}; list documents with `sleuth docs`")
            chosen = [d for d in chosen if d in set(filters.doc_ids)]
        if filters.company:
            wanted = filters.company.lower()
            keys = {c.key for c in [*self.matcher.named_by(filters.company), *self.matcher.mentioned_in(filters.company)]}

            def named(doc: DocEntry) -> bool:
                return company_of(doc) in keys or wanted in (doc.company or "").lower() or wanted == (doc.ticker or "").lower()

            chosen = [d for d in chosen if named(docs[d])]
            if not chosen:
                raise SearchError(f"no indexed document of company '{filters.company}'; list companies with `sleuth docs`")
        if filters.form:
            try:
                form = normalize_form(filters.form)
            except ValueError as exc:
                raise SearchError(str(exc)) from exc
            chosen = [d for d in chosen if docs[d].form_type == form]
        if filters.year is not None:
            chosen = [d for d in chosen if docs[d].fiscal_year == filters.year]
        if not (filters.company or filters.doc_ids) and intent.companies:
            named = [d for d in chosen if company_of(docs[d]) in intent.companies]
            chosen = named or chosen
        return chosen

    def _preferred_docs(self, docs: dict[str, DocEntry], searched: list[str], intent: QueryIntent) -> list[str]:
        """Of the searched documents, those matching the question's years (and forms, quarters) when any do."""
        preferred = searched
        if intent.years:
            # A question about FY2019-FY2021 is answered from the latest of those filings. "FY2023" may be the filing's
            # own fiscal year or the calendar year its period ends in (Ulta's "fiscal 2022" ends on 28 January 2023).
            latest = max(intent.years)
            preferred = [d for d in preferred if latest in _years_of(docs[d])] or [
                d for d in preferred if _years_of(docs[d]) & intent.years
            ]
        if intent.full_year and preferred:
            # a fiscal year's figures are in the filings that cover the whole year (10-K, annual report, Q4 release)
            preferred = [d for d in preferred if docs[d].fiscal_period in ("FY", "Q4")] or preferred
        if intent.forms and preferred:
            preferred = [d for d in preferred if docs[d].form_type in intent.forms] or preferred
        if intent.quarters and preferred:
            quarters = {f"Q{q}" for q in intent.quarters}
            preferred = [d for d in preferred if docs[d].fiscal_period in quarters] or preferred
        return preferred if preferred != searched else []

    # -- retrievers ----------------------------------------------------------------------------

    def _query_vector(self, view: IndexView, query: str, timings: dict[str, float], notes: list[str]) -> np.ndarray | None:
        if self.embedder is None or not view.has_vectors():
            notes.append("dense retrieval unavailable: no embeddings yet (run `sleuth index`); BM25 only")
            return None
        pending = len(view.pending())
        if pending:
            notes.append(
                f"dense retrieval covers {len(view.docs) - pending} of {len(view.docs)} documents; "
                "embeddings are still being computed"
            )
        t = time.perf_counter()
        vector = self.embedder.encode_query(query)
        timings["embed_query"] = _ms(t)
        return vector

    def _reranking(self, rerank: bool | None) -> bool:
        return self.reranker is not None and rerank is not False

    def _passage(self, view: IndexView, chunk: Chunk, score: float, ranks: dict[str, int | None]) -> Passage:
        doc = view.docs[chunk.doc_id]
        return Passage(
            chunk.chunk_id,
            chunk.doc_id,
            doc.company,
            doc.form_type,
            doc.fiscal_year,
            doc.fiscal_period,
            chunk.section_path,
            chunk.start_page,
            chunk.end_page,
            chunk.start_line,
            chunk.end_line,
            chunk.text,
            score,
            ranks,
        )

    def view(self) -> IndexView:
        """The index's latest committed state; the company matcher follows when documents came or went."""
        view = self.index.view()
        if view.docs is not self._matcher_docs:
            self.matcher = index_matcher(view.docs.values())
            self._matcher_docs = view.docs
        return view


class _Pool:
    """Per-query ids for the chunks the retrievers return, so fusion ranks small integers whatever the backend."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.chunks: list[Chunk] = []

    def key(self, chunk: Chunk) -> int:
        key = self.ids.get(chunk.chunk_id)
        if key is None:
            key = self.ids[chunk.chunk_id] = len(self.chunks)
            self.chunks.append(chunk)
        return key


def index_dir(corpus_settings: CorpusSettings, settings: RetrievalSettings) -> Path:
    return settings.index_dir or corpus_settings.data_dir / "index"


def open_index(
    corpus_settings: CorpusSettings, settings: RetrievalSettings, *, create: bool = False, lazy: bool = False
) -> HybridIndex | MilvusIndex:
    """The configured backend: Milvus when SLEUTH_RETRIEVAL_INDEX_URL is set, else the local files."""
    if settings.index_url:
        from retrieval.milvus import MilvusIndex

        index = MilvusIndex(
            settings.index_url, settings, token=settings.index_token, local_dir=index_dir(corpus_settings, settings)
        )
        if not create:
            index.view()  # unreachable, missing or built with another model: say so now, with the URL and the fix
        return index
    return HybridIndex.open(index_dir(corpus_settings, settings), settings, create=create, lazy=lazy)


def sync_index(
    corpus: Corpus, settings: RetrievalSettings | None = None, *, rebuild: bool = False, embedder: Embedder | None = None
) -> tuple[HybridIndex | MilvusIndex, SyncReport]:
    """Chunk and BM25-index what changed in `corpus` (created when missing); embeddings are left to `embed`."""
    from retrieval.embed import Embedder

    settings = settings or RetrievalSettings()
    embedder = embedder or Embedder.from_settings(settings)  # chunk sizes are counted in the embedding model's tokens
    idx = open_index(corpus.settings, settings, create=True)
    if settings.index_url:
        dim = embedder.dim if rebuild or not idx.exists() else None  # loading the model only to create the collection
        return idx, idx.sync(corpus, embedder.count_tokens, rebuild=rebuild, dim=dim)
    return idx, idx.sync(corpus, embedder.count_tokens, rebuild=rebuild)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def _years_of(doc: DocEntry) -> set[int]:
    """The years a question may call `doc`'s period by: its fiscal year as filed and the calendar year its period ends in."""
    years = {doc.fiscal_year} if doc.fiscal_year else set()
    if doc.period_end_date and doc.period_end_date[:4].isdigit():
        years.add(int(doc.period_end_date[:4]))
    return years
