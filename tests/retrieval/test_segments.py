"""Segmented BM25 scores exactly as rank_bm25's BM25Okapi over the live chunks, across segments, deletes and merges."""

from __future__ import annotations

import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval.segments import Segment, SegmentedBM25, SegmentError, merge

WORDS = "revenue capital lease cost cash flow income tax debt 1577 2018 10-k asset goodwill note segment".split()


def corpus(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(WORDS[: rng.randint(3, len(WORDS))]) for _ in range(rng.randint(1, 30))] for _ in range(n)]


def reference(chunks: list[list[str]], query: list[str]) -> np.ndarray:
    return BM25Okapi(chunks).get_scores(query)


def test_scores_equal_rank_bm25_over_several_segments():
    parts = [corpus(40, 1), corpus(7, 2), corpus(25, 3)]
    index = SegmentedBM25([Segment.build(p) for p in parts], np.ones(72, dtype=bool))
    everything = [c for p in parts for c in p]
    for query in (["revenue", "lease"], ["1577", "1577", "goodwill"], ["nothing"], WORDS):
        np.testing.assert_allclose(index.scores(query), reference(everything, query), rtol=1e-9, atol=1e-12)
    assert len(index) == 72


def test_dead_chunks_are_left_out_of_scores_and_statistics():
    parts = [corpus(30, 4), corpus(20, 5)]
    live = np.ones(50, dtype=bool)
    live[5:12] = False  # a replaced document
    live[40:] = False
    index = SegmentedBM25([Segment.build(p) for p in parts], live)
    everything = [c for p in parts for c in p]
    kept = [c for c, alive in zip(everything, live) if alive]
    query = ["capital", "debt", "note"]
    np.testing.assert_allclose(index.scores(query)[live], reference(kept, query), rtol=1e-9, atol=1e-12)
    assert not index.scores(query)[~live].any()
    hits = index.search(query, 5)
    assert hits and all(live[h.index] for h in hits)


def test_merge_keeps_live_chunks_in_order_and_their_scores(tmp_path):
    parts = [corpus(15, 6), corpus(9, 7), corpus(12, 8)]
    segments = [Segment.build(p) for p in parts]
    lives = [np.ones(15, dtype=bool), np.array([i % 2 == 0 for i in range(9)]), np.ones(12, dtype=bool)]
    merged = merge(segments, lives)
    assert len(merged) == 15 + 5 + 12
    before = SegmentedBM25(segments, np.concatenate(lives))
    after = SegmentedBM25([merged], np.ones(len(merged), dtype=bool))
    query = ["lease", "cost", "2018"]
    np.testing.assert_allclose(after.scores(query), before.scores(query)[np.concatenate(lives)], rtol=1e-9)
    size = merged.save(tmp_path)
    loaded = Segment.load(tmp_path, merged.id, size)
    np.testing.assert_array_equal(loaded.tf, merged.tf)


def test_a_damaged_segment_file_is_named(tmp_path):
    segment = Segment.build(corpus(5, 9))
    size = segment.save(tmp_path)
    path = tmp_path / f"{segment.id}.npz"
    path.write_bytes(path.read_bytes()[: size // 2])
    with pytest.raises(SegmentError, match=segment.id):
        Segment.load(tmp_path, segment.id, size)
    with pytest.raises(SegmentError, match="missing"):
        Segment.load(tmp_path, "seg-nowhere")
