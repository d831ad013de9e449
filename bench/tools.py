"""Tool latency benchmark: p50/p95 per tool over a fixed list of realistic agent calls.

Usage: python bench/tools.py [--data-dir DIR] [--rounds N]
DIR holds the FinanceBench filings ingested (and indexed, for `search`): see bench/retrieval.py --build.
Targets on a 2-core machine: grep over the whole corpus p50 < 100 ms, outline and read of a section
< 20 ms, list_documents/glob < 10 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus.catalog import Corpus  # noqa: E402
from corpus.settings import CorpusSettings  # noqa: E402
from tools import REGISTRY, ToolContext  # noqa: E402

CALLS: list[tuple[str, dict]] = [
    ("list_documents", {"company": "3M"}),
    ("list_documents", {"form": "10-K", "year": 2022}),
    ("list_documents", {"query": "pepsico"}),
    ("glob", {"pattern": "**/3M_*10K*"}),
    ("glob", {"pattern": "*2022*"}),
    ("grep", {"pattern": "Purchases of property, plant and equipment"}),
    ("grep", {"pattern": "EBITDA", "case_insensitive": True, "output_mode": "count"}),
    ("grep", {"pattern": r"Total revenues?\b", "glob": "*2022*", "context_lines": 2}),
    ("grep", {"pattern": "cyclical", "doc_ids": ["BOEING_2022_10K"], "context_lines": 1}),
    ("grep", {"pattern": r"effective tax rate", "output_mode": "files_with_matches", "case_insensitive": True}),
    ("outline", {"doc_id": "3M_2018_10K"}),
    ("outline", {"doc_id": "PEPSICO_2022_10K"}),
    ("read", {"doc_id": "3M_2018_10K", "section": "Cash Flows"}),
    ("read", {"doc_id": "PEPSICO_2022_10K", "section": "Note 8"}),
    ("read", {"doc_id": "AMERICANEXPRESS_2022_10K", "section": "Item 7", "max_tokens": 3000}),
    ("read", {"doc_id": "JPMORGAN_2021Q1_10Q", "pages": "18-19"}),
    ("search", {"query": "3M FY2018 capital expenditure"}),
    ("search", {"query": "Pfizer Upjohn spin-off costs", "k": 5}),
]


def pct(values: list[float], p: int) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("SLEUTH_DATA_DIR", "data")))
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    corpus = Corpus.open(CorpusSettings(data_dir=args.data_dir))
    if corpus.count() == 0:
        sys.exit(f"no documents in {args.data_dir}; ingest ../shared/financebench/pdfs first")
    context = ToolContext(corpus)
    times: dict[str, list[float]] = {}
    failures: list[str] = []
    for name, arguments in CALLS:  # warm-up: opens the searcher, loads the embedding model, fills caches
        call = REGISTRY.call(name, arguments, context)
        if not call.ok:
            failures.append(f"{name}({arguments}): {call.text[:160]}")
    for _ in range(args.rounds):
        for name, arguments in CALLS:
            started = time.perf_counter()
            REGISTRY.call(name, arguments, context)
            times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    corpus.close()
    print(f"{len(CALLS)} calls x {args.rounds} rounds over {args.data_dir}")
    print(f"{'tool':16}{'calls':>7}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, values in times.items():
        print(f"{name:16}{len(values):>7}{pct(values, 50):>10.1f}{pct(values, 95):>10.1f}{statistics.fmean(values):>10.1f}")
    for failure in failures:
        print(f"failed: {failure}")


if __name__ == "__main__":
    main()
