"""The background embedding worker beside search: the worker's chunks/s and search latency, by worker threads.

Usage: python bench/background.py --data-dir DIR [--searched DIR/recall-torch-bf16] [--seconds 60] [--threads 0,1,2]

DIR holds filings ingested and BM25-indexed (`sleuth ingest` with SLEUTH_DATA_DIR=DIR). The worker
(retrieval.background.BackgroundEmbedder, nice 19, as `sleuth serve` starts it) embeds a copy of DIR/index without
its vectors, for --seconds per setting; meanwhile this process runs the dev questions as hybrid searches, the way the
API does (BM25 + dense with the query on int8), over --searched (an index with vectors: bench/embed_recall.py makes
one; default DIR/index). Threads 0 is the baseline: no worker. Prints one row per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from retrieval.background import STATUS_FILE, BackgroundEmbedder  # noqa: E402
from retrieval.embed import Embedder  # noqa: E402
from retrieval.index import HybridIndex  # noqa: E402
from retrieval.searcher import HybridSearcher  # noqa: E402
from retrieval.settings import RetrievalSettings  # noqa: E402


def fresh_copy(source: Path, target: Path) -> None:
    """`source` without vectors: every document pending for the worker."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("embeddings", "write.lock*", "*.lock*", STATUS_FILE))
    manifest = json.loads((target / "manifest.json").read_text())
    for doc in manifest.get("docs", {}).values():
        doc["embedded"] = False
    manifest["dim"] = None
    (target / "manifest.json").write_text(json.dumps(manifest))


def searches(searcher: HybridSearcher, questions: list[str], until: float) -> list[float]:
    """Milliseconds of each search, cycling through the questions until `until` (monotonic)."""
    times: list[float] = []
    i = 0
    while time.monotonic() < until:
        started = time.perf_counter()
        searcher.search(questions[i % len(questions)], k=10)
        times.append((time.perf_counter() - started) * 1e3)
        i += 1
        time.sleep(0.2)  # a user's pace, not a flood
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--searched", type=Path, help="index searched meanwhile (default DIR/index)")
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "financebench" / "questions_dev.jsonl")
    parser.add_argument("--seconds", type=float, default=60.0, help="per setting, after a 15 s warm-up of the worker")
    parser.add_argument("--threads", default="0,1,2", help="worker threads per setting (0: no worker)")
    args = parser.parse_args()
    settings = RetrievalSettings()
    searched = HybridIndex.open(args.searched or args.data_dir / "index", settings)
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    searcher = HybridSearcher(searched, settings, Embedder.from_settings(settings))
    searches(searcher, questions, time.monotonic() + 5)  # warm: int8 model, BM25 segments, vectors
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        target = args.data_dir / "bench-background"
        worker = None
        if threads:
            fresh_copy(args.data_dir / "index", target)
            worker = BackgroundEmbedder(target, settings, threads=threads)
            worker.start()
            time.sleep(15)
        times = searches(searcher, questions, time.monotonic() + args.seconds)
        rate = "-"
        if worker is not None:
            coverage = worker.coverage()
            rate = f"{coverage.rate:.1f}" if coverage and coverage.rate else "?"
            worker.stop()
            shutil.rmtree(target, ignore_errors=True)
        p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
        rows.append([str(threads or "no worker"), rate, str(len(times)), f"{p50:.0f}", f"{p95:.0f}", f"{max(times):.0f}"])
        print(f"  threads {threads}: {rows[-1]}", file=sys.stderr, flush=True)
    header = ["worker threads", "worker chunks/s", "searches", "search p50 ms", "p95 ms", "max ms"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; worker at nice 19, searches at nice 0")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
