"""The result type every retriever, fusion and reranker returns."""

from __future__ import annotations

from typing import NamedTuple


class Hit(NamedTuple):
    """A scored position: `index` into the chunk list (or passage list, for rerankers); higher score is better."""

    index: int
    score: float
