"""Ingest benchmark: time to ingest a folder of filings into a fresh data directory.

Usage: python bench/ingest.py [PDF_DIR] [--workers N]
Default PDF_DIR: ../shared/financebench/pdfs beside the checkout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus.catalog import Corpus  # noqa: E402
from corpus.ingest import ingest_paths  # noqa: E402
from corpus.settings import CorpusSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdf_dir", nargs="?", type=Path, default=REPO.parent / "shared" / "financebench" / "pdfs")
    parser.add_argument("--workers", type=int, default=0, help="extraction processes (0: one per core)")
    args = parser.parse_args()
    if not args.pdf_dir.is_dir():
        sys.exit(f"no such folder: {args.pdf_dir}")
    with tempfile.TemporaryDirectory(prefix="sleuth-bench-") as tmp:
        settings = CorpusSettings(data_dir=Path(tmp), ingest_workers=args.workers)
        corpus = Corpus.open(settings)
        start = time.perf_counter()
        first = ingest_paths(corpus, [args.pdf_dir], progress=sys.stderr.isatty())
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        second = ingest_paths(corpus, [args.pdf_dir])
        second_s = time.perf_counter() - start
        docs = corpus.list()
        sections = sum(len(corpus.sections(d.id)) for d in docs)
        text_mb = sum(p.stat().st_size for p in settings.text_dir.glob("*.txt")) / 1e6
        corpus.close()
    per_doc = sorted(r.seconds for r in first.results if r.status == "added")
    rows = [
        ("documents added", f"{first.counts['added']}"),
        ("failed", f"{first.counts['failed']}"),
        ("pages", f"{first.pages:,}"),
        ("workers", f"{settings.workers}"),
        ("total time (s)", f"{first_s:.1f}"),
        ("pages/s (end to end)", f"{first.pages / first_s:,.0f}"),
        (
            "per-document analyse p50 / p95 (s)",
            f"{statistics.median(per_doc):.2f} / {per_doc[int(0.95 * (len(per_doc) - 1))]:.2f}" if per_doc else "-",
        ),
        ("sections in catalog", f"{sections:,}"),
        ("text store (MB)", f"{text_mb:.1f}"),
        ("re-ingest, all unchanged (s)", f"{second_s:.1f} ({second.counts['unchanged']} unchanged)"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  value")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
