"""Weighted RRF against a naive exact-arithmetic reference, hand-computed cases and input checks."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from retrieval.fusion import rrf
from retrieval.hits import Hit


def naive_rrf(rankings, weights=None, k=60, limit=None) -> list[tuple[int, Fraction]]:
    """The definition, score by score: (index, exact score), sorted by (float score, best rank, index).

    Float scores are the exactly rounded sums of the float terms w / (k + rank): the same
    multiset of terms always gives the same score, while sums that only tie in exact
    arithmetic (1/4 + 1/4 and 1/3 + 1/6) may differ in the last bit.
    """
    weights = [1.0] * len(rankings) if weights is None else weights
    docs = {d for ranking, w in zip(rankings, weights) if w > 0 for d in ranking}
    rows = []
    for d in docs:
        terms, best = [], None
        for ranking, w in zip(rankings, weights):
            if w > 0 and d in ranking:
                rank = list(ranking).index(d) + 1
                terms.append((w, k + rank))
                best = rank if best is None else min(best, rank)
        exact = sum((Fraction(w) / denominator for w, denominator in terms), Fraction(0))
        rows.append((-math.fsum(w / denominator for w, denominator in terms), best, d, exact))
    rows.sort()
    return [(d, exact) for _neg, _best, d, exact in rows][:limit]


def random_case(rng: random.Random):
    n_docs = rng.randint(1, 40)
    rankings = [rng.sample(range(n_docs), rng.randint(0, n_docs)) for _ in range(rng.randint(1, 4))]
    weights = None if rng.random() < 0.3 else [rng.choice([0.0, 0.5, 1.0, 1.0, 2.0, rng.random() * 3]) for _ in rankings]
    k = rng.choice([1, 2, 10, 60])
    limit = rng.choice([None, 0, 1, 5, 100])
    return rankings, weights, k, limit


def test_matches_naive_reference_on_random_rankings():
    rng = random.Random(0)
    for _ in range(500):
        rankings, weights, k, limit = random_case(rng)
        got = rrf(rankings, weights, k=k, limit=limit)
        want = naive_rrf(rankings, weights, k=k, limit=limit)
        assert [h.index for h in got] == [d for d, _ in want], (rankings, weights, k, limit)
        assert [h.score for h in got] == pytest.approx([float(s) for _, s in want], rel=1e-12)


def test_hand_computed_scores_and_order():
    hits = rrf([[1, 2, 3], [3, 1]])
    assert [h.index for h in hits] == [1, 3, 2]
    assert hits[0].score == pytest.approx(1 / 61 + 1 / 62)
    assert hits[1].score == pytest.approx(1 / 63 + 1 / 61)
    assert hits[2].score == pytest.approx(1 / 62)
    assert all(isinstance(h, Hit) for h in hits)


def test_weights_scale_each_ranking():
    hits = rrf([[1], [2]], weights=[1.0, 2.0], k=60)
    assert hits == [Hit(2, 2 / 61), Hit(1, 1 / 61)]
    assert [h.index for h in rrf([[1, 2], [2, 1]], weights=[3.0, 1.0])] == [1, 2]


def test_ties_break_by_best_single_rank_then_index():
    # k=1: rank 1 once scores 1/2, and so does rank 3 twice (1/4 + 1/4).
    hits = rrf([[20], [1, 2, 10], [3, 4, 10]], k=1)
    assert [h.index for h in hits] == [1, 3, 20, 10, 2, 4]
    assert {h.score for h in hits[:4]} == {0.5}
    # Equal sums reached in different orders still tie exactly.
    hits = rrf([[7, 8, 9], [8, 9, 7], [9, 7, 8]])
    assert [h.index for h in hits] == [7, 8, 9] and hits[0].score == hits[1].score == hits[2].score


def test_zero_weight_rankings_are_ignored():
    assert rrf([[5, 6], [7]], weights=[0.0, 1.0]) == [Hit(7, 1 / 61)]
    assert rrf([[5, 6]], weights=[0.0]) == []


def test_repeated_index_counts_at_its_first_position():
    assert rrf([[4, 5, 4]]) == [Hit(4, 1 / 61), Hit(5, 1 / 62)]


def test_limit_and_empty_inputs():
    assert [h.index for h in rrf([[1, 2, 3], [3]], limit=2)] == [3, 1]
    assert rrf([[1, 2]], limit=0) == []
    assert rrf([]) == [] and rrf([[], []]) == []


def test_numpy_indices_are_accepted_and_returned_as_int():
    hits = rrf([np.array([3, 1]), [np.int64(1)]])
    assert [h.index for h in hits] == [1, 3] and all(type(h.index) is int for h in hits)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": [1.0]}, "2 rankings"),
        ({"weights": [1.0, -0.5]}, "weight 1 is -0.5"),
        ({"weights": [1.0, float("nan")]}, "finite"),
        ({"weights": [float("inf"), 1.0]}, "finite"),
        ({"k": 0}, "k must be > 0"),
        ({"k": -60}, "k must be > 0"),
        ({"limit": -1}, "limit must be"),
    ],
)
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rrf([[1, 2], [2, 3]], **kwargs)


def test_rejects_non_integer_indices():
    with pytest.raises(TypeError):
        rrf([[1.5, 2]])
