"""Fiscal periods of figures: the year, quarter and span a statement column or XBRL context covers, from the filing's own period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Dates and fiscal years (the filings' cover pages and statements print them; corpus.metadata reads them).

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = rf"(?:\b{_MONTH}\.?\s*\d{{1,2}}\s*,?\s*(?:19|20)\d{{2}}|\b\d{{1,2}}\s+{_MONTH}\s+(?:19|20)\d{{2}})"
_DATE_PARTS = re.compile(
    rf"\b({_MONTH})\.?\s*(\d{{1,2}})\s*,?\s*((?:19|20)\d{{2}})|\b(\d{{1,2}})\s+({_MONTH})\s+((?:19|20)\d{{2}})", re.I
)


def _parse_date(text: str) -> date | None:
    m = _DATE_PARTS.search(text)
    if not m:
        return None
    month, day, year = (m[1], m[2], m[3]) if m[1] else (m[5], m[4], m[6])
    try:
        return date(int(year), _MONTHS[month[:3].lower()], int(day))
    except ValueError:
        return None


def fiscal_year_for(year_end: date) -> int:
    """Fiscal year named by the calendar year it ends in; a 52/53-week year ending in early January counts for the year before."""
    # As the FinanceBench file names count: Best Buy's year ended January 28, 2023 is 2023 (BESTBUY_2023_10K),
    # Johnson & Johnson's year ended January 2, 2022 is 2021 (JOHNSON_JOHNSON_2021_10K).
    return year_end.year - 1 if year_end.month == 1 and year_end.day <= 15 else year_end.year


def _fiscal_year_of_quarter(quarter_end: date, quarter: int) -> int:
    """Fiscal year of quarter `quarter` ending on `quarter_end`: find the year end about (4 - quarter) * 13 weeks on."""
    return fiscal_year_for(quarter_end + timedelta(days=91 * (4 - quarter)))


SPANS = ("FY", "Q", "YTD", "instant")
_QUARTER_WORDS = re.compile(r"\b(?:three\s+months|thirteen\s+weeks|twelve\s+weeks|sixteen\s+weeks|quarters?)\b", re.I)
_YTD_WORDS = re.compile(r"\b(?:six|nine|twenty-six|thirty-nine|twenty-eight|forty)\s+(?:months|weeks)\b", re.I)
_YEAR_WORDS = re.compile(r"\b(?:years?|twelve\s+months|fifty-two\s+weeks|fifty-three\s+weeks|52\s+weeks|53\s+weeks)\b", re.I)


@dataclass(frozen=True)
class FiscalPeriod:
    """A fiscal year (span FY), a quarter (Q), the year to date through a quarter (YTD), or a balance-sheet date (instant)."""

    year: int
    quarter: int | None  # None: the fiscal year (FY), or its last day (instant)
    span: str  # FY | Q | YTD | instant

    def __str__(self) -> str:
        base = f"FY{self.year}" + (f" Q{self.quarter}" if self.quarter else "")
        if self.span == "YTD":
            return f"{base} YTD"
        if self.span == "instant":
            return f"{base} end"
        return base

    @property
    def sort_key(self) -> tuple[int, int, int]:
        """Oldest first; within a year its quarters, then the year (and the year's last day)."""
        return self.year, self.quarter or 5, SPANS.index(self.span)

    @property
    def annual(self) -> bool:
        """The whole fiscal year: its flow (FY) or its closing balance."""
        return self.quarter is None


def parse_fiscal_period(text: str) -> FiscalPeriod | None:
    """'FY2018' -> FY2018, 'FY2022 Q2' -> the quarter, 'FY2022 Q2 YTD', 'FY2022 end'; the labels str() prints, read back."""
    m = re.fullmatch(r"\s*FY\s*(\d{4})(?:\s+Q([1-4]))?(?:\s+(YTD|end))?\s*", text, re.I)
    if m is None:
        return None
    quarter = int(m.group(2)) if m.group(2) else None
    tail = (m.group(3) or "").lower()
    span = "YTD" if tail == "ytd" else "instant" if tail == "end" else ("Q" if quarter else "FY")
    return FiscalPeriod(int(m.group(1)), quarter, span)


@dataclass(frozen=True)
class FilingPeriod:
    """What a filing says of its own period: fiscal year, quarter (None for an annual filing) and period end."""

    fiscal_year: int | None
    quarter: int | None
    period_end: date | None

    @classmethod
    def of(cls, fiscal_year: int | None, fiscal_period: str | None, period_end: date | None) -> FilingPeriod:
        quarter = int(fiscal_period[1]) if fiscal_period and fiscal_period[:1] == "Q" and fiscal_period[1:].isdigit() else None
        return cls(fiscal_year, quarter if quarter in (1, 2, 3) else None, period_end)


def span_of_words(label: str) -> str | None:
    """'Three Months Ended ...' -> Q, 'Six Months Ended' -> YTD, 'Years Ended' -> FY; None when the label says nothing."""
    if _YTD_WORDS.search(label):
        return "YTD"
    if _QUARTER_WORDS.search(label):
        return "Q"
    if _YEAR_WORDS.search(label):
        return "FY"
    return None


def column_period(filing: FilingPeriod, year: int, own_year: int, column: int, label: str, balance: bool) -> FiscalPeriod | None:
    """Period of a statement column read from its header year only (PDF tables have no dates).

    `own_year` is the newest header year of the statement: the filing's own period, which fixes the offset between
    header years (calendar years in a 10-Q of a June or January fiscal year) and fiscal years. `column` is the
    column's position in its row; in a 10-Q balance sheet the first column is the quarter's end and the others are
    the prior fiscal year's end.
    """
    if filing.fiscal_year is None:
        return None
    fiscal = year + (filing.fiscal_year - own_year)
    span = span_of_words(label)
    if filing.quarter is None:  # an annual filing: years, or year ends
        if span in ("Q", "YTD"):
            return None  # a quarter of an annual report's table: which quarter is not known
        return FiscalPeriod(fiscal, None, "instant" if balance and span is None else "FY")
    q = filing.quarter
    if balance and span is None:
        if column == 0 and year == own_year:
            return FiscalPeriod(fiscal, q, "instant")
        if year == own_year or fiscal == filing.fiscal_year - 1:
            return FiscalPeriod(filing.fiscal_year - 1, None, "instant")  # the prior year-end comparative column
        return FiscalPeriod(fiscal, q, "instant")
    if span == "FY":
        return FiscalPeriod(fiscal, None, "FY")
    if span == "YTD":
        return FiscalPeriod(fiscal, q, "YTD")
    if span == "Q" or q == 1:
        return FiscalPeriod(fiscal, q, "Q")
    return None  # a quarterly filing's column that does not say whether it is the quarter or the year to date


def dated_period(filing: FilingPeriod, start: date | None, end: date, instant: bool) -> FiscalPeriod | None:
    """Period of an XBRL context (dates known), placed against the filing's own period end and fiscal year."""
    fy, q, own_end = filing.fiscal_year, filing.quarter, filing.period_end
    lag = _years_before(end, own_end)
    if instant or start is None or start == end:
        if fy is not None and lag is not None:
            return FiscalPeriod(fy - lag, q, "instant")
        if fy is not None and q and own_end is not None:
            year_end = own_end - timedelta(days=round(91.3 * q))  # the last fiscal year's end, about q quarters back
            prior = _years_before(end, year_end, tolerance=20)
            if prior is not None:
                return FiscalPeriod(fy - 1 - prior, None, "instant")
        return FiscalPeriod(fiscal_year_for(end), None, "instant")
    months = round((end - start).days / 30.44)
    if months >= 11:
        return FiscalPeriod(fy - lag if fy is not None and lag is not None else fiscal_year_for(end), None, "FY")
    if fy is None or lag is None:
        return None
    if months <= 4:
        return FiscalPeriod(fy - lag, q or 4, "Q") if q or months else None
    return FiscalPeriod(fy - lag, q, "YTD") if q else None


def _years_before(end: date, own_end: date | None, tolerance: int = 10) -> int | None:
    """0 when `end` is `own_end`, 1 a year before, ...; None when it is neither."""
    if own_end is None:
        return None
    for lag in range(0, 12):
        if abs((own_end - timedelta(days=round(365.25 * lag)) - end).days) <= tolerance:
            return lag
    return None
