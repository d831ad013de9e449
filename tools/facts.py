"""facts: statement line items and tagged XBRL figures of filings, ranked for a query, with every period lined up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated

from pydantic import Field

from corpus.models import Document
from tools.base import Citation
from tools.context import current
from tools.errors import ToolError
from tools.factrank import Period, Query, idf, parse_period, score, statement_key, words
from tools.outline import find_document
from tools.registry import tool

MAX_ITEMS = 5
MAX_PERIODS = 6
MAX_DOCS = 24  # filings one call may span (a company's 10-Ks and 10-Qs)
_SCALE_WORDS = {0: "", 3: " thousand", 6: " million", 9: " billion"}
_STATEMENT_KEYS = {"Income Statement", "Balance Sheet", "Cash Flows", "Comprehensive Income", "Equity"}


@dataclass(frozen=True)
class FactRow:
    doc_id: str
    label: str
    concept: str | None
    section: str | None
    period: Period | None
    span: str  # FY | Q | YTD | instant | ?
    period_label: str
    value: float | None
    unit: str | None
    scale: int
    printed: str
    page: int | None
    line: int | None
    dims: tuple[tuple[str, str], ...]
    original: bool  # the filing's own period (not a comparative column)


@dataclass
class LineItem:
    label: str
    concept: str | None
    section: str | None
    dims: tuple[tuple[str, str], ...]
    rows: list[FactRow] = field(default_factory=list)
    score: float = 0.0
    label_words: list[str] = field(default_factory=list)
    concept_words: list[str] = field(default_factory=list)
    periods: set = field(default_factory=set)

    def by_period(self) -> list[tuple[str, FactRow]]:
        """One fact per period, newest first: the filing's own period before a later filing's comparative column."""
        best: dict[str, FactRow] = {}
        for row in self.rows:
            key = _period_key(row)
            held = best.get(key)
            if held is None or _prefer(row, held):
                best[key] = row
        return sorted(best.items(), key=lambda kv: (kv[1].period.year if kv[1].period else 0, kv[1].period.quarter or 5 if kv[1].period else 0), reverse=True)


def _period_key(row: FactRow) -> str:
    if row.period is None:
        return row.period_label
    suffix = {"FY": "", "Q": "", "YTD": " year to date", "instant": " end"}.get(row.span, f" ({row.span})")
    return f"{row.period}{suffix}"


def _prefer(row: FactRow, held: FactRow) -> bool:
    if (row.section in _STATEMENT_KEYS) != (held.section in _STATEMENT_KEYS):
        return row.section in _STATEMENT_KEYS
    return row.original and not held.original


@dataclass
class FactsResult:
    """Line items matching a query, each with its periods' values and where they are printed."""

    query: str
    scope: str
    items: list[LineItem]
    period: Period | None
    notes: list[str]

    def render(self) -> str:
        head = f"{len(self.items)} line items for {self.query!r} in {self.scope}" + (f", period {self.period}" if self.period else "")
        lines = [head] + [f"note: {n}" for n in self.notes]
        for rank, item in enumerate(self.items, 1):
            dims = "; ".join(f"{a.rsplit(':', 1)[-1]}={m.rsplit(':', 1)[-1]}" for a, m in item.dims)
            first = item.rows[0]
            unit = (first.unit or "") + _SCALE_WORDS.get(first.scale, f" x10^{first.scale}")
            meta = " | ".join(x for x in (item.section or "(no section)", item.concept, dims and f"[{dims}]", unit.strip() and f"in {unit.strip()}") if x)
            lines.append(f"\n[{rank}] {item.label} | {meta}")
            for key, row in self._periods(item):
                where = f"{row.doc_id} p.{row.page}" + (f" line {row.line}" if row.line else "") if row.page else f"{row.doc_id} (not printed: hidden XBRL fact)"
                shown = _number(row)
                lines.append(f"  {key}: {row.printed or 'nil'}{'' if shown == row.printed else f' (= {shown})'} — {row.period_label} — {where}")
            if cite := _citation(self._periods(item)[0][1], item.label):
                lines.append(f"  cite: {cite}")
        lines.append(
            "\nCite a figure as its cite: line shows (doc_id, page, and a quote of the row label and figure as printed); "
            "confirm it with read(doc_id=..., pages=...) when the label or column is in doubt."
        )
        return "\n".join(lines)

    def _periods(self, item: LineItem) -> list[tuple[str, FactRow]]:
        periods = item.by_period()
        if self.period is not None:
            periods.sort(key=lambda kv: kv[1].period != self.period)
        return periods[:MAX_PERIODS]

    def citations(self) -> list[Citation]:
        out = []
        for item in self.items:
            for _key, row in self._periods(item):
                if row.page:
                    out.append(Citation(row.doc_id, row.page, row.line))
        return out


def _citation(row: FactRow, label: str) -> str | None:
    """A citation of the row's first figure ready to copy: the quote is the label and figure as printed on its page."""
    if not row.page or not row.printed:
        return None
    shown = label if len(label) <= 90 else f"{label[:80].rstrip()} …"
    return f'doc_id="{row.doc_id}", page={row.page}, quote="{shown} {row.printed}"'


def _number(row: FactRow) -> str:
    if row.value is None:
        return "nil"
    shown = row.value / (10**row.scale) if row.scale else row.value
    text = f"{shown:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{_SCALE_WORDS.get(row.scale, '')}" + (f" {row.unit}" if row.unit else "")


@tool
def facts(
    query: Annotated[str, Field(description="The line item in plain words, e.g. 'capital expenditure', 'total revenue', 'inventory', 'diluted EPS', 'operating cash flow'.")],
    doc_id: Annotated[str | None, Field(description="Exact doc_id of one filing, e.g. '3M_2018_10K'.")] = None,
    company: Annotated[str | None, Field(description="All filings of a company (name or ticker); periods are lined up across them.")] = None,
    period: Annotated[str | None, Field(description="Fiscal period wanted: 'FY2018', '2018', 'Q2 2025'. Omit for every period shown.")] = None,
    statement: Annotated[str | None, Field(description="Only this statement or note: 'Income Statement', 'Balance Sheet', 'Cash Flows', 'Note 12'.")] = None,
) -> FactsResult:
    """Figures from the financial statements and tagged XBRL data as data: the best-matching line items, each with its value for every period, unit, and the page it is printed on. Fastest way to get a statement figure for a fiscal year; cite the page it gives (confirm with read when in doubt)."""
    context = current()
    query = " ".join(query.split())[:200]
    if not query:
        raise ToolError("query is empty; name the line item, e.g. facts(query='capital expenditure', doc_id=...).")
    notes: list[str] = []
    docs = _documents(doc_id, company, notes)
    wanted = parse_period(period) if period and period.strip() else None
    if period and period.strip() and wanted is None:
        raise ToolError(f"period={period!r} is not a fiscal period; write it like 'FY2018', '2018' or 'Q2 2025'.")
    scope = docs[0].id if len(docs) == 1 else f"{len(docs)} filings of {docs[0].company or company}"
    items, weights, rows = _prepared(context, docs)
    if not rows:
        raise ToolError(
            f"No facts were extracted from {scope} (no XBRL and no statement table could be read); "
            f"find the figure with grep(pattern=..., doc_ids=['{docs[0].id}']) or read(doc_id='{docs[0].id}', section='Cash Flows')."
        )
    if statement and statement.strip():
        key = statement_key(statement)
        kept = [r for r in rows if r.section and (r.section == key or r.section.lower() == statement.strip().lower())]
        if not kept:
            sections = sorted({r.section for r in rows if r.section})
            raise ToolError(f"No facts in statement {statement!r} of {scope}; facts are in: {', '.join(sections[:20])}.")
        items = _line_items(kept)
    if wanted is not None:
        covered = sorted({str(r.period) for r in rows if r.period}, reverse=True)
        items = [i for i in items if wanted in i.periods]
        if not items:
            raise ToolError(f"{scope} has no figures for {wanted}; the periods it covers: {', '.join(covered[:12]) or 'none that could be read'}.")
    ranked = _rank(Query.of(query), items, weights)
    if not ranked:
        labels = _common_labels(items)
        raise ToolError(f"No line item in {scope} matches {query!r}. Line items there include: {'; '.join(labels)}. Try one of these words.")
    if any(r.period is None for i in ranked[:MAX_ITEMS] for r in i.rows):
        notes.append("some columns' periods could not be read from the table header; they are shown as 'period unknown'")
    return FactsResult(query, scope, ranked[:MAX_ITEMS], wanted, notes)


def _documents(doc_id: str | None, company: str | None, notes: list[str]) -> list[Document]:
    context = current()
    if doc_id and doc_id.strip():
        doc, note = find_document(doc_id.strip(), hint="Find it with list_documents(company=...).")
        if note:
            notes.append(note)
        return [doc]
    if company and company.strip():
        docs = list(context.corpus.list(company=company.strip()))
        if not docs:
            names = sorted({c.name for c in context.corpus.companies()})
            raise ToolError(f"No filings of {company!r} in the corpus. Companies covered: {', '.join(names[:40])}.")
        if len(docs) > MAX_DOCS:
            notes.append(f"{len(docs)} filings match company={company!r}; the newest {MAX_DOCS} are searched (give doc_id for an older one)")
        return docs[:MAX_DOCS]
    raise ToolError("Give doc_id (one filing) or company (all its filings), e.g. facts(query='total revenue', company='3M', period='FY2018').")


def _prepared(context, docs: list[Document]) -> tuple[list[LineItem], dict[str, float], list[FactRow]]:  # noqa: ANN001
    """Line items of these documents with their words and word weights, built once per set of documents."""
    key = ("items", tuple((d.id, d.ingested_at) for d in docs))
    cache = context.facts_cache
    if key not in cache:
        rows = [r for d in docs for r in _rows(context, d)]
        items = _line_items(rows)
        weights = idf([set(i.label_words) | set(i.concept_words) for i in items])
        while len(cache) >= 64:
            cache.pop(next(iter(cache)))
        cache[key] = (items, weights, rows)
    return cache[key]


def _rows(context, doc: Document) -> list[FactRow]:  # noqa: ANN001
    """The document's facts with their fiscal periods, cached on the tool context."""
    key = (doc.id, doc.ingested_at)
    cache = context.facts_cache
    if key in cache:
        return cache[key]
    out = []
    for f in context.corpus.facts([doc.id]):
        period, span, original = _period_of(f.period_start, f.period_end, f.fiscal_year, f.period_label or "", doc)
        out.append(
            FactRow(
                doc.id, f.label, f.concept, f.section, period, span, f.period_label or "period unknown", f.value, f.unit,
                f.scale, f.printed or "", f.page, f.line, tuple(sorted((f.dimensions or {}).items())), original,
            )  # fmt: skip
        )
    while len(cache) >= 64:
        cache.pop(next(iter(cache)))
    cache[key] = out
    return out


def _period_of(start: date | None, end: date | None, year: int | None, label: str, doc: Document) -> tuple[Period | None, str, bool]:
    """The fiscal period a fact covers: years from the fact's own dates (a comparative column stays its own year)."""
    quarter = int(doc.fiscal_period[1]) if doc.fiscal_period and doc.fiscal_period.startswith("Q") else None
    doc_end = doc.period_end_date
    if end is None:
        if year is None:
            return None, "?", False
        low = label.lower()
        if quarter and ("six" in low or "nine" in low or "twenty-six" in low or "thirty-nine" in low):
            return Period(year, quarter), "YTD", year == doc.fiscal_year
        return Period(year, quarter), ("Q" if quarter else "FY"), year == doc.fiscal_year
    months = round((end - start).days / 30.44) if start is not None and start != end else 0
    lag = _years_before(end, doc_end)
    if months == 0:
        if quarter and lag == 0:
            return Period(doc.fiscal_year, quarter), "instant", True
        if lag is not None and doc.fiscal_year and not quarter:
            return Period(doc.fiscal_year - lag), "instant", lag == 0
        return (Period(year), "instant", False) if year else (None, "?", False)
    if months >= 11:
        original = lag == 0 and not quarter
        return (Period(year), "FY", original) if year else (None, "?", False)
    if quarter and lag is not None and doc.fiscal_year:
        span = "Q" if months <= 4 else "YTD"
        return Period(doc.fiscal_year - lag, quarter), span, lag == 0
    return (Period(year), f"{months}M", False) if year else (None, "?", False)


def _years_before(end: date, doc_end: date | None) -> int | None:
    """0 when `end` is the filing's period end, 1 a year before, ...; None when it is neither (within ten days)."""
    if doc_end is None:
        return None
    for lag in range(0, 4):
        if abs((doc_end - timedelta(days=365 * lag) - end).days) <= 10:
            return lag
    return None


def _line_items(rows: list[FactRow]) -> list[LineItem]:
    """Facts grouped into line items: by XBRL concept and dimensions, else by printed label and statement."""
    items: dict[tuple, LineItem] = {}
    for row in rows:
        key = (row.concept, row.dims) if row.concept else (" ".join(words(row.label)), row.section, row.dims)
        item = items.get(key)
        if item is None:
            item = items[key] = LineItem(row.label, row.concept, row.section, row.dims)
        elif row.section in _STATEMENT_KEYS and item.section not in _STATEMENT_KEYS:
            item.label, item.section = row.label, row.section  # name it as the statement prints it
        item.rows.append(row)
        if row.period is not None:
            item.periods.add(row.period)
    for item in items.values():
        item.label_words = words(item.label)
        item.concept_words = words(item.concept.rsplit(":", 1)[-1]) if item.concept else []
    return list(items.values())


def _rank(query: Query, items: list[LineItem], weights: dict[str, float]) -> list[LineItem]:
    scored = []
    for item in items:
        named = any(set(words(m.rsplit(":", 1)[-1])) & set(query.terms) for _a, m in item.dims)
        value = score(query, item.label_words, item.concept_words, weights, 0 if named else len(item.dims), item.section in _STATEMENT_KEYS)
        if value > 0:
            scored.append((value, item))
    scored.sort(key=lambda pair: -pair[0])
    out = []
    for value, item in scored:
        item.score = value
        out.append(item)
    return out


def _common_labels(items: list[LineItem], n: int = 15) -> list[str]:
    statement = [i.label for i in items if i.section in _STATEMENT_KEYS and not i.dims]
    return sorted(set(statement or [i.label for i in items]), key=len)[:n]
