"""Exact inner-product search over L2-normalized embedding rows (cosine similarity)."""

from __future__ import annotations

import warnings

import numpy as np

from retrieval.hits import Hit

# Rows per float16 -> float32 block: small enough that a block stays in L2 cache.
FP16_BLOCK_ROWS = 2048
# Below this share of allowed rows, scoring only the gathered rows beats scoring all and masking.
GATHER_SHARE = 0.25


def dense_scores(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """float32 inner product of every row of `matrix` (float16 or float32) with `query`."""
    matrix, query = _check(matrix, query)
    if matrix.dtype == np.float16:
        return _fp16_scores(matrix, query)
    return np.asarray(matrix @ query.astype(matrix.dtype, copy=False), dtype=np.float32)


def dense_search(matrix: np.ndarray, query: np.ndarray, k: int = 10, allowed: np.ndarray | None = None) -> list[Hit]:
    """Top-k rows by inner product with `query`, best first (ties by row index); `allowed` masks rows in."""
    matrix, query = _check(matrix, query)
    n = matrix.shape[0]
    rows: np.ndarray | None = None
    if allowed is not None:
        allowed = np.asarray(allowed)
        if allowed.dtype != np.bool_ or allowed.shape != (n,):
            raise ValueError(f"allowed must be a bool mask of shape ({n},), got {allowed.dtype} {allowed.shape}")
        rows = np.flatnonzero(allowed)
    if k <= 0 or n == 0 or (rows is not None and rows.size == 0):
        return []
    if rows is None:
        scores = dense_scores(matrix, query)
    elif rows.size < GATHER_SHARE * n:
        scores = dense_scores(matrix[rows], query)
    else:
        scores = dense_scores(matrix, query)[rows]
    top = top_k_indices(scores, k)
    positions = top if rows is None else rows[top]
    return [Hit(int(p), float(scores[t])) for p, t in zip(positions, top)]


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, sorted by score desc then index asc (argpartition, then sort only k)."""
    size = scores.shape[0]
    k = min(k, size)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    top = np.arange(size) if k == size else np.argpartition(scores, size - k)[size - k :]
    return top[np.lexsort((top, -scores[top]))]


def _check(matrix: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if matrix.ndim != 2:
        raise ValueError(f"matrix must be 2-D (rows, dim), got shape {matrix.shape}")
    query = np.asarray(query, dtype=np.float32).reshape(-1)
    if query.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"query has {query.shape[0]} dimensions but the index rows have {matrix.shape[1]}; "
            "was the index built with another embedding model? Rebuild it or set SLEUTH_RETRIEVAL_EMBEDDING_MODEL to match"
        )
    return matrix, query


def _fp16_scores(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """float16 rows upcast block by block and accumulated in float32 (numpy has no fast float16 matmul; torch does the upcast well)."""
    out = np.empty(matrix.shape[0], dtype=np.float32)
    try:
        import torch
    except ImportError:
        for start in range(0, matrix.shape[0], FP16_BLOCK_ROWS):
            block = matrix[start : start + FP16_BLOCK_ROWS]
            np.matmul(block.astype(np.float32), query, out=out[start : start + block.shape[0]])
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # read-only (memory-mapped) arrays: torch only reads them
        rows = torch.from_numpy(np.ascontiguousarray(matrix))
        q = torch.from_numpy(query)
    result = torch.from_numpy(out)
    with torch.inference_mode():
        for start in range(0, rows.shape[0], FP16_BLOCK_ROWS):
            block = rows[start : start + FP16_BLOCK_ROWS]
            torch.mv(block.float(), q, out=result[start : start + block.shape[0]])
    return out
