"""A company's line items through time: one value per fiscal period across all its filings, restatements kept."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from corpus.fiscal import FilingPeriod, FiscalPeriod, column_period, dated_period
from corpus.models import Document, Fact
from corpus.statements import SELECTED_SECTION

SELECTED_NAME = "Item 6 Selected Financial Data"  # how a point read from a selected-data table is cited
BASES = ("latest", "first")  # which printing of a restated period a series uses
STATEMENTS = ("Income Statement", "Balance Sheet", "Cash Flows", "Comprehensive Income", "Equity")
_LEADERS = re.compile(r"(?:\s*[.\u2026]){2,}\s*$|\s*[.\u2026]{2,}")
_WORD = re.compile(r"[a-z0-9]+")
_PER_SHARE = re.compile(r"per\s+(?:common\s+)?share|per\s+unit", re.I)
_SHARES = re.compile(r"\bshares\b|\bweighted[- ]average\b.*\bshares?\b", re.I)
_AT_DATE = re.compile(r"^(?:at|as\s+of)\s", re.I)  # a note's "At December 31, | 2021 | 2020": year-end balances
_CURRENCIES = {"USD", "EUR", "GBP", "JPY", "CAD", "CHF", "CNY", "INR", "AUD"}
_SIGN_WORDS = re.compile(
    r"\(?\b(?:provided\s+by|provided\s+from|used\s+in|used\s+for|used\s+by)\b\)?|\((?:losses|loss|gains?|deficit|income|expenses?)\)",
    re.I,
)
MIN_AGREEING = 2  # periods two differently named line items must agree on to be joined
SCALE_WORDS = {0: "", 3: "thousand", 6: "million", 9: "billion"}


@dataclass(frozen=True)
class Report:
    """One printing of a figure: the filing, its page, the row label and the figure as printed."""

    doc_id: str
    accession: str | None
    filing_end: date | None  # the filing's own period end: later filings restate earlier ones
    page: int | None
    line: int | None
    label: str
    printed: str
    value: float  # full units: scale and sign applied
    scale: int  # the power of ten the figure is printed in
    source: str  # table | ixbrl | xbrl | selected (Item 6 "Selected Financial Data")
    period_label: str  # the column header as printed


@dataclass
class Point:
    """A period's value: every printing of it, oldest filing first; restated when a later filing prints another value."""

    period: FiscalPeriod
    reports: list[Report]

    @property
    def first(self) -> Report:
        return self.reports[0]

    @property
    def latest(self) -> Report:
        return self.reports[-1]

    @property
    def restated(self) -> bool:
        """A later filing printed a value that differs beyond the rounding of the coarser printing."""
        return any(not _agree(a, b) for a in self.reports for b in self.reports)

    def changes(self) -> list[Report]:
        """The printings that put a value on record: the first, then each filing whose value differs from the one before."""
        out = self.reports[:1]
        for before, report in zip(self.reports, self.reports[1:]):
            if not _agree(before, report):
                out.append(report)
        return out

    @property
    def restating(self) -> Report:
        """The filing that first printed the value as it stands now (the latest printing's): the restating filing when
        restated. Later filings that print the same value again are reprints, not restatements."""
        return self.changes()[-1]

    def chosen(self, basis: str = "latest") -> Report:
        """The printing a series shows: the basis decides for a restated period; otherwise the first (the period's own filing)."""
        return self.latest if basis == "latest" and self.restated else self.first


@dataclass
class LineSeries:
    """One line item of a company: its printed labels, concept, statement, unit and its points by period."""

    key: tuple
    label: str
    section: str | None
    concept: str | None
    unit: str
    dims: tuple[tuple[str, str], ...]
    labels: list[str] = field(default_factory=list)  # every label it was printed under, newest filing first
    points: dict[FiscalPeriod, Point] = field(default_factory=dict)
    joined: list[str] = field(default_factory=list)  # why other labels were joined into this one
    members: list[tuple] = field(default_factory=list)  # the keys of the line items joined into this one

    def ordered(self) -> list[Point]:
        """Points newest first, the year's figure before its quarters."""
        return sorted(self.points.values(), key=lambda p: p.period.sort_key, reverse=True)

    @property
    def scale(self) -> int:
        """The scale most of its figures are printed in (stated once for the series)."""
        counts: dict[int, int] = defaultdict(int)
        for p in self.points.values():
            counts[p.latest.scale] += 1
        return max(counts, key=lambda s: (counts[s], s)) if counts else 0

    def filings(self) -> set[str]:
        return {r.doc_id for p in self.points.values() for r in p.reports}


def clean_label(label: str) -> str:
    """The row label without dot leaders ('Total revenue.......' -> 'Total revenue')."""
    return " ".join(_LEADERS.sub(" ", label).split()).rstrip(" :$")


@lru_cache(maxsize=65536)
def label_key(label: str) -> str:
    return " ".join(_WORD.findall(clean_label(label).lower()))


def unit_of(fact: Fact, doc: Document) -> str:
    """The fact's unit; statement tables carry none: per-share rows, share counts, else the filing's currency (USD for SEC filers)."""
    if fact.unit:
        return fact.unit.upper() if fact.unit.upper() in _CURRENCIES else fact.unit
    if _PER_SHARE.search(fact.label):
        return "USD/shares"
    if _SHARES.search(fact.label) and fact.scale == 0:
        return "shares"
    return "USD"


def is_note(section: str | None) -> bool:
    return bool(section) and section.startswith("Note ")


def company_series(
    docs: Sequence[Document], facts: Iterable[Fact], note_titles: Mapping[tuple[str, str], str] | None = None
) -> list[LineSeries]:
    """Every line item of these filings as a series; facts whose period cannot be placed are left out.

    Rows of a note's tables (statement tables of filings without XBRL) join across filings by the note's title in
    `note_titles` ((doc_id, section key) -> title: "Debt", whatever its number), else by its key ("Note 7"). A label
    one note of one filing prints on two rows with different figures for a period names no one line item: left out.
    """
    by_doc = {d.id: d for d in docs}
    rows = [f for f in facts if f.doc_id in by_doc and f.value is not None]
    own_years = _own_years(rows)
    # a note's tables are the filing's: its own year is its statements' (a maturities table heads columns with years to come)
    filing_years: dict[str, int] = {}
    for (doc_id, section), year in own_years.items():
        if section in STATEMENTS:
            filing_years[doc_id] = max(filing_years.get(doc_id, year), year)
    unclear = _unclear_rows(rows)
    columns = _columns(rows)
    statement_of = _statement_sections([f for f in rows if (by_doc[f.doc_id].form_type or "") in ("10-K", "10-Q")])
    items: dict[tuple, LineSeries] = {}
    rank = _filing_rank(docs)
    for f in rows:
        doc = by_doc[f.doc_id]
        section, source = f.section, f.source
        if section == SELECTED_SECTION:  # a selected-data row joins the statement line item printed under its label
            section, source = statement_of.get(label_key(f.label)), "selected"
            if section is None or f.dimensions:
                continue  # no statement prints it: which statement (a year's flow or a year-end balance) is not known
        if f.source == "table" and section in STATEMENTS and (f.doc_id, section, label_key(f.label)) in unclear:
            continue  # a label the statement prints on two rows with different figures names no one line item
        group = section
        own_year = own_years.get((f.doc_id, f.section))
        if f.source == "table" and is_note(section):
            own_year = filing_years.get(f.doc_id)
            if (f.doc_id, section, label_key(f.label)) in unclear or own_year is None or (f.fiscal_year or 0) > own_year:
                continue
            title = (note_titles or {}).get((f.doc_id, section))
            group = f"note: {label_key(title)}" if title else section
        period = fact_period(f, doc, own_year, columns.get(f.id, 0), section)
        if period is None:
            continue
        unit = unit_of(f, doc)
        dims = tuple(sorted((f.dimensions or {}).items()))
        key = (f.concept, dims, unit) if f.concept else (label_key(f.label), group, dims, unit)
        item = items.get(key)
        if item is None:
            item = items[key] = LineSeries(key, clean_label(f.label), section, f.concept, unit, dims)
        elif section in STATEMENTS and item.section not in STATEMENTS:
            item.label, item.section = clean_label(f.label), section  # named as the statement prints it
        elif group != section and rank[f.doc_id] > max(
            (rank[r.doc_id] for p in item.points.values() for r in p.reports), default=-1
        ):
            item.section = section  # a note joined by its title goes by the newest filing's number
        _add(item, period, _report(f, doc, source), rank)
    for item in items.values():
        item.labels = _labels(item, rank)
    return list(items.values())


def _filing_rank(docs: Sequence[Document]) -> dict[str, int]:
    """Filing order: period end, then the 10-K/10-Q before an earnings release of the same period (the audited printing)."""
    order = sorted(
        docs,
        key=lambda d: (
            d.period_end_date or date.min,
            (d.form_type or "") not in ("10-K", "10-Q"),
            d.filing_date or date.min,
            d.id,
        ),
    )
    return {d.id: i for i, d in enumerate(order)}


def _report(f: Fact, doc: Document, source: str) -> Report:
    return Report(
        f.doc_id,
        doc.accession,
        doc.period_end_date,
        f.page,
        f.line,
        clean_label(f.label),
        f.printed or "",
        f.value,
        f.scale or 0,
        source,
        f.period_label or "",
    )


def _add(item: LineSeries, period: FiscalPeriod, report: Report, rank: dict[str, int]) -> None:
    point = item.points.get(period)
    if point is None:
        item.points[period] = Point(period, [report])
        return
    same = next((i for i, r in enumerate(point.reports) if r.doc_id == report.doc_id), None)
    if same is not None:
        if point.reports[same].source == "selected" and report.source != "selected":
            point.reports[same] = report  # the statement's printing wins over the filing's selected-data table
        return  # printed twice in one filing (a statement and a note): the first printing stands
    point.reports.append(report)
    point.reports.sort(key=lambda r: rank[r.doc_id])


def _labels(item: LineSeries, rank: dict[str, int]) -> list[str]:
    seen: dict[str, int] = {}
    for p in item.points.values():
        for r in p.reports:
            seen[r.label] = max(seen.get(r.label, -1), rank[r.doc_id])
    return sorted(seen, key=lambda label: -seen[label])


def fact_period(f: Fact, doc: Document, own_year: int | None, column: int, section: str | None = None) -> FiscalPeriod | None:
    """The fiscal period of one fact, from its dates (XBRL) or its column's header year (statement tables).

    `section`: the statement the fact is read as (a selected-data row is read as the statement that prints its label).
    """
    section = section or f.section
    filing = FilingPeriod.of(doc.fiscal_year, doc.fiscal_period if (doc.form_type or "") != "10-K" else "FY", doc.period_end_date)
    if f.period_end is not None:
        return dated_period(filing, f.period_start, f.period_end, f.period_start is None)
    if f.fiscal_year is None or own_year is None:
        return None  # "period unknown": the header years could not be read
    balance = section == "Balance Sheet" or (is_note(section) and bool(_AT_DATE.match(f.period_label or "")))
    label = (
        "" if balance and f.section == SELECTED_SECTION else f.period_label or ""
    )  # a balance is a year-end, whatever heads its table
    return column_period(filing, f.fiscal_year, own_year, column, label, balance)


def _own_years(rows: list[Fact]) -> dict[tuple[str, str | None], int]:
    """Newest header year of each statement of each filing: the filing's own column."""
    out: dict[tuple[str, str | None], int] = {}
    for f in rows:
        if f.period_end is None and f.fiscal_year is not None:
            key = (f.doc_id, f.section)
            out[key] = max(out.get(key, f.fiscal_year), f.fiscal_year)
    return out


def _unclear_rows(rows: list[Fact]) -> set[tuple[str, str | None, str]]:
    """(doc_id, section, label key) of labels a note or statement prints with different figures for one period: a note's
    "Total" under two tables; an equity statement's "Comprehensive income" under retained earnings and again under
    noncontrolling interests. In a statement only figures on two printed rows count (one row may print shares and amounts)."""
    values: dict[tuple, set[float]] = defaultdict(set)
    at: dict[tuple, dict[float, set]] = defaultdict(lambda: defaultdict(set))
    for f in rows:
        if f.source != "table":
            continue
        key = (f.doc_id, f.section, label_key(f.label), f.period_label)
        if is_note(f.section):
            values[key].add(f.value)
        elif f.section in STATEMENTS:
            at[key][f.value].add(f.line)
    unclear = {key[:3] for key, seen in values.items() if len(seen) > 1}
    for key, lines_of in at.items():
        lines = {line for found in lines_of.values() for line in found}
        if len(lines_of) > 1 and len(lines) > 1:
            unclear.add(key[:3])
    return unclear


def _statement_sections(rows: list[Fact]) -> dict[str, str]:
    """Label key -> the primary statement a selected-data row of that label is read as (10-K and 10-Q rows without dimensions).

    The income statement first, then the balance sheet, then the others: "Net income" in the cash flow statement is
    the income statement's figure, and "Inventories" there is a change in the balance sheet's (selected data prints
    balances). A label one statement of one filing prints on two rows ("Basic" for earnings per share and for the
    share count) names no one line item: selected-data rows under it join nothing.
    """
    printed: dict[str, set[str]] = defaultdict(set)
    lines: dict[tuple, set] = defaultdict(set)
    for f in rows:
        if f.section in STATEMENTS and not f.dimensions:
            key = label_key(f.label)
            printed[key].add(f.section)
            lines[(key, f.section, f.doc_id)].add(f.line)
    ambiguous = {key for (key, _s, _d), at in lines.items() if len(at) > 1}
    return {k: min(found, key=STATEMENTS.index) for k, found in printed.items() if k not in ambiguous}


def _columns(rows: list[Fact]) -> dict[int, int]:
    """Position of each table fact in its printed row (facts are stored in column order)."""
    out: dict[int, int] = {}
    seen: dict[tuple[str, int | None], int] = defaultdict(int)
    for f in sorted((f for f in rows if f.source == "table"), key=lambda f: f.id or 0):
        key = (f.doc_id, f.line)
        out[f.id] = seen[key]
        seen[key] += 1
    return out


def join_renamed(item: LineSeries, others: Iterable[LineSeries]) -> LineSeries:
    """`item` with the rows of differently labelled line items of its statement that are the same figures under another name.

    Two labels are one line item when no filing prints both and every period they share, at least MIN_AGREEING of
    them, carries the same value ("Cost of goods sold" in the 2019 10-K and "Cost of sales" in the 2021 10-K both print
    FY2018 and FY2019 alike); a tagged XBRL concept joins the statement rows of filings without XBRL the same way. Labels
    that differ only in the words that follow the figures' sign ("Net cash provided by (used in) financing activities",
    "Net cash provided by financing activities") need one period that agrees: a period printed otherwise is a
    restatement, kept and marked.
    """
    merged = LineSeries(
        item.key,
        item.label,
        item.section,
        item.concept,
        item.unit,
        item.dims,
        list(item.labels),
        {k: Point(k, list(p.reports)) for k, p in item.points.items()},
        list(item.joined),
        list(item.members),
    )
    for other in others:
        if other is item or other.section != item.section or other.unit != item.unit or other.dims != item.dims:
            continue
        if item.concept and other.concept:
            continue  # two XBRL concepts are two line items
        if merged.filings() & other.filings():
            continue
        shared = set(merged.points) & set(other.points)
        agree = {p for p in shared if _same(merged.points[p].latest, other.points[p].latest)}
        named = {sign_free(x) for x in merged.labels} & {sign_free(x) for x in other.labels}
        # One name up to its sign words: a period printed otherwise is a restatement, marked as any other. Two names:
        # every period they share agrees, and at least two do (one equal figure can be a coincidence).
        if not agree or (not named and (agree != shared or len(agree) < MIN_AGREEING)):
            continue
        for period, point in other.points.items():
            held = merged.points.get(period)
            reports = (held.reports if held else []) + point.reports
            reports.sort(key=lambda r: (r.filing_end or date.min, r.doc_id))
            merged.points[period] = Point(period, reports)
        merged.labels += [lab for lab in other.labels if lab not in merged.labels]
        shown = ", ".join(sorted(str(p) for p in agree)[:3])
        why = "named alike but for the words of its sign" if named else "under another name"
        merged.joined.append(f"{other.label!r} joined: the same line item {why} (equal values for {shown})")
        merged.members.append(other.key)
    return merged


def _agree(a: Report, b: Report) -> bool:
    """Two printings of one value: equal within the rounding of the coarser one."""
    return abs(a.value - b.value) <= 0.5 * 10 ** max(a.scale, b.scale)


def sign_free(label: str) -> str:
    """The label's key without the words that only follow the figures' sign: "Net cash (used in) provided by operating
    activities" and "Net cash provided by operating activities" are one name; "Net income (loss)" and "Net income" too."""
    return label_key(_SIGN_WORDS.sub(" ", clean_label(label)))


def _same(a: Report, b: Report) -> bool:
    return abs(a.value - b.value) <= 0.5 * 10 ** max(a.scale, b.scale) and a.value != 0


def scaled(value: float, scale: int) -> str:
    """1469502000.0 at scale 6 -> '1,469.5'; at scale 3 -> '1,469,502'."""
    shown = value / 10**scale if scale else value
    return f"{shown:,.2f}".rstrip("0").rstrip(".") if shown % 1 else f"{shown:,.0f}"


def unit_words(unit: str, scale: int) -> str:
    """'USD', 6 -> 'USD million'; 'USD/shares', 0 -> 'USD per share'."""
    if unit == "USD/shares":
        return "USD per share"
    word = SCALE_WORDS.get(scale, f"x10^{scale}")
    return f"{unit} {word}".strip()


def spelled(value: float, unit: str, scale: int) -> str:
    """1469502000.0, 'USD', 6 -> '1,469.5 million USD'; 5.12, 'USD/shares', 0 -> '5.12 USD per share'."""
    if unit == "USD/shares":
        return f"{scaled(value, 0)} USD per share"
    word = SCALE_WORDS.get(scale, f"x10^{scale}")
    return " ".join(x for x in (scaled(value, scale), word, unit) if x)
