"""Time compare_sections on real filing pairs: paragraphs on each side, what changed, and seconds per call.

Usage: python bench/redline.py [pdf_dir] [--data-dir DIR] [--repeat N]
pdf_dir defaults to ../shared/financebench/pdfs beside the checkout; the filings are ingested into --data-dir
(a temporary directory by default; an existing one is reused, unchanged files are skipped).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from corpus.catalog import Corpus  # noqa: E402
from corpus.ingest import ingest_paths  # noqa: E402
from corpus.settings import CorpusSettings  # noqa: E402
from tools.context import ToolContext, use_context  # noqa: E402
from tools.redline import redline  # noqa: E402

PAIRS = (
    ("PEPSICO_2021_10K", "PEPSICO_2022_10K", "Item 1A"),
    ("PEPSICO_2021_10K", "PEPSICO_2022_10K", "Income Taxes"),
    ("PEPSICO_2021_10K", "PEPSICO_2022_10K", "Item 7"),
    ("3M_2018_10K", "3M_2019_10K", "Item 1A"),
    ("3M_2018_10K", "3M_2019_10K", "Revenue"),
    ("3M_2018_10K", "3M_2022_10K", "Item 7"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf_dir", nargs="?", default=str(REPO_ROOT.parent / "shared" / "financebench" / "pdfs"))
    parser.add_argument("--data-dir", type=Path, default=None, help="where the filings are ingested (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=3, help="calls per pair; the median is shown")
    args = parser.parse_args(argv)
    names = sorted({n for a, b, _ in PAIRS for n in (a, b)})
    files = [Path(args.pdf_dir) / f"{n}.pdf" for n in names]
    if missing := [f for f in files if not f.is_file()]:
        print(f"missing filings: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="sleuth-redline-"))
    corpus = Corpus.open(CorpusSettings(data_dir=data_dir, ingest_workers=1))
    try:
        started = time.perf_counter()
        report = ingest_paths(corpus, files, workers=2)
        print(f"ingest: {report.summary()} ({time.perf_counter() - started:.1f} s, not timed below)")
        print("| A | B | section | paragraphs A / B | unchanged | added | removed | changed | first call s | median s |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for a, b, section in PAIRS:
            context = ToolContext(corpus)  # fresh: the first call reads the texts and finds their furniture
            times = []
            with use_context(context):
                for _ in range(max(1, args.repeat)):
                    t0 = time.perf_counter()
                    r = redline(a, b, section)
                    times.append(time.perf_counter() - t0)
            c = r.counts
            print(
                f"| {a} | {b} | {r.b.key} | {r.a.paragraphs} / {r.b.paragraphs} | {r.unchanged} | {c['added']} | "
                f"{c['removed']} | {c['changed']} | {times[0]:.2f} | {statistics.median(times):.2f} |"
            )
    finally:
        corpus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
