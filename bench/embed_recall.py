"""Recall of the embedding runtimes on the dev questions: dense and RRF page recall within each question's own filing.

Usage: python bench/embed_recall.py --data-dir DIR [--docs N]

DIR holds filings ingested and BM25-indexed (`sleuth ingest` with SLEUTH_DATA_DIR=DIR). For each runtime the
index in DIR/index is copied to DIR/recall-<runtime>/ once and the questions' filings are embedded there
(resumable: what is embedded stays). --docs N keeps the questions of the N smallest filings (embedding all 32 dev
filings takes long on a busy 2-core machine). Rows: each runtime with its own query vectors, and the fp32 index
searched with int8 query vectors (what `auto` does on an AMX CPU: documents in torch, queries on int8).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from retrieval.embed import Embedder  # noqa: E402
from retrieval.index import HybridIndex  # noqa: E402
from retrieval.searcher import HybridSearcher  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402


def _retrieval_bench():  # noqa: ANN202 - bench/retrieval.py's harness (its file name is the package's, so load it by path)
    import importlib.util

    spec = importlib.util.spec_from_file_location("retrieval_bench", REPO / "bench" / "retrieval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_bench = _retrieval_bench()
evaluate, load_questions, print_table, row = _bench.evaluate, _bench.load_questions, _bench.print_table, _bench.row

RUNTIMES = {"torch-fp32": dict(runtime="torch", bf16=False), "onnx-int8": dict(runtime="onnx-int8")}


def embedded_index(data_dir: Path, name: str, embedder: Embedder, settings: RetrievalSettings, docs: list[str]) -> HybridIndex:
    """DIR/recall-<name>: a copy of DIR/index with `docs` embedded by `embedder` (reused when already there)."""
    target = data_dir / f"recall-{name}"
    if not target.exists():
        shutil.copytree(data_dir / "index", target, ignore=shutil.ignore_patterns("embeddings", "write.lock*"))
    index = HybridIndex.open(target, settings, create=True)
    todo = [d for d in docs if d in index.pending()]
    if todo:
        started = time.perf_counter()
        chunks = sum(index.doc(d).chunks for d in todo)
        index.embed(
            embedder.encode,
            embedder.dim,
            doc_ids=todo,
            on_doc=lambda d, n, of: print(f"  {name}: {n}/{of} {d}", file=sys.stderr, flush=True),
        )
        seconds = time.perf_counter() - started
        print(
            f"{name}: embedded {chunks:,} chunks of {len(todo)} filings in {seconds:.0f} s ({chunks / seconds:.1f} chunks/s, "
            f"load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return HybridIndex.open(target, settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "financebench" / "questions_dev.jsonl")
    parser.add_argument("--docs", type=int, default=0, help="only the questions of the N smallest filings (0: all)")
    args = parser.parse_args()
    settings = RetrievalSettings()
    base = HybridIndex.open(args.data_dir / "index", settings)
    questions = [q for q in load_questions(args.questions) if q["doc_name"] in base.manifest.docs]
    sizes = {d: base.doc(d).chunks for d in {q["doc_name"] for q in questions}}
    docs = sorted(sizes, key=lambda d: (sizes[d], d))[: args.docs or None]
    questions = [q for q in questions if q["doc_name"] in docs]
    print(f"# {len(questions)} dev questions over {len(docs)} filings ({sum(sizes[d] for d in docs):,} chunks), own filing only")
    embedders = {name: Embedder(**kw) for name, kw in RUNTIMES.items()}
    indexes = {name: embedded_index(args.data_dir, name, embedders[name], settings, docs) for name in RUNTIMES}
    configs = [("torch-fp32", "torch-fp32"), ("onnx-int8", "onnx-int8"), ("torch-fp32", "onnx-int8")]
    rows = []
    for docs_by, query_by in configs:
        query_embedder = embedders[query_by]
        query_embedder.encode_query = lambda text, e=query_embedder: e.encode([text])[0]  # the runtime under test, not auto's
        searcher = HybridSearcher(indexes[docs_by], settings, query_embedder)
        label = f"documents {docs_by}, queries {query_by}"
        for pipeline, retrievers in (("dense", ("dense",)), ("RRF", ("bm25", "dense"))):
            ranks, timings = evaluate(searcher, questions, own_filing=True, infer=True, retrievers=retrievers)
            rows.append(row(f"{pipeline}: {label}", ranks, timings))
    ranks, timings = evaluate(
        HybridSearcher(indexes["torch-fp32"], settings, None), questions, own_filing=True, infer=True, retrievers=("bm25",)
    )
    rows.append(row("BM25 (no embeddings)", ranks, timings))
    print_table(["pipeline", "R@1", "R@5", "R@10", "R@20", "MRR@10", "p50 ms", "p95 ms"], rows)


if __name__ == "__main__":
    main()
