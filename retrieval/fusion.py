"""Weighted Reciprocal Rank Fusion (Cormack et al., 2009) of ranked index lists."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

from retrieval.hits import Hit


def rrf(
    rankings: Sequence[Sequence[int]],
    weights: Sequence[float] | None = None,
    k: int = 60,
    limit: int | None = None,
) -> list[Hit]:
    """Fuse rankings (best first) by score(d) = sum_i w_i / (k + rank_i(d)), ranks 1-based; best first.

    Ties go to the better single rank, then the lower index. An index repeated within one
    ranking counts at its first position only; a ranking with weight 0 is ignored.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    elif len(weights) != len(rankings):
        raise ValueError(f"rrf got {len(weights)} weights for {len(rankings)} rankings; give one weight per ranking or none")
    for i, w in enumerate(weights):
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"rrf weight {i} is {w}; weights must be finite and >= 0")
    if not (math.isfinite(k) and k > 0):
        raise ValueError(f"rrf k must be > 0, got {k} (60 is the usual value; SLEUTH_RETRIEVAL_RRF_K)")
    if limit is not None and limit < 0:
        raise ValueError(f"rrf limit must be >= 0 or None, got {limit}")

    terms: dict[int, list[float]] = {}
    best_rank: dict[int, int] = {}
    for ranking, w in zip(rankings, weights):
        if w == 0:
            continue
        seen: set[int] = set()
        for rank, index in enumerate(ranking, start=1):
            index = operator.index(index)  # numpy ints are fine; floats are a caller bug
            if index in seen:
                continue
            seen.add(index)
            terms.setdefault(index, []).append(w / (k + rank))
            if rank < best_rank.get(index, rank + 1):
                best_rank[index] = rank
    # fsum is exactly rounded, so equal fused scores compare equal whatever the summation order.
    fused = sorted(((math.fsum(t), best_rank[i], i) for i, t in terms.items()), key=lambda f: (-f[0], f[1], f[2]))
    if limit is not None:
        fused = fused[:limit]
    return [Hit(index, score) for score, _rank, index in fused]
