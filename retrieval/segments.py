"""BM25 over immutable segments, so adding one filing costs O(that filing), not O(corpus).

A segment holds the raw term frequencies of some chunks (a CSC matrix, one column per term)
and each chunk's length; it is written once and never changed. Corpus statistics (live chunk
count, average length, document frequency per term) are summed over the segments' *live*
chunks when segments come and go, and each query term is weighted at query time exactly as
rank_bm25's BM25Okapi would over the live chunks (idf = ln((N - df + 0.5) / (df + 0.5)),
negative idf floored to EPSILON x mean idf; see retrieval.bm25, which holds the same maths
precomputed). A replaced or removed document's chunks stay in their segment, masked out,
until segments of one size tier are merged.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Sequence
from itertools import chain
from pathlib import Path

import numpy as np

from retrieval.bm25 import EPSILON, masked_top_k
from retrieval.hits import Hit

FORMAT_VERSION = 2


class SegmentError(ValueError):
    """A segment file is missing, truncated or inconsistent."""


class Segment:
    """Term frequencies of a run of chunks: `indptr`/`indices`/`tf` by term, `lengths` by chunk."""

    def __init__(
        self, segment_id: str, terms: list[str], indptr: np.ndarray, indices: np.ndarray, tf: np.ndarray, lengths: np.ndarray
    ) -> None:
        self.id = segment_id
        self.terms = terms
        self.indptr = indptr
        self.indices = indices
        self.tf = tf
        self.lengths = lengths
        self.gids = np.zeros(0, dtype=np.int64)  # global term ids, set by SegmentedBM25
        self._order = np.zeros(0, dtype=np.int64)

    @classmethod
    def build(cls, corpus_tokens: Sequence[list[str]], segment_id: str | None = None) -> Segment:
        """A segment of chunks given as token lists (retrieval.tokenize)."""
        n = len(corpus_tokens)
        lengths = np.fromiter(map(len, corpus_tokens), dtype=np.int64, count=n)
        flat = list(chain.from_iterable(corpus_tokens))
        vocab = {token: i for i, token in enumerate(dict.fromkeys(flat))}
        keys = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
        del flat
        chunk = np.repeat(np.arange(n, dtype=np.int64), lengths)
        return cls._from_pairs(segment_id or new_id(), list(vocab), keys, chunk, np.ones(keys.size, dtype=np.float32), lengths)

    @classmethod
    def _from_pairs(
        cls, segment_id: str, terms: list[str], term: np.ndarray, chunk: np.ndarray, count: np.ndarray, lengths: np.ndarray
    ) -> Segment:
        """Sum `count` per (term, chunk) pair into CSC order."""
        stride = max(len(lengths), 1)
        keys = term * stride + chunk
        order = np.argsort(keys, kind="stable")
        keys, count = keys[order], count[order]
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if keys.size else keys
        tf = np.add.reduceat(count, starts).astype(np.float32) if keys.size else np.zeros(0, dtype=np.float32)
        pairs = keys[starts]
        pair_term = pairs // stride
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(pair_term, minlength=len(terms)), out=indptr[1:])
        return cls(segment_id, terms, indptr, (pairs - pair_term * stride).astype(np.int32), tf, lengths.astype(np.int32))

    def __len__(self) -> int:
        return int(self.lengths.size)

    def df(self, live: np.ndarray | None = None) -> np.ndarray:
        """Live chunks containing each term (all chunks when `live` is None)."""
        counts = np.diff(self.indptr)
        if live is None or live.all():
            return counts
        keep = live[self.indices].astype(np.int64)
        out = np.zeros(len(self.terms), dtype=np.int64)
        nonempty = counts > 0
        if keep.size:
            out[nonempty] = np.add.reduceat(keep, self.indptr[:-1][nonempty])
        return out

    def postings(self, gid: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(chunk positions, term frequencies) of global term `gid`, or None when the segment lacks it."""
        at = np.searchsorted(self.gids, gid, sorter=self._order)
        if at >= self._order.size or self.gids[self._order[at]] != gid:
            return None
        t = self._order[at]
        span = slice(self.indptr[t], self.indptr[t + 1])
        return self.indices[span], self.tf[span]

    # -- files ---------------------------------------------------------------------------------

    def save(self, directory: Path) -> int:
        """Write `<id>.npz` (atomically); returns its size in bytes."""
        from corpus.text_store import atomic_write

        buffer = io.BytesIO()
        np.savez(
            buffer,
            indptr=self.indptr,
            indices=self.indices,
            tf=self.tf,
            lengths=self.lengths,
            terms=np.frombuffer(json.dumps(self.terms, ensure_ascii=False).encode(), dtype=np.uint8),
            version=np.array([FORMAT_VERSION]),
        )
        data = buffer.getvalue()
        atomic_write(directory / f"{self.id}.npz", data)
        return len(data)

    @staticmethod
    def check(directory: Path, segment_id: str, size: int | None = None) -> None:
        """The segment's file is there and, when `size` is given, whole (the size the manifest recorded); no read."""
        path = directory / f"{segment_id}.npz"
        try:
            actual = path.stat().st_size
        except FileNotFoundError as exc:
            raise SegmentError(f"{path} is missing") from exc
        if size is not None and actual != size:
            raise SegmentError(f"{path} has {actual} bytes, the manifest says {size} (truncated or overwritten)")

    @classmethod
    def load(cls, directory: Path, segment_id: str, size: int | None = None) -> Segment:
        """Read a segment written by `save`; SegmentError names the file and what is wrong with it."""
        path = directory / f"{segment_id}.npz"
        cls.check(directory, segment_id, size)
        try:
            with np.load(path, allow_pickle=False) as npz:
                if int(npz["version"][0]) != FORMAT_VERSION:
                    raise SegmentError(f"{path} has format {int(npz['version'][0])}, this Sleuth reads {FORMAT_VERSION}")
                terms = json.loads(npz["terms"].tobytes().decode())
                segment = cls(segment_id, terms, npz["indptr"], npz["indices"], npz["tf"], npz["lengths"])
        except SegmentError:
            raise
        except FileNotFoundError as exc:
            raise SegmentError(f"{path} is missing") from exc
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise SegmentError(f"{path} is unreadable ({type(exc).__name__}: {exc})") from exc
        n, nnz = len(segment), segment.indices.size
        if (
            len(segment.indptr) != len(terms) + 1
            or segment.indptr[-1] != nnz
            or segment.tf.size != nnz
            or (nnz and (segment.indices.min() < 0 or segment.indices.max() >= n))
            or np.any(np.diff(segment.indptr) < 0)
        ):
            raise SegmentError(f"{path} is inconsistent (terms, postings and chunk lengths disagree)")
        return segment


def new_id() -> str:
    return f"seg-{uuid.uuid4().hex[:16]}"


def merge(segments: Sequence[Segment], lives: Sequence[np.ndarray], segment_id: str | None = None) -> Segment:
    """One segment of the live chunks of `segments`, in order (dead chunks dropped)."""
    vocab: dict[str, int] = {}
    terms_out, chunks_out, counts_out, lengths_out = [], [], [], []
    base = 0
    for segment, live in zip(segments, lives, strict=True):
        local = np.fromiter((vocab.setdefault(t, len(vocab)) for t in segment.terms), dtype=np.int64, count=len(segment.terms))
        new_pos = np.cumsum(live) - 1 + base
        term = np.repeat(np.arange(len(segment.terms)), np.diff(segment.indptr))
        keep = live[segment.indices]
        terms_out.append(local[term[keep]])
        chunks_out.append(new_pos[segment.indices[keep]])
        counts_out.append(segment.tf[keep])
        lengths_out.append(segment.lengths[live])
        base += int(live.sum())
    cat = lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)  # noqa: E731
    return Segment._from_pairs(
        segment_id or new_id(),
        list(vocab),
        cat(terms_out, np.int64),
        cat(chunks_out, np.int64),
        cat(counts_out, np.float32),
        cat(lengths_out, np.int64),
    )


class SegmentedBM25:
    """BM25Okapi over the live chunks of several segments laid end to end (positions are global)."""

    def __init__(
        self,
        segments: Sequence[Segment],
        live: np.ndarray,
        k1: float = 1.5,
        b: float = 0.75,
        *,
        previous: SegmentedBM25 | None = None,
        changed: set[str] | None = None,
    ) -> None:
        """Statistics over the live chunks; with `previous`, reuse its term ids and the live counts of segments not `changed`.

        Instances are never modified after construction, so a search running on an older one stays consistent."""
        self.k1, self.b = float(k1), float(b)
        # Term ids only grow, so sharing the vocabulary with older instances is safe (they ignore ids past their df).
        self.vocab: dict[str, int] = previous.vocab if previous is not None else {}
        self._df_cache: dict[str, np.ndarray] = dict(previous._df_cache) if previous is not None else {}
        self._build(segments, live, changed or set())

    def _build(self, segments: Sequence[Segment], live: np.ndarray, changed: set[str]) -> None:
        self.segments = list(segments)
        self.offsets = list(np.cumsum([0] + [len(s) for s in self.segments])[:-1])
        self.live = np.asarray(live, dtype=bool)
        if self.live.shape != (sum(len(s) for s in self.segments),):
            raise ValueError("live mask must have one entry per chunk of all segments")
        for segment, offset in zip(self.segments, self.offsets):
            if segment.gids.size != len(segment.terms):
                get = self.vocab.setdefault
                segment.gids = np.fromiter(
                    (get(t, len(self.vocab)) for t in segment.terms), dtype=np.int64, count=len(segment.terms)
                )
                segment._order = np.argsort(segment.gids, kind="stable")
            if segment.id not in self._df_cache or segment.id in changed:
                self._df_cache[segment.id] = segment.df(self.live[offset : offset + len(segment)])
        ids = {s.id for s in self.segments}
        self._df_cache = {k: v for k, v in self._df_cache.items() if k in ids}
        df = np.zeros(len(self.vocab), dtype=np.int64)
        for segment in self.segments:
            np.add.at(df, segment.gids, self._df_cache[segment.id])
        self.df = df
        self.num_docs = int(self.live.sum())
        lengths = np.concatenate([s.lengths for s in self.segments]) if self.segments else np.zeros(0, dtype=np.int32)
        self.avgdl = float(lengths[self.live].sum()) / self.num_docs if self.num_docs else 0.0
        present = df[df > 0].astype(np.float64)
        self._mean_idf = float(np.mean(np.log(self.num_docs - present + 0.5) - np.log(present + 0.5))) if present.size else 0.0

    def __len__(self) -> int:
        return self.num_docs

    def idf(self, token: str) -> float | None:
        gid = self.vocab.get(token)
        if gid is None or gid >= self.df.size or self.df[gid] == 0:
            return None
        df = float(self.df[gid])
        idf = float(np.log(self.num_docs - df + 0.5) - np.log(df + 0.5))
        return EPSILON * self._mean_idf if idf < 0 else idf

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk position (dead positions score 0)."""
        out = np.zeros(self.live.size, dtype=np.float64)
        k1, b, avgdl = self.k1, self.b, self.avgdl or 1.0
        for token in query_tokens:
            idf = self.idf(token)
            if idf is None:
                continue
            gid = self.vocab[token]
            for segment, offset in zip(self.segments, self.offsets):
                hit = segment.postings(gid)
                if hit is None:
                    continue
                rows, tf = hit
                tf = tf.astype(np.float64)
                norm = k1 * (1 - b + b * segment.lengths[rows] / avgdl)
                out[offset + rows] += idf * tf * (k1 + 1) / (tf + norm)
        out[~self.live] = 0.0
        return out

    def search(self, query_tokens: list[str], k: int = 10, allowed: np.ndarray | None = None) -> list[Hit]:
        """The k best live chunks with a positive score, best first (ties: lower position); only where `allowed`."""
        return masked_top_k(self.scores(query_tokens), k, allowed)
