"""BM25Index against rank_bm25.BM25Okapi (the naive reference), masks, ties, save/load."""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval.bm25 import BM25Index, okapi_idf
from retrieval.hits import Hit
from retrieval.tokenize import tokenize

COMMON = ["revenue", "million", "net", "total"]  # in most documents: negative Okapi idf, floored


def synthetic_corpus(n_docs: int = 300, seed: int = 0) -> list[list[str]]:
    """Zipf-like vocabulary plus a few terms in most documents, with varied lengths (some empty)."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)]
    zipf = [1 / (i + 1) for i in range(len(vocab))]
    docs = []
    for d in range(n_docs):
        length = 0 if d % 97 == 0 else rng.randint(5, 120)
        doc = rng.choices(vocab, weights=zipf, k=length)
        doc += [w for w in COMMON if rng.random() < 0.7]
        rng.shuffle(doc)
        docs.append(doc)
    return docs


def queries(seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)] + COMMON + ["unseen"]
    return [rng.sample(vocab, rng.randint(1, 10)) for _ in range(60)] + [["w3", "w3", "net"], COMMON]


def reference_top(scores: np.ndarray, k: int) -> list[int]:
    """rank_bm25 has no search: positive scores, best first, lower index on ties."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    return [int(i) for i in order[:k] if scores[i] > 0]


def assert_same_top(index: BM25Index, reference: BM25Okapi, query: list[str], k: int = 10) -> None:
    expected = reference.get_scores(query)
    ours = index.scores(query)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    hits = index.search(query, k)
    want = reference_top(expected, k)
    # Ties aside (float32 storage can reorder near-equal scores): same scores, rank by rank ...
    np.testing.assert_allclose([expected[h.index] for h in hits], [expected[i] for i in want], rtol=1e-5)
    # ... and the same documents wherever the reference has no near-tie.
    for pos, (hit, i) in enumerate(zip(hits, want, strict=True)):
        neighbours = [expected[j] for j in want[max(pos - 1, 0) : pos + 2] if j != i]
        if all(abs(expected[i] - s) > 1e-4 * abs(expected[i]) for s in neighbours):
            assert hit.index == i, (query, pos)


def test_matches_rank_bm25_on_synthetic_corpus():
    corpus = synthetic_corpus()
    index, reference = BM25Index.build(corpus), BM25Okapi(corpus)
    for query in queries():
        assert_same_top(index, reference, query)


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (2.0, 0.3), (0.9, 0.0), (1.5, 1.0)])
def test_matches_rank_bm25_for_other_parameters(k1, b):
    corpus = synthetic_corpus(seed=k1 * 10 + b)
    index, reference = BM25Index.build(corpus, k1=k1, b=b), BM25Okapi(corpus, k1=k1, b=b)
    for query in queries(seed=2)[:20]:
        assert_same_top(index, reference, query)


def test_idf_floor_is_rank_bm25s():
    corpus = synthetic_corpus()
    reference = BM25Okapi(corpus)
    index = BM25Index.build(corpus)
    df = np.diff(index.indptr)
    idf = okapi_idf(df, len(corpus))
    for token, t in index.vocab.items():
        assert idf[t] == pytest.approx(reference.idf[token], rel=1e-12), token
    assert all(idf[index.vocab[w]] > 0 for w in COMMON)  # floored, not clipped to 0 as bm25s does


@pytest.mark.financebench
def test_matches_rank_bm25_on_real_filing_paragraphs(filing_text):
    text = filing_text("3M_2018_10K").text
    lines = text.split("\n")
    windows = ("\n".join(lines[i : i + 6]) for i in range(0, len(lines), 6))  # row-per-line text has few blank lines
    paragraphs = [p for p in windows if len(p.split()) >= 8][:400]
    assert len(paragraphs) >= 200
    corpus = [tokenize(p) for p in paragraphs]
    index, reference = BM25Index.build(corpus), BM25Okapi(corpus)
    for question in (
        "What is the FY2018 capital expenditure amount (in USD millions) for 3M?",
        "goodwill impairment testing reporting units",
        "Venezuela foreign currency translation highly inflationary",
        "net sales by business segment 2018 2017",
        "long-term debt maturities",
        "income tax rate 2018 U.S. Tax Cuts and Jobs Act",
        "Form 10-K Item 7A market risk",
        "pension and postretirement benefit plans",
        "dividends paid per share",
        "litigation respirator mask asbestos",
    ):
        assert_same_top(index, reference, tokenize(question))


def test_agrees_with_bm25s_where_no_idf_is_negative():
    """bm25s (ATIRE term weight, Robertson idf) scores the same once no term is in over half the documents."""
    import bm25s

    corpus = [doc for doc in synthetic_corpus() if doc]
    df = Counter(w for doc in corpus for w in set(doc))
    corpus = [[w for w in doc if 2 * df[w] < len(corpus)] or ["w399"] for doc in corpus]
    retriever = bm25s.BM25(method="atire", idf_method="robertson", k1=1.5, b=0.75)
    retriever.index(corpus, show_progress=False)
    index = BM25Index.build(corpus)
    assert (okapi_idf(np.diff(index.indptr), len(corpus)) >= 0).all()
    for query in queries()[:20]:
        query = [w for w in query if w in index.vocab]
        if query:
            np.testing.assert_allclose(index.scores(query), retriever.get_scores(query), rtol=1e-5, atol=1e-6)


def test_search_returns_hits_best_first_and_only_positive_scores():
    # (a term in exactly half the documents has idf 0 and scores nothing, as in rank_bm25)
    index = BM25Index.build([["cash", "flow"], ["cash"], ["debt"], [], ["equity"]])
    hits = index.search(["cash", "flow"], k=10)
    assert [h.index for h in hits] == [0, 1]
    assert all(isinstance(h, Hit) and isinstance(h.index, int) and isinstance(h.score, float) for h in hits)
    assert hits[0].score > hits[1].score > 0
    assert index.search(["unseen"]) == [] and index.search([]) == []
    assert index.search(["cash"], k=0) == []
    with pytest.raises(ValueError, match="k must be"):
        index.search(["cash"], k=-1)


def test_repeated_query_terms_count_twice_as_in_rank_bm25():
    corpus = synthetic_corpus(50)
    index, reference = BM25Index.build(corpus), BM25Okapi(corpus)
    np.testing.assert_allclose(index.scores(["w5", "w5"]), 2 * index.scores(["w5"]))
    np.testing.assert_allclose(index.scores(["w5", "w5", "w9"]), reference.get_scores(["w5", "w5", "w9"]), rtol=1e-5)


def test_ties_go_to_the_lower_index_and_k_cuts_inside_a_tie():
    index = BM25Index.build([["other"], ["ebitda"], ["noise"], ["ebitda"], ["ebitda"], ["more"], ["x"], ["y"]] * 2)
    assert [h.index for h in index.search(["ebitda"], k=4)] == [1, 3, 4, 9]
    assert [h.index for h in index.search(["ebitda"], k=10)] == [1, 3, 4, 9, 11, 12]


def test_allowed_mask_restricts_hits():
    corpus = synthetic_corpus()
    index = BM25Index.build(corpus)
    rng = np.random.default_rng(0)
    allowed = rng.random(len(corpus)) < 0.3
    for query in queries()[:30]:
        hits = index.search(query, k=10, allowed=allowed)
        assert all(allowed[h.index] for h in hits)
        full = index.scores(query)
        expected = reference_top(np.where(allowed, full, 0.0), 10)
        assert [h.index for h in hits] == expected
    assert index.search(["w1"], allowed=np.zeros(len(corpus), dtype=bool)) == []
    assert index.search(["w1"], allowed=np.ones(len(corpus), dtype=bool)) == index.search(["w1"])


@pytest.mark.parametrize("bad", [np.ones(3, dtype=bool), np.ones(300, dtype=int), np.ones((300, 1), dtype=bool)])
def test_allowed_mask_must_be_a_boolean_per_document(bad):
    index = BM25Index.build(synthetic_corpus())
    with pytest.raises(ValueError, match="boolean mask of shape"):
        index.search(["w1"], allowed=bad)


def test_save_and_load_round_trip(tmp_path):
    corpus = synthetic_corpus() + [["10-k", "café", "1577"]]
    index = BM25Index.build(corpus, k1=1.2, b=0.6)
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert len(loaded) == len(index) == len(corpus)
    assert loaded.vocab == index.vocab and (loaded.k1, loaded.b, loaded.avgdl) == (index.k1, index.b, index.avgdl)
    for query in queries() + [["café", "10-k"]]:
        assert np.array_equal(loaded.scores(query), index.scores(query))
        assert loaded.search(query) == index.search(query)
    # Plain files: JSON and an npz of numeric arrays that loads without pickle.
    files = sorted(p.name for p in (tmp_path / "bm25").iterdir())
    assert files == ["bm25.json", "bm25_matrix.npz", "bm25_vocab.json"]
    assert json.loads((tmp_path / "bm25" / "bm25.json").read_text())["num_docs"] == len(corpus)
    with np.load(tmp_path / "bm25" / "bm25_matrix.npz", allow_pickle=False) as npz:
        assert {npz[name].dtype.kind for name in npz.files} <= {"f", "i"}


def test_load_reports_a_missing_or_damaged_index(tmp_path):
    with pytest.raises(FileNotFoundError, match="no BM25 index"):
        BM25Index.load(tmp_path / "nowhere")
    BM25Index.build([["a1"], ["b2"]]).save(tmp_path / "bm25")
    (tmp_path / "bm25" / "bm25_vocab.json").write_text('["a1"]')
    with pytest.raises(ValueError, match="inconsistent"):
        BM25Index.load(tmp_path / "bm25")
    (tmp_path / "bm25" / "bm25.json").write_text("garbage")
    with pytest.raises(ValueError):
        BM25Index.load(tmp_path / "bm25")


def test_empty_corpus_and_empty_documents():
    empty = BM25Index.build([])
    assert len(empty) == 0 and empty.search(["cash"]) == [] and empty.scores(["cash"]).shape == (0,)
    blank = BM25Index.build([[], []])
    assert len(blank) == 2 and blank.search(["cash"]) == []


def test_empty_index_round_trips(tmp_path):
    BM25Index.build([]).save(tmp_path)
    assert len(BM25Index.load(tmp_path)) == 0


@pytest.mark.parametrize(("k1", "b"), [(-0.1, 0.75), (1.5, 1.5), (1.5, -0.1), (float("nan"), 0.75)])
def test_rejects_bad_parameters(k1, b):
    with pytest.raises(ValueError, match="BM25"):
        BM25Index.build([["a"]], k1=k1, b=b)
