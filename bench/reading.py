"""Reading benchmark: is a PDF page's text what the analyst sees? Before (plain PyMuPDF text) and after (row layout).

Usage: python bench/reading.py [--questions FILE] [--pdfs DIR] [--speed] [--ingest] [--show]

Over the evidence pages of the FinanceBench dev questions (zero-indexed in the question file):
- row-intact figures: of the occurrences on its evidence page of the figures in a question's
  `answer`/`justification` (years and one-digit numbers left out; "1577.00" matches "(1,577)"), the
  share on a line which also carries a row label (a word of three letters or more);
- narrative kept: of the `evidence_text` sentences of running text (eight words or more, ending in a
  full stop, at most one token in ten a figure: not a flattened table), the share still found on their
  page (text compared as lowercase letters and digits, so line breaks and ' | ' do not count);
- release pages: over every page of the earnings releases and 8-Ks in DIR (by file name), the share of lines
  with two figures or more that also carry a label, and named pages checked row by row (RELEASE_ROWS);
- --speed: extraction pages/s of both over all filings in DIR, one process, in the same run;
- --ingest: end-to-end ingest pages/s of the current code over DIR into a fresh data dir (bench/ingest.py).
"before" is main's extraction before the row layout: `page.get_text("text", sort=False)`, cleaned.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus.clean import clean_page  # noqa: E402
from corpus.extract import _pdf_page  # noqa: E402

_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_LABEL = re.compile(r"[A-Za-z]{3,}")
_TOKENS = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def plain_page(path: Path, page) -> str:  # noqa: ANN001
    return clean_page(page.get_text("text", sort=False))


def rows_page(path: Path, page) -> str:  # noqa: ANN001
    return clean_page(_pdf_page(path, page, page.number))


EXTRACTORS = {"before": plain_page, "after": rows_page}


def figure_key(token: str) -> str | None:
    """A figure as compared: no thousands separators, no trailing zero decimals; None for years and single digits."""
    raw = token.replace(",", "").rstrip(".")
    try:
        value = float(raw)
    except ValueError:
        return None
    if "," not in token and "." not in token and len(raw) == 4 and 1990 <= value <= 2039:
        return None  # a year: headers carry them, they are not line-item figures
    if sum(ch.isdigit() for ch in raw) < 2:
        return None
    return str(int(value)) if value == int(value) else f"{value:g}"


def gold_figures(question: dict) -> set[str]:
    text = f"{question.get('answer') or ''} {question.get('justification') or ''}"
    return {k for t in _NUMBER.findall(text) if (k := figure_key(t))}


def narrative_sentences(evidence_text: str) -> list[str]:
    """Sentences of running text: eight words or more, ending in a full stop, few figures (not a flattened table)."""
    joined = " ".join(evidence_text.split())
    out = []
    for sentence in _SENTENCE_END.split(joined):
        tokens = sentence.split()
        words = [w for w in tokens if re.search(r"[A-Za-z]{2}", w)]
        figures = [w for w in tokens if re.search(r"\d", w)]
        if len(words) >= 8 and sentence.endswith((".", "!", "?")) and len(figures) <= 0.1 * len(tokens):
            out.append(" ".join(_TOKENS.findall(sentence.lower())))
    return out


def score_page(text: str, figures: set[str]) -> tuple[int, int]:
    """(occurrences of the figures on the page, of them on a line that also carries a label)."""
    found = labelled = 0
    for line in text.split("\n"):
        hits = [k for t in _NUMBER.findall(line) if (k := figure_key(t)) in figures]
        if hits:
            found += len(hits)
            if _LABEL.search(_NUMBER.sub(" ", line)):
                labelled += len(hits)
    return found, labelled


def evaluate(questions: list[dict], pdfs: Path, show: bool) -> dict[str, dict[str, float]]:
    import pymupdf

    totals = {name: {"figures": 0, "labelled": 0, "sentences": 0, "kept": 0} for name in EXTRACTORS}
    for q in questions:
        figures = gold_figures(q)
        for ev in q["evidence"]:
            path = pdfs / f"{ev['doc_name']}.pdf"
            with pymupdf.open(path) as doc:
                page = doc[ev["page"]]
                for name, fn in EXTRACTORS.items():
                    text = fn(path, page)
                    found, labelled = score_page(text, figures)
                    norm = " ".join(_TOKENS.findall(text.lower()))
                    sentences = narrative_sentences(ev.get("evidence_text") or "")
                    kept = sum(1 for s in sentences if s in norm)
                    t = totals[name]
                    t["figures"] += found
                    t["labelled"] += labelled
                    t["sentences"] += len(sentences)
                    t["kept"] += kept
                    if show and name == "after" and (labelled < found or kept < len(sentences)):
                        print(
                            f"--- {ev['doc_name']} page {ev['page'] + 1}: figures {labelled}/{found}, sentences {kept}/{len(sentences)}"
                        )
    return totals


# Rows that must come out whole (label and every figure on one line) on pages of releases and 8-K exhibits,
# and what must not: pages seen misread by a capable driver (issue 23).
RELEASE_ROWS = [
    (
        "JOHNSON_JOHNSON_2023Q2_EARNINGS",
        5,
        "Estimated Reported Sales",
        ["$98.8B", "$99.8B", "$99.3B", "$97.9B", "$98.9B", "$98.4B"],
    ),
    ("JOHNSON_JOHNSON_2023Q2_EARNINGS", 5, "Adjusted EPS (Diluted)", ["$10.70", "$10.80", "$10.75", "$10.60", "$10.65"]),
    ("JOHNSON_JOHNSON_2023Q2_EARNINGS", 5, "Change vs. Prior Year / Mid-point", ["6.0% – 7.0% / 6.5%", "4.5% – 5.5% / 5.0%"]),
    ("AMERICANEXPRESS_2022_10K", 155, "(Millions) | United States | EMEA (a) | APAC (a) | LACC (a)", []),
    ("JOHNSON_JOHNSON_2023_8K_dated-2023-08-30", 5, "[picture:", []),
    ("JOHNSON_JOHNSON_2023_8K_dated-2023-08-30", 5, "1 Non-GAAP financial measure", []),
    ("LOCKHEEDMARTIN_2023Q2_10Q", 2, "Net sales", ["$16,693", "$15,446", "$31,819", "$30,410"]),
    ("BESTBUY_2024Q2_EARNINGS", 5, "Revenue", ["$9,583", "$10,329", "$19,050", "$20,976"]),
    ("AMCOR_2023Q4_EARNINGS", 1, "Net sales", ["14,544", "14,694"]),
]
_FIGURE_TOKEN = re.compile(r"[$(]?\d[\d,.]*%?")


def release_rows(pdfs: Path) -> dict[str, tuple[int, int]]:
    """Per extractor: (named rows found whole, rows named) over RELEASE_ROWS."""
    import pymupdf

    out = {}
    for name, fn in EXTRACTORS.items():
        whole = 0
        for doc, page, label, figures in RELEASE_ROWS:
            with pymupdf.open(pdfs / f"{doc}.pdf") as pdf:
                lines = fn(pdfs / f"{doc}.pdf", pdf[page - 1]).split("\n")
            whole += any(label in line and all(f in line for f in figures) for line in lines)
        out[name] = (whole, len(RELEASE_ROWS))
    return out


def release_labels(pdfs: Path) -> dict[str, tuple[int, int]]:
    """Per extractor: (lines with two figures or more that carry a label, such lines) over every page of releases and 8-Ks."""
    import pymupdf

    files = sorted(p for p in pdfs.glob("*.pdf") if re.search(r"_(?:EARNINGS|8K)", p.stem))
    out = {name: [0, 0] for name in EXTRACTORS}
    for path in files:
        with pymupdf.open(path) as doc:
            for page in doc:
                for name, fn in EXTRACTORS.items():
                    for line in fn(path, page).split("\n"):
                        if len([t for t in _FIGURE_TOKEN.findall(line) if figure_key(t.strip("$(%"))]) >= 2:
                            out[name][1] += 1
                            out[name][0] += bool(_LABEL.search(_NUMBER.sub(" ", line)))
    return {name: (a, b) for name, (a, b) in out.items()}


def extraction_speed(pdfs: Path) -> dict[str, float]:
    import pymupdf

    files = sorted(pdfs.glob("*.pdf"))
    rates = {}
    for name, fn in EXTRACTORS.items():
        pages = 0
        start = time.perf_counter()
        for path in files:
            with pymupdf.open(path) as doc:
                for page in doc:
                    fn(path, page)
                    pages += 1
        rates[name] = pages / (time.perf_counter() - start)
    return rates


def ingest_speed(pdfs: Path) -> tuple[int, float]:
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths
    from corpus.settings import CorpusSettings

    with tempfile.TemporaryDirectory(prefix="sleuth-reading-") as tmp:
        corpus = Corpus.open(CorpusSettings(data_dir=Path(tmp)))
        start = time.perf_counter()
        report = ingest_paths(corpus, [pdfs])
        seconds = time.perf_counter() - start
        corpus.close()
    return report.pages, report.pages / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = REPO.parent / "shared" / "financebench"
    parser.add_argument("--questions", type=Path, default=shared / "questions_dev.jsonl")
    parser.add_argument("--pdfs", type=Path, default=shared / "pdfs")
    parser.add_argument("--speed", action="store_true", help="time extraction of both over all filings")
    parser.add_argument("--ingest", action="store_true", help="time a full ingest of all filings with the current code")
    parser.add_argument("--show", action="store_true", help="name the pages where 'after' misses")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    totals = evaluate(questions, args.pdfs, args.show)
    pages = sum(len(q["evidence"]) for q in questions)
    print(f"{len(questions)} questions, {pages} evidence pages\n")
    rows = []
    for name, t in totals.items():
        rows.append(
            [
                name,
                f"{t['labelled'] / t['figures']:.1%} ({t['labelled']}/{t['figures']})" if t["figures"] else "-",
                f"{t['kept'] / t['sentences']:.1%} ({t['kept']}/{t['sentences']})" if t["sentences"] else "-",
            ]
        )
    header = ["extraction", "figures on a labelled line", "narrative sentences kept"]
    if args.speed:
        rates = extraction_speed(args.pdfs)
        header.append("extraction pages/s (1 process)")
        for r in rows:
            r.append(f"{rates[r[0]]:,.0f}")
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    rows_whole = release_rows(args.pdfs)
    labels = release_labels(args.pdfs)
    print("\nearnings releases and 8-Ks (every page) and named release/exhibit rows:")
    for name in EXTRACTORS:
        (a, b), (w, n) = labels[name], rows_whole[name]
        print(f"  {name:7} figure lines with a label {a / b:.1%} ({a}/{b}); named rows whole {w}/{n}")
    if args.ingest:
        count, rate = ingest_speed(args.pdfs)
        print(f"\ningest (current code, all cores): {count:,} pages at {rate:,.0f} pages/s")


if __name__ == "__main__":
    main()
