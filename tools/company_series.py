"""A company's line items as series, cached per set of filings, found by a plain-words query, cut to the periods asked."""

from __future__ import annotations

import difflib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from corpus.catalog import Corpus
from corpus.fiscal import FiscalPeriod
from corpus.models import Document, Fact, Section
from corpus.series import STATEMENTS, LineSeries, Point, company_series, is_note, join_renamed
from tools.factrank import Query, idf, parse_period, says, score, words

MAX_FILINGS = 400  # filings one series may span
MAX_COMPANIES_CACHED = 32
RELEVANCE_CUT = (
    0.7  # line items scoring under 70% of the best one are filler, not matches ("capital" in "Additional paid-in capital")
)
_RANGE = re.compile(r"^\s*(.+?)\s*(?:-|–|—|\.\.|\bto\b)\s*(.+?)\s*$", re.I)
_TOP_LINE = re.compile(r"^(?:total\s+)?(?:net\s+)?(?:revenues?|sales|net\s+sales|operating\s+revenues?)(?:\s*,\s*net)?$", re.I)
_MARGIN = re.compile(r"\b(?:profit|margin|income|earnings|ebit|ebitda)\b", re.I)


class SeriesError(ValueError):
    """A series request that cannot be met, with a message naming what exists (companies, items, periods)."""


@dataclass(frozen=True)
class PeriodRange:
    """Which periods a caller wants: one ('FY2018', 'Q2 2025'), a range of fiscal years ('FY2016-FY2022'), or all."""

    first: int | None = None
    last: int | None = None
    quarter: int | None = None
    text: str = "all"
    asked: bool = False  # the caller said which periods ('all' included); omitted, a tool shows the newest first, capped

    @classmethod
    def parse(cls, text: str | None) -> PeriodRange:
        t = " ".join((text or "").split())
        if not t or t.lower() in ("all", "*", "any"):
            return cls(asked=bool(t))
        if (one := parse_period(t)) is not None:
            return cls(one.year, one.year, one.quarter, str(one), True)
        if (m := _RANGE.match(t)) and (a := parse_period(m.group(1))) and (b := parse_period(m.group(2))):
            if a.quarter or b.quarter:
                raise SeriesError(f"period={text!r}: a range is of fiscal years, like 'FY2016-FY2022'")
            lo, hi = sorted((a.year, b.year))
            return cls(lo, hi, None, f"FY{lo}-FY{hi}", True)
        raise SeriesError(f"period={text!r} is not a fiscal period; write 'FY2018', 'Q2 2025', a range 'FY2016-FY2022', or 'all'")

    @property
    def everything(self) -> bool:
        return self.first is None

    def holds(self, period: FiscalPeriod) -> bool:
        if self.first is None:
            return True
        if not self.first <= period.year <= self.last:
            return False
        if self.quarter is not None:
            return period.quarter == self.quarter
        return self.first != self.last or period.quarter is None  # 'FY2018' is the year (and its end), not its quarters


@dataclass
class CompanyFigures:
    """All line items of a company's filings as series, with the word weights queries are ranked by."""

    company: str
    docs: list[Document]
    items: list[LineSeries]
    weights: dict[str, float]
    words: dict[int, tuple[list[str], list[str]]]  # id(item) -> label words, concept words

    def rank(self, query: str, section: str | None = None) -> list[tuple[float, LineSeries]]:
        """Line items matching `query`, best first, cut where the scores fall under half the best.

        A note's row whose label is exactly the query's words comes first when no statement line item says all of them:
        the vocabulary a query implies finds line items its words do not name ('total debt' implies long-term debt,
        short-term borrowings, current portion) and must not rank "Total long-term debt, including current maturities"
        above the debt note's own "Total debt".
        """
        q = Query.of(query)
        scored = []
        for item in self.items:
            if section and item.section != section and (item.section or "").lower() != section.lower():
                continue
            label_words, concept_words = self.words[id(item)]
            named = any(set(words(m.rsplit(":", 1)[-1])) & set(q.terms) for _a, m in item.dims)
            value = score(q, label_words, concept_words, self.weights, 0 if named else len(item.dims), item.section in STATEMENTS)
            value *= 1.0 + 0.02 * min(len(item.points), 20)  # a line item printed through many periods is the usual one
            if value > 0:
                scored.append((value, item, not item.dims and is_note(item.section) and says(q, label_words, only=True)))
        if any(i.section in STATEMENTS and says(q, self.words[id(i)][0]) for _v, i, _e in scored):
            scored = [(v, i, False) for v, i, _e in scored]  # a statement names it: the statements' ranking stands
        scored.sort(key=lambda row: (not row[2], -row[0]))
        if not scored:
            return []
        top, best, _exact = scored[0]
        # A segment's slice of the best line item (same concept) stays however low it scores.
        return [(s, i) for s, i, _e in scored if s >= RELEVANCE_CUT * top or (i.concept and i.concept == best.concept)]

    def joined(self, item: LineSeries) -> LineSeries:
        """The item with its renamed labels' series joined in (see corpus.series.join_renamed)."""
        return join_renamed(item, (i for i in self.items if i.section == item.section))

    def closest(self, query: str, n: int = 5) -> list[str]:
        """Statement line items whose label reads closest to `query`, for a 'no match' message."""
        labels = sorted({i.label for i in self.items if i.section in STATEMENTS and not i.dims})
        close = difflib.get_close_matches(query.lower(), [x.lower() for x in labels], n=n, cutoff=0.3)
        by_lower = {x.lower(): x for x in labels}
        return [by_lower[c] for c in close] or sorted(labels, key=len)[:n]

    def top_line(self, item: LineSeries) -> LineSeries | None:
        """For a profit or margin item: the revenue line of its statement (most periods), to compute margins against."""
        if not _MARGIN.search(item.label) or _TOP_LINE.match(item.label):
            return None
        lines = [
            i
            for i in self.items
            if i.section == "Income Statement" and not i.dims and _TOP_LINE.match(i.label) and i.unit == item.unit
        ]
        return max(lines, key=lambda i: len(i.points), default=None)


_cache: OrderedDict[tuple, CompanyFigures] = OrderedDict()
_lock = threading.Lock()


def company_docs(corpus: Corpus, company: str) -> list[Document]:
    """A company's filings (name, former name, ticker or CIK); SeriesError naming close companies when none."""
    name = " ".join(company.split())[:200]
    if not name:
        raise SeriesError("company is empty; name one, e.g. '3M' or 'ADBE'")
    docs = list(corpus.list(company=name, limit=MAX_FILINGS))
    if not docs:
        names = sorted({c.name for c in corpus.companies()})
        close = difflib.get_close_matches(name.lower(), [n.lower() for n in names], n=5, cutoff=0.3)
        shown = [n for n in names if n.lower() in close] or names[:20]
        raise SeriesError(
            f"No filings of {company!r} in the corpus; closest companies: {', '.join(shown) or 'none (the corpus is empty)'}"
        )
    return docs


def figures(corpus: Corpus, docs: Sequence[Document], company: str) -> CompanyFigures:
    """The line items of these filings, built once per set of filings (and their ingest times) and kept in memory."""
    key = (str(corpus.settings.data_dir), tuple(sorted((d.id, str(d.ingested_at)) for d in docs)))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    rows = _facts(corpus, [d.id for d in docs])
    items = company_series(list(docs), rows, _note_titles(corpus, [d.id for d in docs]))
    item_words = {id(i): (words(i.label), words(i.concept.rsplit(":", 1)[-1]) if i.concept else []) for i in items}
    weights = idf([set(lw) | set(cw) for lw, cw in item_words.values()])
    built = CompanyFigures(docs[0].company or company, list(docs), items, weights, item_words)
    with _lock:
        _cache[key] = built
        while len(_cache) > MAX_COMPANIES_CACHED:
            _cache.popitem(last=False)
    return built


def _facts(corpus: Corpus, doc_ids: list[str]) -> list:
    """Fact rows as plain tuples (no ORM objects: a company's filings hold tens of thousands of facts)."""
    table = Fact.__table__
    with corpus.engine.connect() as conn:
        out: list = []
        for start in range(0, len(doc_ids), 200):
            chunk = doc_ids[start : start + 200]
            out += conn.execute(select(table).where(table.c.doc_id.in_(chunk)).order_by(table.c.id)).all()
        return out


def _note_titles(corpus: Corpus, doc_ids: list[str]) -> dict[tuple[str, str], str]:
    """(doc_id, note key) -> the note's title ("Debt"): a note's rows join across filings by title, whatever its number."""
    table = Section.__table__
    out: dict[tuple[str, str], str] = {}
    with corpus.engine.connect() as conn:
        for start in range(0, len(doc_ids), 200):
            chunk = doc_ids[start : start + 200]
            query = select(table.c.doc_id, table.c.key, table.c.title).where(table.c.kind == "note", table.c.doc_id.in_(chunk))
            out.update({(doc_id, key): title for doc_id, key, title in conn.execute(query)})
    return out


def periods_shown(item: LineSeries, wanted: PeriodRange) -> list[Point]:
    """The item's points the caller asked for: annual periods first (newest first), then quarters and years to date."""
    points = [p for p in item.ordered() if wanted.holds(p.period)]
    return [p for p in points if p.period.annual] + [p for p in points if not p.period.annual]


def covered(item: LineSeries) -> str:
    """The periods an item has, compactly: 'FY2013-FY2022; quarters FY2022 Q2-FY2023 Q2'."""
    annual = sorted({p.year for p in item.points if p.annual})
    quarters = sorted({(p.year, p.quarter) for p in item.points if not p.annual})
    parts = [f"FY{annual[0]}-FY{annual[-1]}" if len(annual) > 1 else f"FY{annual[0]}"] if annual else []
    if quarters:
        a, b = quarters[0], quarters[-1]
        parts.append(f"quarters FY{a[0]} Q{a[1]}" + (f"-FY{b[0]} Q{b[1]}" if b != a else ""))
    return "; ".join(parts) or "none"
