"""Metadata detection on real filings: per-field coverage, agreement with the file names, time per document.

Usage: python bench/metadata.py [pdf_dir]   (default: ../shared/financebench/pdfs beside the checkout)
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from corpus.extract import extract  # noqa: E402
from corpus.metadata import DocMetadata, detect_metadata, metadata_from_filename, metadata_from_text  # noqa: E402
from corpus.naming import name_conflict  # noqa: E402
from corpus.text import PagedText  # noqa: E402

FIELDS = ("company", "ticker", "cik", "form_type", "fiscal_year", "fiscal_period", "period_end_date", "filing_date")
COMPARED = ("company", "form_type", "fiscal_year", "fiscal_period")
TIMING_RUNS = 5


def _pages(path: Path) -> list[str]:
    return extract(path).pages


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def company_agrees(cover: str, from_name: str) -> bool:
    """File names shorten names ('AMERICANEXPRESS', 'AMD'): one contains the other, or the name is the cover's initials."""
    a, b = _squash(cover), _squash(from_name)
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z0-9]+", cover) if w.lower() not in {"inc", "the", "and", "corporation"})
    return bool(a and b) and (b in a or a in b or b == initials.lower())


def agrees(field: str, cover: object, from_name: object) -> bool:
    if field == "company":
        return company_agrees(str(cover), str(from_name))
    return cover == from_name


def main(pdf_dir: Path) -> int:
    pdfs = sorted(pdf_dir.glob("*.pdf"))
    if not pdfs:
        print(f"no PDFs in {pdf_dir}; pass the folder of filings as the first argument", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        texts = [PagedText.from_pages(pages) for pages in pool.map(_pages, pdfs, chunksize=4)]
    print(f"extracted {len(pdfs)} filings in {time.perf_counter() - started:.1f}s\n")

    covers: list[DocMetadata] = []
    names: list[DocMetadata] = []
    merged: list[DocMetadata] = []
    times_ms: list[float] = []
    for pdf, text in zip(pdfs, texts):
        best = float("inf")
        for _ in range(TIMING_RUNS):
            t0 = time.perf_counter()
            cover = metadata_from_text(text)
            best = min(best, (time.perf_counter() - t0) * 1000)
        times_ms.append(best)
        covers.append(cover)
        names.append(metadata_from_filename(pdf.name))
        merged.append(detect_metadata(text, pdf.name))

    n = len(pdfs)
    print(f"{'field':16} {'cover':>7} {'merged':>7} {'both':>5} {'agree':>6} {'rate':>6}")
    disagreements: list[str] = []
    for f in FIELDS:
        cover_n = sum(getattr(m, f) is not None for m in covers)
        merged_n = sum(getattr(m, f) is not None for m in merged)
        line = f"{f:16} {cover_n:>3}/{n:<3} {merged_n:>3}/{n:<3}"
        if f in COMPARED:
            pairs = [(p, getattr(c, f), getattr(m, f)) for p, c, m in zip(pdfs, covers, names)]
            pairs = [(p, a, b) for p, a, b in pairs if a is not None and b is not None]
            ok = [agrees(f, a, b) for _, a, b in pairs]
            rate = f"{100 * sum(ok) / len(ok):5.1f}%" if ok else "   -"
            line += f" {len(pairs):>5} {sum(ok):>6} {rate:>6}"
            disagreements += [
                f"  {p.stem:44} {f:14} cover={a!r:40} filename={b!r}" for (p, a, b), good in zip(pairs, ok) if not good
            ]
        print(line)

    print("\nform types (cover):", dict(sorted(_count(m.form_type for m in covers).items(), key=lambda kv: str(kv[0]))))
    print(
        f"\nmetadata_from_text per document: mean {statistics.mean(times_ms):.2f} ms, "
        f"median {statistics.median(times_ms):.2f} ms, max {max(times_ms):.2f} ms (best of {TIMING_RUNS})"
    )
    print(f"\ndisagreements with the file name ({len(disagreements)}):")
    print("\n".join(disagreements) if disagreements else "  none")
    print("\n" + agreement_by_form(pdfs, merged))
    return 0


def agreement_by_form(pdfs: list[Path], merged: list[DocMetadata]) -> str:
    """Markdown: per catalog form, how many file names agree on form and fiscal period; then each name the tools flag."""
    rows: dict[str, list[int]] = {}
    flagged: list[str] = []
    for pdf, meta in zip(pdfs, merged):
        conflict = name_conflict(SimpleNamespace(id=pdf.stem, **{f: getattr(meta, f) for f in FIELDS}))
        counts = rows.setdefault(meta.form_type or "unknown", [0, 0])
        counts[0] += 1
        counts[1] += conflict is None
        if conflict:
            flagged.append(f"| {pdf.stem} | {conflict} |")
    lines = ["| form (catalog) | filings | name agrees | name disagrees |", "|---|---:|---:|---:|"]
    lines += [f"| {form} | {n} | {ok} | {n - ok} |" for form, (n, ok) in sorted(rows.items())]
    total, ok = sum(n for n, _ in rows.values()), sum(k for _, k in rows.values())
    lines.append(f"| all | {total} | {ok} | {total - ok} |")
    lines += ["", "| doc_id | what the tools say |", "|---|---|"] + (flagged or ["| (none) | |"])
    return "\n".join(lines)


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


if __name__ == "__main__":
    default = REPO_ROOT.parent / "shared" / "financebench" / "pdfs"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
