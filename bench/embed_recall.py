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
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

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

# Variants: how documents and queries are embedded. "-128": each chunk's first 128 tokens only (the model's training
# length; about half the arithmetic of 256).
VARIANTS = {
    "torch-fp32": dict(runtime="torch", bf16=False),
    "torch-bf16": dict(runtime="torch", bf16=True),
    "torch-bf16-128": dict(runtime="torch", bf16=True, max_tokens=128),
    "torch-bf16-192": dict(runtime="torch", bf16=True, max_tokens=192),
    "onnx-int8": dict(runtime="onnx-int8"),
}
RUNTIMES = VARIANTS  # the name earlier notes use


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


_WORD = re.compile(r"[A-Za-z][A-Za-z'&.-]*")
_FIGURE = re.compile(r"\(?[$€£]?\d[\d,]*(?:\.\d+)?\)?%?")
FIGURE_TABLE_SHARE = 0.4  # figures among a chunk's words and figures from which it is a table of figures


def is_figure_table(text: str) -> bool:
    """A chunk that is mostly figures (a statement or schedule table): BM25 and `facts` serve those, while a sentence
    embedding of columns of numbers carries little meaning."""
    figures = len(_FIGURE.findall(text))
    words = len(_WORD.findall(text))
    return figures >= 12 and figures >= FIGURE_TABLE_SHARE * (figures + words)


def figure_tables(index: HybridIndex, docs: list[str]) -> dict[str, np.ndarray]:
    """Per document, which chunks are figure tables (is_figure_table): what a "skip tables" index would leave without
    vectors."""
    return {d: np.array([is_figure_table(c.text) for c in index.view().doc_chunks(d)], dtype=bool) for d in docs}


def without_tables(data_dir: Path, name: str, tables: dict[str, np.ndarray], settings: RetrievalSettings) -> HybridIndex:
    """DIR/recall-<name>-notables: the <name> index with figure-table chunks' vectors zeroed (dropped from dense hits)."""
    source, target = data_dir / f"recall-{name}", data_dir / f"recall-{name}-notables"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("write.lock*"))
    index = HybridIndex.open(target, settings)
    for doc_id, mask in tables.items():
        entry = index.manifest.docs[doc_id]
        path = target / "embeddings" / f"{doc_id}.{entry.version}.npy"
        vectors = np.load(path)
        vectors[mask] = 0.0
        np.save(path, vectors)
    return HybridIndex.open(target, settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "financebench" / "questions_dev.jsonl")
    parser.add_argument("--docs", type=int, default=0, help="only the questions of the N smallest filings (0: all)")
    parser.add_argument("--variants", default="torch-fp32,onnx-int8", help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--mixed", action="store_true", help="also the first variant's documents with int8 query vectors")
    parser.add_argument("--no-tables", action="store_true", help="also each variant without figure-table vectors")
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    settings = RetrievalSettings()
    base = HybridIndex.open(args.data_dir / "index", settings)
    questions = [q for q in load_questions(args.questions) if q["doc_name"] in base.manifest.docs]
    sizes = {d: base.doc(d).chunks for d in {q["doc_name"] for q in questions}}
    docs = sorted(sizes, key=lambda d: (sizes[d], d))[: args.docs or None]
    questions = [q for q in questions if q["doc_name"] in docs]
    print(f"# {len(questions)} dev questions over {len(docs)} filings ({sum(sizes[d] for d in docs):,} chunks), own filing only")
    embedders = {name: Embedder(**VARIANTS[name]) for name in names}
    indexes = {name: embedded_index(args.data_dir, name, embedders[name], settings, docs) for name in names}
    configs = [(name, name, name) for name in names]
    if args.mixed and "onnx-int8" not in names:
        embedders["onnx-int8"] = Embedder(**VARIANTS["onnx-int8"])
    if args.mixed:
        configs.append((names[0], "onnx-int8", names[0]))
    if args.no_tables:
        tables = figure_tables(base, docs)
        share = sum(int(m.sum()) for m in tables.values()) / max(1, sum(m.size for m in tables.values()))
        print(f"# figure-table chunks: {share:.1%} of the {sum(m.size for m in tables.values()):,} chunks")
        for name in names:
            indexes[f"{name}-notables"] = without_tables(args.data_dir, name, tables, settings)
            configs.append((f"{name}-notables", name, f"{name} without figure-table vectors"))
    rows = []
    for docs_by, query_by, label in configs:
        query_embedder = embedders[query_by]
        query_embedder.encode_query = lambda text, e=query_embedder: e.encode([text])[0]  # the runtime under test, not auto's
        searcher = HybridSearcher(indexes[docs_by], settings, query_embedder)
        label = f"{label} (queries {query_by})" if query_by != label else label
        for pipeline, retrievers in (("dense", ("dense",)), ("RRF", ("bm25", "dense"))):
            ranks, timings = evaluate(searcher, questions, own_filing=True, infer=True, retrievers=retrievers)
            rows.append(row(f"{pipeline}: {label}", ranks, timings))
    ranks, timings = evaluate(
        HybridSearcher(indexes[names[0]], settings, None), questions, own_filing=True, infer=True, retrievers=("bm25",)
    )
    rows.append(row("BM25 (no embeddings)", ranks, timings))
    print_table(["pipeline", "R@1", "R@5", "R@10", "R@20", "MRR@10", "p50 ms", "p95 ms"], rows)


if __name__ == "__main__":
    main()
