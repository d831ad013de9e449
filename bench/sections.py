"""Benchmark section and cross-reference detection over a folder of filings.

Usage: python bench/sections.py [pdf_dir] [--workers N] [--verbose]
pdf_dir defaults to ../shared/financebench/pdfs beside the checkout; file names follow
{COMPANY}_{PERIOD}_{TYPE}.pdf, and the type (10K, 10Q, 8K, EARNINGS) sets the form.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from corpus.extract import extract  # noqa: E402
from corpus.sections import STATEMENT_KEYS, Section, detect_sections, iter_sections  # noqa: E402
from corpus.text import PagedText  # noqa: E402
from corpus.xrefs import find_cross_references  # noqa: E402

KEY_ITEMS_10K = ("Item 1A", "Item 7", "Item 8")
KEY_ITEMS_10Q = ("Part I Item 2", "Part II Item 1A")


def form_of(name: str) -> str:
    """Form type from a FinanceBench file name."""
    upper = name.upper()
    if "_10K" in upper:
        return "10-K"
    if "_10Q" in upper:
        return "10-Q"
    if "_8K" in upper:
        return "8-K"
    if "EARNINGS" in upper:
        return "earnings release"
    return "annual report" if "ANNUALREPORT" in upper else "other"


def _pages(path: str) -> tuple[str, list[str] | None, str]:
    try:
        return path, extract(Path(path)).pages, ""
    except Exception as exc:  # a bench reports unreadable files and goes on
        return path, None, str(exc)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "  n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf_dir", nargs="?", default=str(REPO_ROOT.parent / "shared" / "financebench" / "pdfs"))
    parser.add_argument("--workers", type=int, default=8, help="processes for PDF text extraction (not timed)")
    parser.add_argument("--verbose", action="store_true", help="list the filings that miss key items")
    args = parser.parse_args(argv)

    pdf_dir = Path(args.pdf_dir)
    files = sorted(str(p) for p in pdf_dir.glob("*.pdf"))
    if not files:
        print(f"No PDFs in {pdf_dir}; pass the folder holding the filings.", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        extracted = list(pool.map(_pages, files))
    extract_s = time.perf_counter() - t0

    if all(pages is None for _p, pages, _e in extracted):
        print(f"Could not read any of {len(files)} PDFs (first error: {extracted[0][2]}); is the venv active?", file=sys.stderr)
        return 1
    times: list[float] = []
    xref_times: list[float] = []
    pages_total = 0
    tenk = {"docs": 0, "key": 0, "notes5": 0, "notes": 0, **{k: 0 for k in STATEMENT_KEYS}}
    tenq = {"docs": 0, **{k: 0 for k in KEY_ITEMS_10Q}}
    refs_found = refs_resolved = refs_external = 0
    misses: list[str] = []
    failed: list[str] = []
    for path, pages, error in extracted:
        name = Path(path).stem
        if pages is None:
            failed.append(f"{name}: {error}")
            continue
        text = PagedText.from_pages(pages)
        pages_total += text.page_count
        form = form_of(name)
        t = time.perf_counter()
        sections = detect_sections(text, form)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        refs = find_cross_references(text, sections, form)
        xref_times.append(time.perf_counter() - t)
        refs_found += len(refs)
        refs_resolved += sum(r.resolved for r in refs)
        refs_external += sum(r.external for r in refs)
        keys = {s.key for s, _p, _d in iter_sections(sections)}
        if form == "10-K":
            _count_10k(tenk, keys, sections, name, misses)
        elif form == "10-Q":
            tenq["docs"] += 1
            for k in KEY_ITEMS_10Q:
                tenq[k] += k in keys

    n = tenk["docs"]
    rows = [
        ("filings", f"{len(files)} ({pages_total} pages, {len(failed)} unreadable)"),
        ("10-K filings", str(n)),
        ("10-K with Items 1A, 7 and 8", _pct(tenk["key"], n)),
        ("10-K with >= 5 notes", _pct(tenk["notes5"], n)),
        ("10-K average notes found", f"{tenk['notes'] / n:.1f}" if n else "n/a"),
        *[(f"10-K with statement: {k}", _pct(tenk[k], n)) for k in STATEMENT_KEYS],
        ("10-Q filings", str(tenq["docs"])),
        *[(f"10-Q with {k}", _pct(tenq[k], tenq["docs"])) for k in KEY_ITEMS_10Q],
        ("cross-refs found", str(refs_found)),
        ("cross-refs resolved", f"{refs_resolved} ({_pct(refs_resolved, refs_found).strip()})"),
        ("cross-refs into other filings", str(refs_external)),
        ("detect_sections p50 / p95 / max", _ms(times)),
        ("find_cross_references p50 / p95 / max", _ms(xref_times)),
        ("detect + xrefs, all filings", f"{sum(times) + sum(xref_times):.2f} s (extraction {extract_s:.1f} s, not counted)"),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if args.verbose:
        for line in misses + failed:
            print(f"  miss: {line}")
    return 0


def _count_10k(tally: dict[str, int], keys: set[str], sections: list[Section], name: str, misses: list[str]) -> None:
    tally["docs"] += 1
    missing = [k for k in KEY_ITEMS_10K if k not in keys]
    tally["key"] += not missing
    notes = sum(1 for s, _p, _d in iter_sections(sections) if s.kind == "note")
    tally["notes"] += notes
    tally["notes5"] += notes >= 5
    for k in STATEMENT_KEYS:
        tally[k] += k in keys
    absent = missing + [k for k in STATEMENT_KEYS if k not in keys] + (["notes"] if notes < 5 else [])
    if absent:
        misses.append(f"{name}: no {', '.join(absent)}")


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:.1f} / {p95 * 1000:.1f} / {ordered[-1] * 1000:.1f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
