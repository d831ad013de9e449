"""One line item of a company as a table of cited points (the API's and CLI's series), and a company's standard line items."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from corpus.catalog import Corpus
from corpus.series import BASES, SELECTED_NAME, LineSeries, Point, spelled, unit_words
from tools.company_series import CompanyFigures, PeriodRange, SeriesError, company_docs, covered, figures, periods_shown
from tools.factrank import statement_key

MAX_ITEM_CHARS = 200
# The line items a company page shows first: (key, name, query, statement).
STANDARD_ITEMS = (
    ("revenue", "Revenue", "total revenue net sales", "Income Statement"),
    ("operating_income", "Operating income", "operating income", "Income Statement"),
    ("net_income", "Net income", "net income", "Income Statement"),
    ("eps", "Diluted EPS", "diluted earnings per share", "Income Statement"),
    ("operating_cash_flow", "Operating cash flow", "net cash provided by operating activities", "Cash Flows"),
    ("capex", "Capital expenditure", "capital expenditure purchases of property plant and equipment", "Cash Flows"),
    ("total_assets", "Total assets", "total assets", "Balance Sheet"),
    ("total_debt", "Total debt", "long-term debt", "Balance Sheet"),
    ("cash", "Cash and cash equivalents", "cash and cash equivalents", "Balance Sheet"),
)
EXPORT_COLUMNS = (
    "company",
    "line_item",
    "period",
    "fiscal_year",
    "fiscal_quarter",
    "span",
    "value",
    "unit",
    "doc_id",
    "accession",
    "page",
    "line",
    "label_as_printed",
    "value_as_printed",
    "printed_scale",
    "column_as_printed",
    "restated",
    "first_reported_value",
    "first_reported_doc_id",
    "first_reported_page",
    "restated_value",
    "restated_doc_id",
    "restated_page",
)


@dataclass
class SeriesTable:
    """A line item's points for the periods asked, each with its printing(s); plus what else matched and what exists."""

    company: str
    query: str
    series: LineSeries
    points: list[Point]
    period: PeriodRange
    basis: str
    alternatives: list[str] = field(default_factory=list)  # other line items that matched, best first
    notes: list[str] = field(default_factory=list)

    @property
    def unit_label(self) -> str:
        return unit_words(self.series.unit, self.series.scale)

    def export_rows(self) -> Iterator[tuple]:
        """One row per point in EXPORT_COLUMNS order (yielded one at a time): the value in full units and its source as printed."""
        for p in self.points:
            r, first, last = p.chosen(self.basis), p.first, p.restating
            restated = p.restated
            yield (
                self.company,
                self.series.label,
                str(p.period),
                p.period.year,
                p.period.quarter,
                p.period.span,
                r.value,
                self.series.unit,
                r.doc_id,
                r.accession,
                r.page,
                r.line,
                r.label,
                r.printed,
                r.scale,
                r.period_label,
                restated,
                first.value if restated else None,
                first.doc_id if restated else None,
                first.page if restated else None,
                last.value if restated else None,
                last.doc_id if restated else None,
                last.page if restated else None,
            )

    def render(self) -> str:
        """The series as text: one line per period with its value, printed figure and page."""
        s = self.series
        head = [
            f"{self.company}: {s.label} ({s.section or 'no section'}; in {self.unit_label}; {len(self.points)} periods, "
            f"{self.period.text}; restated periods: {self.basis} printing)"
        ]
        head += [f"note: {n}" for n in self.notes + s.joined]
        if self.alternatives:
            head.append(f"other matches: {'; '.join(self.alternatives[:5])}")
        rows = []
        for p in self.points:
            r = p.chosen(self.basis)
            mark = (
                f"  restated (first reported {p.first.printed} in {p.first.doc_id} p.{p.first.page}; "
                f"restated {p.restating.printed} in {p.restating.doc_id} p.{p.restating.page})"
                if p.restated
                else ""
            )
            where = f"{r.doc_id} p.{r.page}" + (f" ({SELECTED_NAME})" if r.source == "selected" else "")
            rows.append(f"{str(p.period):<14} {spelled(r.value, s.unit, s.scale):>26}   {r.printed:>14}  {where}{mark}")
        return "\n".join(head + rows)


def lookup(
    corpus: Corpus, company: str, item: str, period: str | None = None, basis: str = "latest", statement: str | None = None
) -> SeriesTable:
    """The best-matching line item of a company as a series; SeriesError naming close companies, items or periods."""
    query = " ".join((item or "").split())
    if not query:
        raise SeriesError("item is empty; name a line item, e.g. 'capital expenditure' or 'total revenue'")
    if len(query) > MAX_ITEM_CHARS:
        raise SeriesError(f"item is {len(query)} characters; name the line item in at most {MAX_ITEM_CHARS}")
    if basis not in BASES:
        raise SeriesError(f"basis={basis!r} is not one of {', '.join(BASES)}")
    wanted = PeriodRange.parse(period)
    book = company_figures(corpus, company)
    ranked = book.rank(query, statement_key(statement) if statement and statement.strip() else None)
    if not ranked:
        raise SeriesError(f"No line item of {book.company} matches {query!r}; closest: {'; '.join(book.closest(query))}")
    best = book.joined(ranked[0][1])
    points = periods_shown(best, wanted)
    if not points:
        raise SeriesError(
            f"{book.company}'s {best.label!r} has no figures for {wanted.text}; the periods it has: {covered(best)}"
        )
    points.sort(key=lambda p: p.period.sort_key)
    others = [(s, i) for s, i in ranked[1:] if i.key not in best.members][:5]  # not the labels joined into it
    alternatives = [f"{i.label} ({i.section or 'no section'}, {i.unit})" for _s, i in others]
    notes = [
        f"also reported in {i.unit}: shown apart, never summed"
        for _s, i in others
        if i.label == best.label and i.unit != best.unit
    ]
    return SeriesTable(book.company, query, best, points, wanted, basis, alternatives, notes)


def company_figures(corpus: Corpus, company: str) -> CompanyFigures:
    docs = company_docs(corpus, company)
    names = sorted({d.company for d in docs if d.company})
    if len(names) > 1:
        exact = [n for n in names if n.lower() == company.strip().lower()]
        # 'Acme' matching 'Acme Corp' and 'Acme Corp Holdings': the name every other one extends is the one meant.
        stem = [n for n in names if all(m.startswith(n) for m in names)]
        chosen = (exact or stem or [None])[0]
        if chosen is None:
            raise SeriesError(f"{company!r} names several companies: {', '.join(names[:10])}; name one")
        docs = [d for d in docs if d.company == chosen]
    return figures(corpus, docs, company)


def standard_tables(corpus: Corpus, company: str, period: str | None = None) -> list[tuple[str, str, SeriesTable | None, str]]:
    """The company page's line items: (key, name, the series or None, why it is missing)."""
    PeriodRange.parse(period)  # a bad period is the caller's error, not nine missing items
    company_figures(corpus, company)
    out = []
    for key, name, query, statement in STANDARD_ITEMS:
        try:
            table = lookup(corpus, company, query, period, statement=statement)
        except SeriesError as exc:
            out.append((key, name, None, str(exc)))
            continue
        only_annual = [p for p in table.points if p.period.annual]
        table.points = only_annual or table.points  # sparklines are years; the full chart has the quarters
        out.append((key, name, table, ""))
    return out
