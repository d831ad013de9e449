"""Exact dense search against a naive reference: every row scored in Python, sorted by (-score, index)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.dense import dense_scores, dense_search, top_k_indices
from retrieval.hits import Hit


def _unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def naive(matrix: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    scored = [
        (i, sum(float(a) * float(b) for a, b in zip(row, query)))
        for i, row in enumerate(matrix.astype(np.float64))
        if allowed is None or allowed[i]
    ]
    return sorted(scored, key=lambda t: (-t[1], t[0]))[:k]


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("k", [1, 5, 50, 500])
def test_matches_naive_reference(dtype, k):
    matrix = _unit_rows(300, 24).astype(dtype)
    query = _unit_rows(1, 24, seed=1)[0]
    hits = dense_search(matrix, query, k=k)
    expected = naive(matrix, query, k)
    assert [h.index for h in hits] == [i for i, _ in expected]
    assert np.allclose([h.score for h in hits], [s for _, s in expected], atol=1e-5)
    assert all(isinstance(h, Hit) and isinstance(h.index, int) and isinstance(h.score, float) for h in hits)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("share", [0.0, 0.02, 0.5, 1.0])
def test_allowed_mask_matches_naive(dtype, share):
    matrix = _unit_rows(400, 16, seed=2).astype(dtype)
    query = _unit_rows(1, 16, seed=3)[0]
    allowed = np.random.default_rng(4).random(400) < share
    hits = dense_search(matrix, query, k=7, allowed=allowed)
    expected = naive(matrix, query, 7, allowed)
    assert [h.index for h in hits] == [i for i, _ in expected]
    assert all(allowed[h.index] for h in hits)


def test_self_is_top_hit_and_scores_sorted():
    matrix = _unit_rows(1000, 32)
    hits = dense_search(matrix, matrix[417], k=10)
    assert hits[0].index == 417 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_float16_scores_are_float32_and_close():
    matrix = _unit_rows(5000, 64)  # several fp16 blocks
    query = matrix[3]
    half = matrix.astype(np.float16)
    half.setflags(write=False)  # as a memory-mapped index would be
    scores = dense_scores(half, query)
    assert scores.dtype == np.float32 and scores.shape == (5000,)
    assert np.allclose(scores, half.astype(np.float64) @ query, atol=1e-5)


def test_ties_break_by_row_index():
    matrix = np.ones((6, 4), dtype=np.float32) / 2
    assert [h.index for h in dense_search(matrix, matrix[0], k=6)] == [0, 1, 2, 3, 4, 5]
    assert list(top_k_indices(np.array([1.0, 2.0, 2.0, 0.5]), 2)) == [1, 2]


def test_edge_cases():
    matrix = _unit_rows(5, 8)
    assert dense_search(matrix, matrix[0], k=0) == []
    assert len(dense_search(matrix, matrix[0], k=99)) == 5
    assert dense_search(matrix, matrix[0], allowed=np.zeros(5, dtype=bool)) == []
    assert dense_search(np.empty((0, 8), dtype=np.float32), matrix[0]) == []
    assert dense_search(matrix, matrix[0][None, :], k=1)[0].index == 0  # (1, dim) queries are accepted


def test_bad_inputs_say_what_is_wrong():
    matrix = _unit_rows(5, 8)
    with pytest.raises(ValueError, match="8.*dimensions|dimensions.*8"):
        dense_search(matrix, np.ones(4, dtype=np.float32))
    with pytest.raises(ValueError, match="bool mask"):
        dense_search(matrix, matrix[0], allowed=np.ones(5, dtype=int))
    with pytest.raises(ValueError, match="bool mask"):
        dense_search(matrix, matrix[0], allowed=np.ones(4, dtype=bool))
    with pytest.raises(ValueError, match="2-D"):
        dense_search(matrix[0], matrix[0])
