"""EDGAR's own metadata, parsed: the ticker list, a company's submissions JSON, a filing's index page. Pure functions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

FORMS = ("10-K", "10-Q", "8-K")
EARNINGS_ITEM = "2.02"  # 8-K item "Results of Operations and Financial Condition": the release is its EX-99.1
_EX991 = re.compile(r"^EX-99(\.0?1)?$", re.I)
_DOC_SUFFIXES = (".htm", ".html", ".txt", ".pdf")


@dataclass(frozen=True)
class Company:
    cik: str  # 10 digits, zero-padded
    name: str
    ticker: str | None


@dataclass(frozen=True)
class Filing:
    """One entry of the submissions JSON."""

    accession: str  # 0001018724-24-000008
    form: str
    filing_date: date
    report_date: date | None  # period of report
    primary_document: str
    items: str = ""

    @property
    def year(self) -> int:
        """The year a user means by `--years`: that of the period of report (the filing date when there is none)."""
        return (self.report_date or self.filing_date).year

    @property
    def is_earnings_release(self) -> bool:
        return self.form == "8-K" and EARNINGS_ITEM in self.items.split(",")


@dataclass(frozen=True)
class Ticker:
    ticker: str
    cik: str
    title: str


def cik10(value: str | int) -> str:
    return str(int(value)).zfill(10)


def parse_tickers(data: Any) -> dict[str, Ticker]:
    """company_tickers.json ({"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, ...}) by upper-case ticker."""
    out: dict[str, Ticker] = {}
    rows = data.values() if isinstance(data, dict) else []
    for row in rows:
        try:
            ticker = str(row["ticker"]).upper()
            out.setdefault(ticker, Ticker(ticker, cik10(row["cik_str"]), str(row.get("title", ""))))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def suggest_tickers(query: str, tickers: dict[str, Ticker], n: int = 5) -> list[str]:
    """Close tickers, and tickers of companies whose name starts like the query ('AMAZON' -> AMZN)."""
    query = query.strip().upper()
    close = difflib.get_close_matches(query, list(tickers), n=n, cutoff=0.6)
    by_name = [t.ticker for t in tickers.values() if len(query) >= 3 and t.title.upper().startswith(query)]
    seen: list[str] = []
    for ticker in close + by_name:
        if ticker not in seen:
            seen.append(ticker)
    return [f"{t} ({tickers[t].title})" for t in seen[:n]]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def parse_filings(columns: Any) -> list[Filing]:
    """The column-wise arrays of `filings.recent` (or of an older page) as Filing rows; malformed rows are left out."""
    if not isinstance(columns, dict):
        return []
    out: list[Filing] = []
    names = ("accessionNumber", "form", "filingDate", "reportDate", "primaryDocument", "items")
    cols = [columns.get(n) or [] for n in names]
    for accession, form, filed, reported, primary, items in zip(*cols[:5], cols[5] or [""] * len(cols[0]), strict=False):
        filing_date = _date(filed)
        if (
            not accession
            or not form
            or filing_date is None
            or not primary
            or not re.fullmatch(r"\d{10}-\d{2}-\d{6}", str(accession))
        ):
            continue
        out.append(Filing(str(accession), str(form), filing_date, _date(reported), str(primary), str(items or "")))
    return out


def parse_submissions(data: Any) -> tuple[Company, list[Filing], list[dict[str, str]]]:
    """The company, its recent filings, and the older pages (`filings.files`: name, filingFrom, filingTo)."""
    tickers = data.get("tickers") or []
    company = Company(cik10(data["cik"]), str(data.get("name") or ""), str(tickers[0]).upper() if tickers else None)
    filings = data.get("filings") or {}
    pages = [
        f
        for f in filings.get("files") or []
        if isinstance(f, dict) and re.fullmatch(r"CIK\d{10}-submissions-\d{3}\.json", str(f.get("name", "")))
    ]
    return company, parse_filings(filings.get("recent")), pages


def page_overlaps(page: dict[str, str], years: range) -> bool:
    """Whether an older submissions page can hold filings for `years` (a 10-K for year Y is filed in Y or Y+1)."""
    start, end = _date(page.get("filingFrom")), _date(page.get("filingTo"))
    if start is None or end is None:
        return True
    return start.year <= years.stop and end.year >= years.start


def select(filings: list[Filing], forms: list[str], years: range) -> list[Filing]:
    """Filings of these forms (amendments left out) whose period of report falls in `years`, oldest first."""
    chosen = {f.accession: f for f in filings if f.form in forms and f.year in years}
    return sorted(chosen.values(), key=lambda f: (f.report_date or f.filing_date, f.filing_date, f.accession))


def missing(filings: list[Filing], chosen: list[Filing], forms: list[str], years: range) -> list[str]:
    """'10-Q 2024'-style notes for each requested (form, year) with no filing, with the years the form does have."""
    have = {(f.form, f.year) for f in chosen}
    notes = []
    for form in forms:
        absent = [y for y in years if (form, y) not in have]
        if not absent:
            continue
        spans = sorted({f.year for f in filings if f.form == form})
        where = f"its {form} filings cover {spans[0]}-{spans[-1]}" if spans else f"it has no {form} filings on EDGAR"
        notes.append(f"no {form} with a period of report in {_years_text(absent)} ({where})")
    return notes


def _years_text(years: list[int]) -> str:
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(map(str, years))


def exhibit_991(index_html: str) -> str | None:
    """The EX-99.1 document's path in a filing index page (`<accession>-index.htm`), or None."""
    from lxml import html

    try:
        tree = html.fromstring(index_html)
    except (ValueError, html.etree.ParserError):
        return None
    for row in tree.iter("tr"):
        cells = row.findall("td")
        if len(cells) < 4:
            continue
        kind = cells[3].text_content().strip()
        if not _EX991.match(kind):
            continue
        for link in cells[2].iter("a"):
            href = (link.get("href") or "").strip()
            href = href.removeprefix("/ix?doc=")
            if href.lower().endswith(_DOC_SUFFIXES):
                return href
    return None
