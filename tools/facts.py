"""facts: statement line items and tagged XBRL figures of filings as series, one value per fiscal period, each cited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field

from corpus.models import Document
from corpus.series import BASES, SCALE_WORDS, SELECTED_NAME, LineSeries, Point, Report, spelled, unit_words
from tools.base import Citation
from tools.company_series import PeriodRange, SeriesError, company_docs, figures, periods_shown
from tools.context import current
from tools.errors import ToolError
from tools.factrank import statement_key
from tools.outline import find_document
from tools.registry import tool

MAX_ITEMS = 5
FIRST_ITEM_PERIODS = 10  # periods shown for the best match when no period is asked; the rest are counted, never dropped silently
OTHER_ITEM_PERIODS = 4
_NAMED = re.compile(r"_((?:19|20)\d{2})(Q[1-4])?_", re.I)


@dataclass
class FactItem:
    """A matched line item: its series, the points shown for the period asked, and how many more there are."""

    series: LineSeries
    points: list[Point]
    more: list[Point]
    basis: str
    score: float = 0.0
    role: str = ""  # "" or "top line" (the revenue a profit or margin item comes with)

    @property
    def label(self) -> str:
        return self.series.label

    @property
    def section(self) -> str | None:
        return self.series.section

    @property
    def concept(self) -> str | None:
        return self.series.concept

    @property
    def dims(self) -> tuple[tuple[str, str], ...]:
        return self.series.dims

    def by_period(self) -> list[tuple[str, Report]]:
        """Every period of the series with the printing the basis picks, newest first (shown or not)."""
        return [(str(p.period), p.chosen(self.basis)) for p in self.series.ordered()]


@dataclass
class FactsResult:
    """Line items matching a query, each with its periods' values and where they are printed."""

    query: str
    scope: str
    items: list[FactItem]
    period: PeriodRange
    basis: str
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        asked = "" if self.period.everything else f", period {self.period.text}"
        head = f"{len(self.items)} line items for {self.query!r} in {self.scope}{asked}; restated periods show the {self.basis} printing"
        lines = [head] + [f"note: {n}" for n in self.notes]
        for rank, item in enumerate(self.items, 1):
            lines += _item_lines(rank, item, self.basis)
        lines.append(
            "\nCite a figure as its cite: line shows (doc_id, page, and a quote of the row label and figure as printed); "
            "confirm it with read(doc_id=..., pages=...) when the label or column is in doubt."
        )
        return "\n".join(lines)

    def citations(self) -> list[Citation]:
        return [Citation(r.doc_id, r.page, r.line) for i in self.items for p in i.points if (r := p.chosen(self.basis)).page]


def _item_lines(rank: int, item: FactItem, basis: str) -> list[str]:
    s = item.series
    dims = "; ".join(f"{a.rsplit(':', 1)[-1]}={m.rsplit(':', 1)[-1]}" for a, m in s.dims)
    role = f"{item.role}: " if item.role else ""
    meta = " | ".join(
        x for x in (s.section or "(no section)", s.concept, dims and f"[{dims}]", f"in {unit_words(s.unit, s.scale)}") if x
    )
    lines = [f"\n[{rank}] {role}{s.label} | {meta}"]
    lines += [f"  note: {j}" for j in s.joined]
    for point in item.points:
        r = point.chosen(basis)
        where = (
            (f"{SELECTED_NAME}, " if r.source == "selected" else "")
            + f"{r.doc_id} p.{r.page}"
            + (f" line {r.line}" if r.line else "")
            if r.page
            else f"{r.doc_id} (not printed: hidden XBRL fact)"
        )
        lines.append(
            f"  {point.period}: {r.printed or 'nil'} (= {spelled(r.value, s.unit, s.scale)}{_printed_in(r, s)}) — {r.period_label or 'period'} — {where}"
        )
        if point.restated:
            lines.append(f"    {_restatement(point, basis)}")
        if cite := _citation(r):
            lines.append(f"  cite: {cite}")
    if item.more:
        periods = [str(p.period) for p in item.more]
        example = periods[0].removesuffix(" YTD").removesuffix(" end")
        lines.append(
            f"  {len(periods)} more periods ({', '.join(periods[:6])}{', ...' if len(periods) > 6 else ''}); "
            f"narrow with period=, e.g. period='{example}', or period='all'"
        )
    return lines


def _restatement(point: Point, basis: str) -> str:
    """Every value the period was put on record with, each at the first filing that printed it; reprints counted apart."""
    changes = point.changes()
    first, rest = changes[0], changes[1:]
    text = f"restated: first reported {first.printed} in {first.doc_id} p.{first.page}"
    text += "".join(f"; restated {r.printed} in {r.doc_id} p.{r.page}" for r in rest)
    reprints = point.reports[next(i for i, r in enumerate(point.reports) if r is rest[-1]) + 1 :] if rest else []
    if reprints:
        text += f" (printed again in {', '.join(f'{r.doc_id} p.{r.page}' for r in reprints)})"
    shown = "first printing" if basis == "first" else "latest printing"
    return f"{text}; basis='{basis}' shows the {shown}"


def _printed_in(row: Report, series: LineSeries) -> str:
    if row.scale == series.scale or series.unit == "USD/shares":
        return ""
    return f"; printed in {SCALE_WORDS.get(row.scale) or 'units'}s" if row.scale else "; printed in units"


def _citation(row: Report) -> str | None:
    """A citation of the figure ready to copy: the quote is the row label and figure as printed on its page."""
    if not row.page or not row.printed:
        return None
    shown = row.label if len(row.label) <= 90 else f"{row.label[:80].rstrip()} …"
    return f'doc_id="{row.doc_id}", page={row.page}, quote="{shown} {row.printed}"'


@tool
def facts(
    query: Annotated[
        str,
        Field(
            description="The line item in plain words, e.g. 'capital expenditure', 'total revenue', 'inventory', 'diluted EPS', 'operating cash flow'."
        ),
    ],
    doc_id: Annotated[str | None, Field(description="Exact doc_id of one filing, e.g. '3M_2018_10K'.")] = None,
    company: Annotated[
        str | None, Field(description="All filings of a company (name or ticker); periods are lined up across them.")
    ] = None,
    period: Annotated[
        str | None, Field(description="'FY2018', 'Q2 2025', 'FY2016-FY2022' or 'all'; omit for the newest.")
    ] = None,
    statement: Annotated[
        str | None,
        Field(description="Only this statement or note: 'Income Statement', 'Balance Sheet', 'Cash Flows', 'Note 12'."),
    ] = None,
    basis: Annotated[str, Field(description="Restated periods: 'latest' or 'first' reported.")] = "latest",
) -> FactsResult:
    """Figures from the financial statements and tagged XBRL data: the best-matching line items, each with its value for every fiscal period (restatements marked), unit, and the page it is printed on. Fastest way to get a statement figure for a fiscal year or a trend; cite the page it gives."""
    context = current()
    query = " ".join(query.split())[:200]
    if not query:
        raise ToolError("query is empty; name the line item, e.g. facts(query='capital expenditure', doc_id=...).")
    if basis not in BASES:
        raise ToolError(f"basis={basis!r} is not one of {', '.join(BASES)}.")
    notes: list[str] = []
    docs = _documents(doc_id, company, notes)
    try:
        wanted = PeriodRange.parse(period)
    except SeriesError as exc:
        raise ToolError(str(exc).replace("is not a fiscal period; write", "is not a fiscal period; write it like")) from None
    scope = docs[0].id if len(docs) == 1 else f"{len(docs)} filings of {docs[0].company or company}"
    book = figures(context.corpus, docs, company or docs[0].id)
    if not book.items:
        raise ToolError(
            f"No facts were extracted from {scope} (no XBRL and no statement table could be read); "
            f"find the figure with grep(pattern=..., doc_ids=['{docs[0].id}']) or read(doc_id='{docs[0].id}', section='Cash Flows')."
        )
    section = statement_key(statement) if statement and statement.strip() else None
    if section and not any(i.section == section or (i.section or "").lower() == statement.strip().lower() for i in book.items):
        sections = sorted({i.section for i in book.items if i.section})
        raise ToolError(f"No facts in statement {statement!r} of {scope}; facts are in: {', '.join(sections[:20])}.")
    ranked = book.rank(query, section)
    if not ranked:
        raise ToolError(
            f"No line item in {scope} matches {query!r}. Line items there include: {'; '.join(book.closest(query))}. Try one of these words."
        )
    if not wanted.everything:
        held = [(s, i) for s, i in ranked if any(wanted.holds(p) for p in i.points)]
        if not held:
            periods = sorted({str(p) for _s, i in ranked[:MAX_ITEMS] for p in i.points if p.annual}, reverse=True)
            raise ToolError(
                f"{scope} has no figures for {wanted.text}; the periods it covers: {', '.join(periods[:12]) or 'none that could be read'}."
            )
        ranked = held
    items = _distinct([(value, book.joined(item)) for value, item in ranked[: 2 * MAX_ITEMS]])
    items = [_shown(series, wanted, basis, rank == 0, value) for rank, (value, series) in enumerate(items[:MAX_ITEMS])]
    if (top := book.top_line(items[0].series)) is not None and all(i.series.key != top.key for i in items):
        items.append(_shown(top, wanted, basis, False, 0.0, role="top line"))
    notes += _name_notes(docs, items)
    return FactsResult(query, scope, items, wanted, basis, notes)


def _distinct(ranked: list[tuple[float, LineSeries]]) -> list[tuple[float, LineSeries]]:
    """Joined series, each once: a line item joined into a better-ranked one (a renamed label) is not shown again."""
    out: list[tuple[float, LineSeries]] = []
    for value, series in ranked:
        keys = {series.key, *series.members}
        if not any(keys & {s.key, *s.members} for _v, s in out):
            out.append((value, series))
    return out


def _shown(series: LineSeries, wanted: PeriodRange, basis: str, first: bool, value: float, role: str = "") -> FactItem:
    points = periods_shown(series, wanted)
    # The best match shows every period asked for; the others, and an unasked best match, a few (the rest counted below).
    cap = (
        len(points)
        if wanted.asked and (first or wanted.first == wanted.last)
        else (FIRST_ITEM_PERIODS if first else OTHER_ITEM_PERIODS)
    )
    return FactItem(series, points[:cap], points[cap:], basis, value, role)


def _name_notes(docs: list[Document], items: list[FactItem]) -> list[str]:
    """A filing whose doc_id names another period than the filing covers ('ADOBE_2022Q2_10Q' is FY2023 Q2)."""
    shown = {p.chosen(i.basis).doc_id for i in items for p in i.points}
    out = []
    for d in docs:
        m = _NAMED.search(f"_{d.id}_")
        if d.id not in shown or m is None or d.fiscal_year is None:
            continue
        named_q = (m.group(2) or "").upper()
        own_q = d.fiscal_period if (d.fiscal_period or "").startswith("Q") else ""
        if int(m.group(1)) != d.fiscal_year or (named_q and own_q and named_q != own_q):
            out.append(
                f"{d.id} covers FY{d.fiscal_year}{' ' + own_q if own_q else ''} (period ended {d.period_end_date}), "
                "whatever its name says; periods here follow the filing's own fiscal calendar"
            )
    return out


def _documents(doc_id: str | None, company: str | None, notes: list[str]) -> list[Document]:
    context = current()
    if doc_id and doc_id.strip():
        doc, note = find_document(doc_id.strip(), hint="Find it with list_documents(company=...).")
        if note:
            notes.append(note)
        return [doc]
    if company and company.strip():
        try:
            return company_docs(context.corpus, company)
        except SeriesError as exc:
            names = sorted({c.name for c in context.corpus.companies()})
            raise ToolError(f"No filings of {company!r} in the corpus. Companies covered: {', '.join(names[:40])}.") from exc
    raise ToolError(
        "Give doc_id (one filing) or company (all its filings), e.g. facts(query='total revenue', company='3M', period='FY2018')."
    )
