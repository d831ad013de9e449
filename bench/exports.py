"""Export benchmark: seconds to write each format of an answer and of a report, in this process (no server, no catalog).

Usage: python bench/exports.py [--repeat N] [--sections N] [--paragraphs N]

The runs are the hand-built fixtures of the export tests (tests/api/export_samples.py): a cited answer with a chart, and
a report memo with --sections sections of --paragraphs paragraphs each (figures, a table, a failed section). Times are
the median of --repeat writes after one warm-up write (which pays for imports and, for PDF, font loading).
Appended page images are not timed: their cost is the page renderer's (one render per page, cached).
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

from api.exports import build, content_of  # noqa: E402
from tests.api.export_samples import answer_run, report_run  # noqa: E402

FORMATS = ("md", "docx", "pdf", "xlsx")


def timed(fmt: str, content, folder: Path, repeat: int) -> tuple[float, int]:
    build(fmt, content, None, folder)  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        path = build(fmt, content, None, folder)
        times.append(time.perf_counter() - start)
    return statistics.median(times), path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sections", type=int, default=6)
    parser.add_argument("--paragraphs", type=int, default=6)
    args = parser.parse_args()
    runs = {
        "answer": answer_run(),
        f"report ({args.sections}x{args.paragraphs})": report_run(sections=args.sections, paragraphs=args.paragraphs),
    }
    print("| run | notes | figures | " + " | ".join(f"{f} s (bytes)" for f in FORMATS) + " | content s |")
    print("|---|---:|---:|" + "---:|" * (len(FORMATS) + 1))
    with tempfile.TemporaryDirectory() as folder:
        for name, run in runs.items():
            start = time.perf_counter()
            content = content_of(run, base_url="http://127.0.0.1:8000")
            built = time.perf_counter() - start
            cells = []
            for fmt in FORMATS:
                seconds, size = timed(fmt, content, Path(folder), args.repeat)
                cells.append(f"{seconds:.3f} ({size:,})")
            print(f"| {name} | {len(content.notes)} | {len(content.figures)} | " + " | ".join(cells) + f" | {built:.3f} |")


if __name__ == "__main__":
    main()
