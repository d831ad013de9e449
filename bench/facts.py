"""Facts benchmark: does `facts` find the statement row a dev question needs, for the right year, quickly? And is inline XBRL read whole?

Usage: python bench/facts.py [--questions FILE] [--data-dir DIR] [--pdfs DIR] [--edgar DIR] [--repeat N] [--show]

1. Statement-figure questions (the dev questions of type metrics-generated: their justification names each
   line item as the 10-K prints it, "Metric 1: Total revenue ... line item named: Total net revenues"):
   for every (metric, fiscal year the question names) target, facts(query=<metric name>, doc_id=<filing>,
   period=FY<year>) is called; a hit when one of the top 3 line items carries the printed label (its words,
   compared lower-case without punctuation, equal or containing the gold label's) with a value for that
   period on an evidence page, and, for questions answered by one extracted figure, that value is the answer.
   The filings are ingested into a temporary data dir from --pdfs unless --data-dir holds them.
2. Latency of those calls (warm: one tool context, as in an agent run), p50 and p95.
3. EDGAR (--edgar): per .htm filing, `<ix:nonFraction` tags in the file vs facts parsed, and the share of
   facts shown on a page whose printed row agrees (the figure is in the row it sits in; money in a table
   declared "(in millions)" carries scale 6).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus.catalog import Corpus  # noqa: E402
from corpus.settings import CorpusSettings  # noqa: E402
from tools import REGISTRY, ToolContext  # noqa: E402

_METRIC = re.compile(
    r"Metric \d+: ([^.]+)\. This metric was located in the 10K as a single line item named: ([^.\n]+?)\.?(?:\n|$)"
)
_DIRECT = re.compile(
    r"The metric (.+?) was directly extracted from the company 10K\. The line item name, as seen in the 10K, was: ([^.\n]+?)\.?(?:\n|$)"
)
_YEARS = re.compile(r"\bFY\s?((?:19|20)\d{2})\b")
_WORDS = re.compile(r"[a-z0-9]+")


def norm(label: str) -> str:
    return " ".join(_WORDS.findall(label.lower().replace("&", " and ")))


def targets(questions: list[dict]) -> list[dict]:
    out = []
    for q in questions:
        if not str(q.get("question_type", "")).startswith("metrics"):
            continue
        just = q.get("justification") or ""
        metrics = _METRIC.findall(just) or _DIRECT.findall(just)
        years = sorted({int(y) for y in _YEARS.findall(q["question"])})
        if not metrics or not years:
            continue
        if "average" in q["question"].lower() and len(years) == 1:
            years = [years[0] - 1, years[0]]  # "average PP&E between FY2018 and FY2019" names both; some name one
        if len(years) == 2 and years[1] - years[0] > 1:
            years = list(range(years[0], years[1] + 1))  # "FY2018 - FY2020 3 year average"
        direct = bool(_DIRECT.findall(just)) and len(metrics) == 1
        answer = _number(q["answer"]) if direct else None
        pages = {e["page"] + 1 for e in q.get("evidence", [])}
        for name, label in metrics:
            for year in years:
                out.append(
                    {
                        "id": q["financebench_id"],
                        "doc": q["doc_name"],
                        "query": name.strip(),
                        "label": label.strip(),
                        "year": year,
                        "pages": pages,
                        "answer": answer if year == max(years) else None,
                    }
                )
    return out


def _number(text: str) -> float | None:
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", text.replace("$", ""))
    return float(m.group(0).replace(",", "")) if m else None


def run_targets(context: ToolContext, items: list[dict], show: bool, repeat: int) -> tuple[list[bool], list[float]]:
    hits, times = [], []
    for t in items:
        args = {"query": t["query"], "doc_id": t["doc"], "period": f"FY{t['year']}"}
        call = REGISTRY.call("facts", args, context)  # cold: loads the document's facts once
        for _ in range(repeat):
            started = time.perf_counter()
            REGISTRY.call("facts", args, context)
            times.append((time.perf_counter() - started) * 1000)
        ok = call.ok and _hit(call.result, t)
        hits.append(ok)
        if show or not ok:
            head = call.text.split("\n\n")[:4] if call.ok else [call.text]
            print(
                f"{'HIT ' if ok else 'MISS'} {t['id']} {t['doc']} {t['query']!r} FY{t['year']} gold label {t['label']!r}"
                + ("" if ok else "\n    " + "\n    ".join(" | ".join(h.splitlines()[:2]) for h in head))
            )
    return hits, times


def _hit(result, t: dict) -> bool:  # noqa: ANN001
    gold = norm(t["label"])
    for item in result.items[:3]:
        label = norm(item.label)
        if not (label == gold or gold in label):
            continue
        for point in item.series.ordered():
            row = point.chosen(item.basis)
            if point.period.year != t["year"] or point.period.quarter is not None:
                continue
            if row.page not in t["pages"]:
                continue
            if t["answer"] is not None and row.value is not None:
                shown = abs(row.value) / (10**row.scale if row.scale else 1)
                if abs(shown - abs(t["answer"])) > 0.5 and abs(abs(row.value) / 1e6 - abs(t["answer"])) > 0.5:
                    continue
            return True
    return False


def edgar(folder: Path) -> list[tuple[str, int, int, int, int, float]]:
    from corpus.extract import extract
    from corpus.factrows import analyze_facts
    from corpus.text import PagedText

    rows = []
    for path in sorted(folder.glob("*.htm")):
        tags = len(re.findall(rb"<ix:nonFraction\b", path.read_bytes(), re.I))
        started = time.perf_counter()
        extracted = extract(path)
        text = PagedText.from_pages(extracted.pages)
        facts, _dei, _notes = analyze_facts(extracted, text)
        seconds = time.perf_counter() - started
        shown = [f for f in facts if not f.hidden]
        agree = sum(1 for f in shown if f.agrees)
        rows.append((path.name, tags, len(facts), len(shown), agree, seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "financebench" / "questions_dev.jsonl")
    parser.add_argument("--pdfs", type=Path, default=REPO.parent / "shared" / "financebench" / "pdfs")
    parser.add_argument(
        "--data-dir", type=Path, help="a data dir that already holds the filings (default: ingest them into a temp dir)"
    )
    parser.add_argument("--edgar", type=Path, default=REPO.parent / "shared" / "edgar")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per target")
    parser.add_argument("--show", action="store_true", help="print every target, not only misses")
    args = parser.parse_args()

    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = targets(questions)
    with tempfile.TemporaryDirectory(prefix="sleuth-bench-facts-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        corpus = Corpus.open(CorpusSettings(data_dir=data_dir))
        try:
            missing = sorted({t["doc"] for t in items} - set(corpus.store.doc_ids()))
            if missing:
                from corpus.ingest import ingest_paths

                print(f"ingesting {len(missing)} filings into {data_dir} ...", file=sys.stderr)
                ingest_paths(corpus, [args.pdfs / f"{d}.pdf" for d in missing])
            hits, times = run_targets(ToolContext(corpus), items, args.show, args.repeat)
        finally:
            corpus.close()
    by_question: dict[str, list[bool]] = {}
    for t, ok in zip(items, hits, strict=True):
        by_question.setdefault(t["id"], []).append(ok)
    print("\n| statement-figure targets | hits in top 3 | questions with every target hit | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    print(
        f"| {len(items)} (from {len(by_question)} questions) | {sum(hits)}/{len(items)} = {100 * sum(hits) / len(items):.0f}% | "
        f"{sum(all(v) for v in by_question.values())}/{len(by_question)} | {statistics.median(times):.1f} | {p95:.1f} |"
    )
    if args.edgar.is_dir():
        rows = edgar(args.edgar)
        print("\n| EDGAR filing | `<ix:nonFraction` tags | facts parsed | on a page | agree with their row | parse s |")
        print("|---|---|---|---|---|---|")
        for name, tags, parsed, shown, agree, seconds in rows:
            share = f"{100 * agree / shown:.2f}%" if shown else "-"
            print(f"| {name} | {tags:,} | {parsed:,} | {shown:,} | {agree:,} ({share}) | {seconds:.1f} |")
        tags = sum(r[1] for r in rows)
        parsed = sum(r[2] for r in rows)
        shown = sum(r[3] for r in rows)
        agree = sum(r[4] for r in rows)
        print(f"| all | {tags:,} | {parsed:,} | {shown:,} | {agree:,} ({100 * agree / max(1, shown):.2f}%) | |")


if __name__ == "__main__":
    main()
