"""Figures in an answer reconciled with the filings' series: another period's value (the wrong column) or another unit is flagged."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.answer import AnswerCitation
from corpus.errors import CorpusError
from corpus.series import LineSeries, Point
from tools.company_series import CompanyFigures, SeriesError
from tools.context import ToolContext
from tools.factrank import parse_period
from tools.series_table import company_figures

MAX_ITEMS = 3  # line items checked per answer (one per cited row)
_ASKED = re.compile(r"\b(?:FY\s?|fiscal\s+(?:year\s+)?)?((?:19|20)\d{2})\b", re.I)
_RANGE = re.compile(r"((?:19|20)\d{2})\s*(?:-|–|through)\s*(?:FY\s?)?((?:19|20)\d{2})\b", re.I)  # FY2016-FY2018
_QUARTER = re.compile(r"\bQ([1-4])\s*(?:FY\s?)?((?:19|20)\d{2})\b|\b(?:FY\s?)?((?:19|20)\d{2})\s*Q([1-4])\b", re.I)
_FIGURE = re.compile(
    r"(?<![\w.])\$?\s?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s*(thousand|million|billion|bn|mm|m|k)\b)?", re.I
)
_SCALE_WORD = {"thousand": 3, "k": 3, "million": 6, "m": 6, "mm": 6, "billion": 9, "bn": 9}


@dataclass(frozen=True)
class Stated:
    """A figure the answer states: its number and the scale word after it, if any ('1,577 million' -> 1577, 6)."""

    text: str
    number: float
    scale: int | None


def stated_figures(text: str) -> list[Stated]:
    """Figures that could tell a period apart: not years, not one- or two-digit numbers, not percentages."""
    out = []
    for m in _FIGURE.finditer(text):
        raw, word = m.group(1), m.group(2)
        number = float(raw.replace(",", ""))
        if (
            text[m.end() : m.end() + 1] == "%"
            or (number < 100 and "." not in raw)
            or ("," not in raw and "." not in raw and 1900 <= number <= 2100)
        ):
            continue
        out.append(Stated(m.group(0).strip(), number, _SCALE_WORD.get(word.lower()) if word else None))
    return out


def asked_periods(question: str) -> tuple[set[int], int | None]:
    """Fiscal years a question names (and a quarter, when it names one): 'FY2018' -> {2018}."""
    if m := _QUARTER.search(question):
        period = parse_period(m.group(0))
        if period is not None:
            return {period.year}, period.quarter
    years = {int(y) for y in _ASKED.findall(question)}
    for first, last in _RANGE.findall(question):  # "FY2016-FY2018" asks for FY2017 too
        years |= set(range(int(first), int(last) + 1)) if 0 < int(last) - int(first) <= 30 else set()
    return years, None


def figure_problems(answer_text: str, question: str, citations: list[AnswerCitation], tools: ToolContext) -> list[str]:
    """One line per stated figure that is another period's (or another unit's) value of a cited line item."""
    years, quarter = asked_periods(question)
    if not years or len(years) > 2:
        return []  # a trend question: every period is fair game
    figures_stated = stated_figures(answer_text)
    if not figures_stated:
        return []
    out: list[str] = []
    for book, item in _cited_items(citations, tools):
        asked = [
            p
            for p in item.points.values()
            if p.period.year in years and p.period.quarter == quarter and p.period.span in ("FY", "Q", "instant")
        ]
        if not asked:
            continue
        for stated in figures_stated:
            problem = _problem(stated, item, asked, book.company)
            if problem and problem not in out:
                out.append(problem)
    return out


def _cited_items(citations: list[AnswerCitation], tools: ToolContext) -> list[tuple[CompanyFigures, LineSeries]]:
    """The line item each verified citation quotes (its label, figures removed), in its company's series."""
    found: list[tuple[CompanyFigures, LineSeries]] = []
    for c in citations:
        label = re.sub(r"[\d$(),.%-]+", " ", c.quote).strip()
        if c.verified is not True or len(label) < 4 or len(found) >= MAX_ITEMS:
            continue
        try:
            company = tools.corpus.get(c.doc_id).company
            book = company_figures(tools.corpus, company) if company else None
        except (SeriesError, CorpusError):
            continue
        ranked = book.rank(label) if book else []
        if ranked and all(i.key != ranked[0][1].key for _b, i in found):
            found.append((book, ranked[0][1]))
    return found


def _problem(stated: Stated, item: LineSeries, asked: list[Point], company: str) -> str | None:
    def value_of(p: Point) -> float:
        return abs(p.chosen("latest").value) / 10 ** p.chosen("latest").scale

    for p in asked:
        if abs(value_of(p) - stated.number) < 0.5:
            if stated.scale is not None and stated.scale != p.chosen("latest").scale and p.chosen("latest").scale:
                unit = {3: "thousands", 6: "millions", 9: "billions"}.get(
                    p.chosen("latest").scale, f"10^{p.chosen('latest').scale}"
                )
                return (
                    f"{stated.text} is {company}'s {p.period} {item.label} as printed in {unit} "
                    f"({p.chosen('latest').printed}, {p.chosen('latest').doc_id} p.{p.chosen('latest').page}): state it in {unit}"
                )
            return None
    target = asked[0]
    for other in sorted(item.points.values(), key=lambda p: p.period.sort_key, reverse=True):
        if other in asked or other.period.span != target.period.span:
            continue
        if abs(value_of(other) - stated.number) < 0.5 and abs(value_of(target) - stated.number) >= 0.5:
            return (
                f"{stated.text} is {company}'s {other.period} value of {item.label!r} ({other.chosen('latest').doc_id} p.{other.chosen('latest').page}); "
                f"{target.period} is {target.chosen('latest').printed} ({target.chosen('latest').doc_id} p.{target.chosen('latest').page})"
            )
    return None
