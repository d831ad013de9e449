"""Retrieval benchmark on FinanceBench: page-level recall and MRR per pipeline, latency, index build cost.

Usage:
  python bench/retrieval.py [--data-dir DIR] [--questions FILE] [--build] [--weights]

DIR must hold the FinanceBench filings ingested and indexed (`sleuth ingest ../shared/financebench/pdfs`
then `sleuth index` with SLEUTH_DATA_DIR=DIR); `--build` does both first (embedding all filings takes
about an hour on a 2-core CPU; it resumes where it stopped). A hit is a returned chunk whose page span
contains an evidence page (evidence pages are zero-indexed in the question file).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus.settings import CorpusSettings  # noqa: E402
from retrieval.filters import Filters  # noqa: E402
from retrieval.index import LocalView  # noqa: E402
from retrieval.searcher import FUSION_WEIGHTS, HybridSearcher, index_dir  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402

CUTOFFS = (1, 5, 10, 20)


def load_questions(path: Path) -> list[dict]:
    questions = []
    for line in path.read_text().splitlines():
        q = json.loads(line)
        q["pages"] = {(e["doc_name"], e["page"] + 1) for e in q["evidence"]}
        questions.append(q)
    return questions


def first_hit(passages, pages: set[tuple[str, int]]) -> int | None:
    """1-based rank of the first passage whose page span holds an evidence page."""
    for rank, p in enumerate(passages, 1):
        if any(doc == p.doc_id and p.start_page <= page <= p.end_page for doc, page in pages):
            return rank
    return None


def evaluate(searcher: HybridSearcher, questions: list[dict], *, own_filing: bool, infer: bool, retrievers, rerank=False):
    ranks, timings = [], []
    for q in questions:
        filters = Filters(doc_ids=[q["doc_name"]]) if own_filing else None
        result = searcher.search(
            q["question"], k=max(CUTOFFS), filters=filters, infer_filters=infer, retrievers=retrievers, rerank=rerank
        )
        ranks.append(first_hit(result.passages, q["pages"]))
        timings.append(result.timings_ms)
    return ranks, timings


def row(name: str, ranks: list[int | None], timings: list[dict]) -> list[str]:
    n = len(ranks)
    recall = [sum(1 for r in ranks if r is not None and r <= c) / n for c in CUTOFFS]
    mrr = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    totals = sorted(t["total"] for t in timings)
    return [name] + [f"{x:.0%}" for x in recall] + [f"{mrr:.3f}", f"{_pct(totals, 50):.1f}", f"{_pct(totals, 95):.1f}"]


def _pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print()


def build(data_dir: Path, pdfs: Path) -> None:
    env = {**os.environ, "SLEUTH_DATA_DIR": str(data_dir)}
    sleuth = str(Path(sys.executable).parent / "sleuth")
    subprocess.run([sleuth, "ingest", "-q", "--no-index", str(pdfs)], env=env, check=False)
    subprocess.run([sleuth, "index"], env=env, check=True)


def index_costs(index: LocalView, searcher: HybridSearcher) -> list[list[str]]:
    """Time to rebuild BM25 from the chunks, and embedding throughput with the projection for all chunks."""
    from retrieval.segments import Segment
    from retrieval.tokenize import tokenize

    positions = [i for i, c in enumerate(index.chunks) if c is not None]
    t = time.perf_counter()
    tokens = [tokenize(index.indexed_text(i)) for i in positions]
    tokenize_s = time.perf_counter() - t
    t = time.perf_counter()
    Segment.build(tokens)  # what a full `sleuth index --rebuild` writes
    build_s = time.perf_counter() - t
    rows = [
        ["chunks", f"{len(index):,} in {len(index.doc_ids)} documents"],
        ["BM25 build (tokenize + index)", f"{tokenize_s + build_s:.1f} s ({tokenize_s:.1f} + {build_s:.1f})"],
    ]
    if searcher.embedder is not None:
        sample = [index.indexed_text(i) for i in positions[:: max(1, len(positions) // 256)]][:256]
        searcher.embedder.encode(sample[:8])  # load the model outside the timing
        t = time.perf_counter()
        searcher.embedder.encode(sample)
        rate = len(sample) / (time.perf_counter() - t)
        rows += [
            [
                "embedding throughput",
                f"{rate:.1f} chunks/s ({searcher.settings.embedding_model}, bf16={searcher.settings.embedding_bf16})",
            ],
            ["projected embedding time, all chunks", f"{len(index) / rate / 60:.1f} min"],
            ["documents embedded", f"{len(index.doc_ids) - len(index.pending())} of {len(index.doc_ids)}"],
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("SLEUTH_DATA_DIR", "data")))
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "financebench" / "questions_dev.jsonl")
    parser.add_argument("--build", action="store_true", help="ingest and index ../shared/financebench/pdfs into --data-dir first")
    parser.add_argument("--weights", action="store_true", help="also compare RRF weights per question kind")
    parser.add_argument("--bm25-only", action="store_true", help="only the BM25 pipelines (an index without embeddings)")
    parser.add_argument(
        "--milvus-url", help="copy the local index of --data-dir (chunks and vectors) into Milvus at this URL and measure there"
    )
    args = parser.parse_args()
    if args.build:
        build(args.data_dir, args.questions.parent / "pdfs")
    corpus_settings = CorpusSettings(data_dir=args.data_dir)
    settings = RetrievalSettings()
    if args.milvus_url:
        sys.path.insert(0, str(REPO / "bench"))
        from scale import to_milvus

        settings = settings.model_copy(
            update={
                "index_url": args.milvus_url,
                "index_collection": "bench_retrieval",
                "index_dir": index_dir(corpus_settings, settings),
            }
        )
        print(f"copied the local index into Milvus at {args.milvus_url} in {to_milvus(args.data_dir, settings):.0f} s")
    try:
        searcher = HybridSearcher.open(corpus_settings, settings)
    except Exception as exc:  # noqa: BLE001 - report and exit
        sys.exit(f"cannot open the index in {index_dir(corpus_settings, settings)}: {exc}\nbuild it with --build")
    questions = load_questions(args.questions)
    index = searcher.view()
    missing = sorted({q["doc_name"] for q in questions} - set(index.docs))
    if missing:
        sys.exit(f"filings of the questions are not indexed: {missing}; use --build")
    dense_ok = index.has_vectors() and not index.pending()
    backend = f"Milvus at {settings.index_url}" if settings.index_url else "local index"
    print(
        f"{backend}: {len(questions)} questions, {len(index.docs)} filings, {len(index):,} chunks; dense over all: {'yes' if dense_ok else 'PARTIAL'}\n"
    )

    header = ["pipeline", *[f"R@{c}" for c in CUTOFFS], "MRR@10", "p50 ms", "p95 ms"]
    configs = [
        ("BM25", False, ("bm25",), False),
        ("dense", False, ("dense",), False),
        ("RRF", False, ("bm25", "dense"), False),
        ("RRF + filters from question", True, ("bm25", "dense"), False),
    ]
    if searcher.reranker is not None:
        configs.append(("RRF + filters + rerank", True, ("bm25", "dense"), True))
    if args.bm25_only or index.matrix() is None:
        configs = [("BM25", False, ("bm25",), False), ("BM25 + filters from question", True, ("bm25",), False)]
        print(
            "dense rows skipped: "
            + ("--bm25-only" if args.bm25_only else "no embeddings in this index (run `sleuth index`)")
            + "\n"
        )
    stage_times: dict[str, list[float]] = {}
    for setting, own in (("all filings", False), ("within the question's filing", True)):
        rows = []
        for name, infer, retrievers, rerank in configs:
            if own and infer:
                continue  # the filing is given: filters from the question add nothing
            ranks, timings = evaluate(searcher, questions, own_filing=own, infer=infer, retrievers=retrievers, rerank=rerank)
            rows.append(row(name, ranks, timings))
            if not own and infer:
                for t in timings:
                    for stage, ms in t.items():
                        stage_times.setdefault(stage, []).append(ms)
        print(f"== {setting}")
        print_table(header, rows)
        if searcher.reranker is None:
            print(
                "+ rerank: n/a, no reranker configured (SLEUTH_RETRIEVAL_RERANK); no cross-encoder weights can be had offline here\n"
            )

    print("== latency per stage, RRF + filters from question (ms)")
    print_table(["stage", "p50", "p95"], [[s, f"{_pct(v, 50):.2f}", f"{_pct(v, 95):.2f}"] for s, v in stage_times.items()])

    if args.weights:
        import retrieval.searcher as searcher_module

        rows = []
        original = dict(FUSION_WEIGHTS)
        for exact in ((1.0, 1.0), (1.0, 0.7), (1.0, 0.5), (0.7, 1.0)):
            for conceptual in ((1.0, 1.0), (0.6, 1.0), (1.0, 0.6)):
                searcher_module.FUSION_WEIGHTS.update({"exact": exact, "conceptual": conceptual})
                ranks, timings = evaluate(searcher, questions, own_filing=False, infer=True, retrievers=("bm25", "dense"))
                rows.append(row(f"exact {exact} / conceptual {conceptual}", ranks, timings))
        searcher_module.FUSION_WEIGHTS.update(original)
        kinds = {}
        from retrieval.query import understand

        for q in questions:
            kinds[understand(q["question"], searcher.matcher).kind] = (
                kinds.get(understand(q["question"], searcher.matcher).kind, 0) + 1
            )
        print(f"== RRF weights (bm25, dense) by question kind, all filings + filters; kinds: {kinds}")
        print_table(header, rows)

    if settings.index_url:
        return
    print("== index")
    print_table(["what", "value"], index_costs(index, searcher))
    live = [c for c in index.chunks if c is not None]
    print(
        f"chunk chars p50 {statistics.median(len(c.text) for c in live):.0f}, chunk tokens p50 {statistics.median(c.tokens for c in live):.0f}"
    )


if __name__ == "__main__":
    main()
