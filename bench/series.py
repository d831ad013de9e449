"""Series benchmark: a company's line item across its filings against values read on the pages (bench/series_gold.py).

Usage: python bench/series.py [--data-dir DIR] [--pdfs DIR] [--edgar DIR] [--repeat N] [--factor N] [--show]

For each gold pair (company, line item, statement) the series is looked up as the API does (tools.series_table.lookup,
period='all', basis='latest') and its annual points (fiscal years and year-end balances) are compared with the gold:
- point precision / recall: a point is right when its period label and its figure as printed equal the gold's;
- label accuracy: of the points whose figure is a gold figure of that pair, the share with the gold period label
  (a wrong-column or wrong-fiscal-year label is a miss);
- source accuracy: of the right points, the share cited at the gold filing and page;
- restatements: gold restated periods found with both printings (first reported and latest), and restatements claimed
  that the gold does not have.
Latency: each pair's lookup warm (the company's series cached, as in a running server), p50 and p95 over --repeat calls.
The filings are ingested into --data-dir (default: a temporary one) from --pdfs and --edgar when missing.
--factor N (SQLite catalogs) also times the lookups in an Nx catalog: N-1 copies of every document, its facts and its
company under re-labelled names ("3M Company S3"), as bench/scale.py relabels them (only the catalog is copied: series
read nothing else).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.series_gold import GOLD  # noqa: E402
from corpus.catalog import Corpus  # noqa: E402
from corpus.settings import CorpusSettings  # noqa: E402
from tools.company_series import SeriesError  # noqa: E402
from tools.series_table import SeriesTable, lookup  # noqa: E402

_POINT = re.compile(r"(FY\d{4}(?: end)?)=([^@]+)@([^:]+):(\d+)(?:>([^@]+)@([^:]+):(\d+))?")


def gold_points(spec: str) -> dict[str, dict]:
    out = {}
    for m in _POINT.finditer(spec):
        period, printed, doc, page, later, later_doc, later_page = m.groups()
        entry = {"printed": printed, "doc": doc, "page": int(page), "restated": None}
        if later:
            entry = {"printed": later, "doc": later_doc, "page": int(later_page), "restated": (printed, doc, int(page))}
        out[period] = entry
    return out


def figure(printed: str) -> str:
    """'$1,577' and '1,577' and '(1,577)' compare equal up to the dollar sign and spaces."""
    return printed.replace("$", "").replace(" ", "")


def filings_needed() -> set[str]:
    return {m.group(3) for _c, _i, _s, spec in GOLD for m in _POINT.finditer(spec)} | {
        m.group(6) for _c, _i, _s, spec in GOLD for m in _POINT.finditer(spec) if m.group(6)
    }


def ensure_filings(corpus: Corpus, pdfs: Path, edgar: Path) -> None:
    have = {d.id for d in corpus.list()}
    missing = sorted(filings_needed() - have)
    paths = []
    for doc_id in missing:
        candidates = [pdfs / f"{doc_id}.pdf", edgar / f"{doc_id}.htm"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            sys.exit(f"error: {doc_id} is neither in {pdfs} nor in {edgar}")
        paths.append(found)
    # Every filing of the gold companies, so a series sees the same filings whatever --data-dir held.
    companies = {doc_id.split("_")[0] for doc_id in filings_needed()}
    paths += [
        p for p in sorted(pdfs.glob("*.pdf")) if p.stem.split("_")[0] in companies and p.stem not in have and p not in paths
    ]
    if paths:
        from corpus.ingest import ingest_paths

        print(f"ingesting {len(paths)} filings into {corpus.settings.data_dir} ...", file=sys.stderr)
        report = ingest_paths(corpus, paths)
        if not report.ok:
            sys.exit(f"error: ingest failed: {report.summary()}")


def find(corpus: Corpus, company: str, item: str, statement: str) -> SeriesTable | None:
    """The pair's series as the API looks it up; None when no line item matches (a pair the extraction misses)."""
    try:
        return lookup(corpus, company, item, "all", "latest", statement)
    except SeriesError:
        return None


def score_pair(corpus: Corpus, company: str, item: str, statement: str, spec: str, show: bool) -> dict:
    gold = gold_points(spec)
    table = find(corpus, company, item, statement)
    got = {str(p.period): p for p in table.points if p.period.annual} if table else {}
    right = [k for k, p in got.items() if k in gold and figure(p.chosen("latest").printed) == figure(gold[k]["printed"])]
    by_figure = {figure(g["printed"]): k for k, g in gold.items()}
    labelled = [(k, p) for k, p in got.items() if figure(p.chosen("latest").printed) in by_figure]
    label_ok = sum(by_figure[figure(p.chosen("latest").printed)] == k for k, p in labelled)
    sourced = sum(
        (got[k].chosen("latest").doc_id, got[k].chosen("latest").page) == (gold[k]["doc"], gold[k]["page"]) for k in right
    )
    restated_gold = {k for k, g in gold.items() if g["restated"]}
    restated_found = {
        k
        for k in restated_gold
        if k in got
        and got[k].restated
        and figure(got[k].first.printed) == figure(gold[k]["restated"][0])
        and figure(got[k].latest.printed) == figure(gold[k]["printed"])
    }
    restated_extra = {k for k, p in got.items() if p.restated and k not in restated_gold}
    if show:
        for k in sorted(set(gold) | set(got)):
            g, p = gold.get(k), got.get(k)
            mark = (
                "-- "
                if k not in right
                else "ok "
                if (p.chosen("latest").doc_id, p.chosen("latest").page) == (g["doc"], g["page"])
                else "src"
            )
            shown = (
                f"{p.chosen('latest').printed} {p.chosen('latest').doc_id} p.{p.chosen('latest').page}{' R' if p.restated else ''}"
                if p
                else "(none)"
            )
            print(
                f"  {mark}{company} {item} {k}: got {shown}; gold {g['printed'] + ' ' + g['doc'] + ' p.' + str(g['page']) if g else '(none)'}"
            )
    return {
        "pair": f"{company} / {table.series.label}" if table else f"{company} / {item} (no line item in {statement})",
        "filings": len({r.doc_id for p in got.values() for r in p.reports}),
        "got": len(got),
        "gold": len(gold),
        "right": len(right),
        "labelled": len(labelled),
        "label_ok": label_ok,
        "sourced": sourced,
        "restated_gold": len(restated_gold),
        "restated_found": len(restated_found),
        "restated_extra": len(restated_extra),
    }


def latency(corpus: Corpus, repeat: int) -> tuple[float, float, float]:
    from tools import company_series

    cold = []
    for company, item, statement, _spec in GOLD:
        company_series._cache.clear()  # the company's filings read and its series built again, as after a restart
        start = time.perf_counter()
        find(corpus, company, item, statement)
        cold.append(time.perf_counter() - start)
    for company, item, statement, _spec in GOLD:  # warm every company's series once before timing
        find(corpus, company, item, statement)
    warm = []
    for _ in range(repeat):
        for company, item, statement, _spec in GOLD:
            start = time.perf_counter()
            find(corpus, company, item, statement)
            warm.append(time.perf_counter() - start)
    warm.sort()
    return statistics.median(warm), warm[int(0.95 * (len(warm) - 1))], max(cold)


def scaled_catalog(data_dir: Path, factor: int) -> Path:
    """A copy of the data dir's SQLite catalog with factor-1 re-labelled copies of every company, document and fact."""
    import shutil

    from sqlalchemy import create_engine, text

    out = Path(tempfile.mkdtemp(prefix=f"sleuth-bench-series-{factor}x-"))
    shutil.copy(data_dir / "sleuth.db", out / "sleuth.db")
    engine = create_engine(f"sqlite:///{out / 'sleuth.db'}")
    doc_cols = [
        c
        for c in (
            "file_name",
            "source_path",
            "content_hash",
            "ingest_key",
            "format",
            "ticker",
            "cik",
            "form_type",
            "fiscal_year",
            "fiscal_period",
            "period_end_date",
            "filing_date",
            "accession",
            "page_count",
            "line_count",
            "char_count",
            "token_estimate",
            "metadata_sources",
            "ingested_at",
        )
    ]
    fact_cols = [
        "source",
        "section",
        "label",
        "concept",
        "period_start",
        "period_end",
        "period_label",
        "fiscal_year",
        "dimensions",
        "value",
        "unit",
        "scale",
        "decimals",
        "printed",
        "negated",
        "page",
        "line",
    ]
    with engine.begin() as conn:
        for copy in range(1, factor):
            tag = f"S{copy}"
            conn.execute(
                text(
                    f"INSERT INTO companies (key, name, cik, tickers, aliases, name_as_of) SELECT key || ' s{copy}', name || ' {tag}', "
                    "cik, '[]', '[]', name_as_of FROM companies WHERE key NOT LIKE '% s%'"
                )
            )
            conn.execute(
                text(
                    f"INSERT INTO documents (id, company, company_id, {', '.join(doc_cols)}) SELECT replace(d.id, '_', '{tag}_'), d.company || ' {tag}', "
                    f"(SELECT c2.id FROM companies c1 JOIN companies c2 ON c2.key = c1.key || ' s{copy}' WHERE c1.id = d.company_id), "
                    f"{', '.join('d.' + c for c in doc_cols)} FROM documents d WHERE d.id NOT LIKE '%S_\_%' ESCAPE '\\' AND instr(d.company, ' S') = 0"
                )
            )
            conn.execute(
                text(
                    f"INSERT INTO facts (doc_id, {', '.join(fact_cols)}) SELECT replace(f.doc_id, '_', '{tag}_'), {', '.join('f.' + c for c in fact_cols)} "
                    "FROM facts f JOIN documents d ON d.id = f.doc_id WHERE instr(d.company, ' S') = 0"
                )
            )
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("companies", "documents", "facts")]
    engine.dispose()
    print(f"{factor}x catalog: {counts[0]:,} companies, {counts[1]:,} documents, {counts[2]:,} facts", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="a data dir holding the filings (default: a temporary one, ingested)")
    parser.add_argument("--pdfs", type=Path, default=REPO.parent / "shared" / "financebench" / "pdfs")
    parser.add_argument("--edgar", type=Path, default=REPO.parent / "shared" / "edgar")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--factor", type=int, default=0, help="also time lookups in an Nx copy of the catalog (e.g. 10)")
    parser.add_argument("--show", action="store_true", help="print every point against the gold")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="sleuth-bench-series-"))
    corpus = Corpus.open(CorpusSettings(data_dir=data_dir))
    try:
        ensure_filings(corpus, args.pdfs, args.edgar)
        rows = [score_pair(corpus, *pair, args.show) for pair in GOLD]
        p50, p95, cold = latency(corpus, args.repeat)
    finally:
        corpus.close()
    scaled = None
    if args.factor > 1:
        big = Corpus.open(CorpusSettings(data_dir=scaled_catalog(data_dir, args.factor)))
        try:
            scaled = latency(big, args.repeat)
        finally:
            big.close()
    print(
        "| pair | filings | points (gold) | right | precision | recall | labels right | restated found (gold) | restated extra |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['pair']} | {r['filings']} | {r['got']} ({r['gold']}) | {r['right']} | {r['right'] / max(r['got'], 1):.2f} | "
            f"{r['right'] / r['gold']:.2f} | {r['label_ok']}/{r['labelled']} | {r['restated_found']} ({r['restated_gold']}) | {r['restated_extra']} |"
        )
    tot = {k: sum(r[k] for r in rows) for k in rows[0] if k != "pair"}
    print(f"\n{len(rows)} pairs, {tot['gold']} gold points over filings of {len({c for c, *_ in GOLD})} companies")
    print(
        f"point precision {tot['right'] / max(tot['got'], 1):.3f}, recall {tot['right'] / tot['gold']:.3f}; "
        f"label accuracy {tot['label_ok'] / max(tot['labelled'], 1):.3f}; source (filing and page) {tot['sourced'] / max(tot['right'], 1):.3f}; "
        f"restatements found {tot['restated_found']}/{tot['restated_gold']}, claimed beyond the gold {tot['restated_extra']}"
    )
    print(
        f"latency per series lookup: warm p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (cold, reading the company's facts and building its series: max {cold:.2f} s)"
    )
    if scaled:
        print(
            f"at {args.factor}x the catalog: warm p50 {scaled[0] * 1000:.0f} ms, p95 {scaled[1] * 1000:.0f} ms, cold max {scaled[2]:.2f} s"
        )


if __name__ == "__main__":
    main()
