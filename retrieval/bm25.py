"""Okapi BM25 over pre-tokenized chunks, as a precomputed sparse score matrix.

Scores equal rank_bm25.BM25Okapi's (float32 storage aside): idf = ln((N - df + 0.5) /
(df + 0.5)), with a negative idf (a term in more than half the chunks) replaced by
EPSILON times the mean idf of the vocabulary, and term weight idf * tf (k1 + 1) /
(tf + k1 (1 - b + b |d| / avgdl)). A query term given twice counts twice, as there.

Like bm25s, each (term, chunk) weight is computed once at build time into a CSC matrix
(a column per term), so a query only sums the columns of its terms. bm25s itself cannot
reproduce BM25Okapi: its Robertson idf clips negative idf to 0 instead of the epsilon
floor, and its per-chunk Python build loop is slower than the vectorized build here.
"""

from __future__ import annotations

import json
from itertools import chain
from pathlib import Path

import numpy as np

from retrieval.hits import Hit

# rank_bm25's floor for negative idf, as a fraction of the mean idf.
EPSILON = 0.25
FORMAT_VERSION = 1
PARAMS_FILE = "bm25.json"
VOCAB_FILE = "bm25_vocab.json"
MATRIX_FILE = "bm25_matrix.npz"


class BM25Index:
    """A BM25 index of chunks; `search` returns Hits whose `index` is the chunk's position at build time."""

    def __init__(
        self,
        vocab: dict[str, int],
        data: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        num_docs: int,
        k1: float,
        b: float,
        avgdl: float,
    ) -> None:
        self.vocab = vocab
        self.data = data  # float32 weight of each (term, chunk) pair, grouped by term
        self.indices = indices  # int32 chunk of each pair, ascending within a term
        self.indptr = indptr  # int64, pairs of term t are data[indptr[t]:indptr[t + 1]]
        self.num_docs = num_docs
        self.k1 = k1
        self.b = b
        self.avgdl = avgdl

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float = 1.5, b: float = 0.75) -> BM25Index:
        """Index `corpus_tokens` (one token list per chunk, from retrieval.tokenize)."""
        if not k1 >= 0:
            raise ValueError(f"BM25 k1 must be >= 0, got {k1} (1.2-2.0 is usual; SLEUTH_RETRIEVAL_BM25_K1)")
        if not 0 <= b <= 1:
            raise ValueError(f"BM25 b must be between 0 and 1, got {b} (0.75 is usual; SLEUTH_RETRIEVAL_BM25_B)")
        num_docs = len(corpus_tokens)
        lengths = np.fromiter(map(len, corpus_tokens), dtype=np.int64, count=num_docs)
        flat = list(chain.from_iterable(corpus_tokens))
        vocab = {token: i for i, token in enumerate(dict.fromkeys(flat))}
        stride = max(num_docs, 1)
        keys = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
        del flat
        keys *= stride
        keys += np.repeat(np.arange(num_docs, dtype=np.int64), lengths)
        # One in-place sort groups (term, chunk) pairs by term, then chunk: CSC order; run lengths are tf.
        keys.sort()
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if keys.size else keys
        tf = np.diff(np.append(starts, keys.size))
        pairs = keys[starts]
        del keys, starts
        pair_term = pairs // stride
        pair_doc = pairs - pair_term * stride
        df = np.bincount(pair_term, minlength=len(vocab))
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])

        idf = okapi_idf(df, num_docs)
        avgdl = float(lengths.sum()) / num_docs if num_docs else 0.0
        norm = k1 * (1 - b + b * lengths / (avgdl or 1.0))
        tf = tf.astype(np.float64)
        data = (idf[pair_term] * tf * (k1 + 1) / (tf + norm[pair_doc])).astype(np.float32)
        return cls(vocab, data, pair_doc.astype(np.int32), indptr, num_docs, float(k1), float(b), avgdl)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for `query_tokens` (float64, length len(self))."""
        out = np.zeros(self.num_docs, dtype=np.float64)
        vocab, indptr = self.vocab, self.indptr
        for token in query_tokens:
            t = vocab.get(token)
            if t is not None:
                span = slice(indptr[t], indptr[t + 1])
                out[self.indices[span]] += self.data[span]  # a chunk occurs once per term
        return out

    def search(self, query_tokens: list[str], k: int = 10, allowed: np.ndarray | None = None) -> list[Hit]:
        """The k best chunks with a positive score, best first (ties: lower index first); only where `allowed` is True."""
        return masked_top_k(self.scores(query_tokens), k, allowed)

    def save(self, directory: Path) -> None:
        """Write the index as plain files (JSON and an uncompressed npz) into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / MATRIX_FILE, data=self.data, indices=self.indices, indptr=self.indptr)
        tokens = sorted(self.vocab, key=self.vocab.__getitem__)
        (directory / VOCAB_FILE).write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
        params = {
            "format_version": FORMAT_VERSION,
            "num_docs": self.num_docs,
            "k1": self.k1,
            "b": self.b,
            "avgdl": self.avgdl,
            "epsilon": EPSILON,
            "vocab_size": len(tokens),
            "nnz": int(self.data.size),
        }
        (directory / PARAMS_FILE).write_text(json.dumps(params, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        """Read an index written by `save`; FileNotFoundError/ValueError say what is missing or wrong."""
        directory = Path(directory)
        for name in (PARAMS_FILE, VOCAB_FILE, MATRIX_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"no BM25 index in {directory}: {name} is missing; rebuild the index")
        params = json.loads((directory / PARAMS_FILE).read_text(encoding="utf-8"))
        if not isinstance(params, dict):
            raise ValueError(f"BM25 index in {directory}: {PARAMS_FILE} is not a JSON object; rebuild the index")
        if params.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"BM25 index in {directory} has format {params.get('format_version')}, this Sleuth reads {FORMAT_VERSION}; "
                "rebuild the index"
            )
        tokens = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        with np.load(directory / MATRIX_FILE, allow_pickle=False) as npz:
            data, indices, indptr = npz["data"], npz["indices"], npz["indptr"]
        if len(tokens) != params["vocab_size"] or len(indptr) != len(tokens) + 1 or data.size != params["nnz"]:
            raise ValueError(f"BM25 index in {directory} is inconsistent (vocabulary and matrix disagree); rebuild the index")
        vocab = {token: i for i, token in enumerate(tokens)}
        return cls(vocab, data, indices, indptr, params["num_docs"], params["k1"], params["b"], params["avgdl"])

    def __len__(self) -> int:
        return self.num_docs


def okapi_idf(df: np.ndarray, num_docs: int, epsilon: float = EPSILON) -> np.ndarray:
    """rank_bm25's Okapi idf per term: ln((N - df + 0.5) / (df + 0.5)), negatives floored to epsilon * mean idf."""
    df = np.asarray(df, dtype=np.float64)
    idf = np.log(num_docs - df + 0.5) - np.log(df + 0.5)
    if idf.size:
        idf[idf < 0] = epsilon * idf.mean()
    return idf


def masked_top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None) -> list[Hit]:
    """top_k of `scores` (one per chunk position) with positions outside the boolean mask `allowed` left out."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if allowed is not None:
        allowed = np.asarray(allowed)
        if allowed.dtype != np.bool_ or allowed.shape != scores.shape:
            raise ValueError(
                f"allowed must be a boolean mask of shape {scores.shape}, one entry per chunk; "
                f"got dtype {allowed.dtype} and shape {allowed.shape}"
            )
        scores[~allowed] = 0.0
    return top_k(scores, k)


def top_k(scores: np.ndarray, k: int) -> list[Hit]:
    """Hits for the k highest positive scores, best first, ties broken by lower index."""
    candidates = np.flatnonzero(scores > 0)
    if k == 0 or candidates.size == 0:
        return []
    values = scores[candidates]
    if candidates.size > k:
        # Keep everything tied with the k-th best, so tie-breaking below stays by index.
        kth = np.partition(values, candidates.size - k)[candidates.size - k]
        keep = values >= kth
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))[:k]
    return [Hit(int(i), float(s)) for i, s in zip(candidates[order], values[order])]
