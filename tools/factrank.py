"""Ranking line items for a facts query, and reading the periods a caller asks for: pure functions over plain rows."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from retrieval.synonyms import expansion

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "the of and for in on to a an by from with our what was is were how much in usd millions million thousands billions fy fiscal year quarter ended amount".split()
)
_PERIOD = re.compile(
    r"^(?:fy|fiscal(?:\s+year)?)?\s*'?((?:19|20)?\d{2})(?:\s*[-/ ]?\s*q([1-4]))?$|^q([1-4])\s*(?:fy|fiscal)?\s*[-/ ]?\s*((?:19|20)\d{2})$"
    r"|^(?:first|second|third|fourth)\s+quarter\s+(?:of\s+)?(?:fiscal\s+)?((?:19|20)\d{2})$",
    re.I,
)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_STATEMENTS = (
    (re.compile(r"cash\s*flow", re.I), "Cash Flows"),
    (re.compile(r"balance|financial\s+position|financial\s+condition", re.I), "Balance Sheet"),
    (re.compile(r"comprehensive", re.I), "Comprehensive Income"),
    (re.compile(r"income|operations|earnings|p\s*&\s*l|profit", re.I), "Income Statement"),
    (re.compile(r"equity|stockholders|shareholders", re.I), "Equity"),
)


def words(text: str) -> list[str]:
    """Lower-case words folded to a crude singular ('expenditures' -> 'expenditure'), split camel case included."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).lower().replace("&", " and ")
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in _WORD.findall(text)]


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None  # None: the fiscal year

    def __str__(self) -> str:
        return f"FY{self.year}" + (f" Q{self.quarter}" if self.quarter else "")


def parse_period(text: str) -> Period | None:
    """'FY2018', '2018', 'fiscal 2018', 'FY18', 'Q2 2025', '2025Q2', 'second quarter of fiscal 2023' -> Period; None otherwise."""
    t = " ".join(text.strip().split())
    m = _PERIOD.match(t)
    if m is None:
        return None
    if m.group(1):
        year = int(m.group(1))
        quarter = int(m.group(2)) if m.group(2) else None
    elif m.group(3):
        year, quarter = int(m.group(4)), int(m.group(3))
    else:
        year, quarter = int(m.group(5)), _ORDINAL[t.split()[0].lower()]
    if year < 100:
        year += 2000
    return Period(year, quarter)


def statement_key(text: str) -> str | None:
    """'cash flow statement' -> 'Cash Flows'; a note or other key is returned as given."""
    for pattern, key in _STATEMENTS:
        if pattern.search(text):
            return key
    return text.strip() or None


# Names questions use that the retrieval vocabulary does not spell out.
_EXTRA = [
    (re.compile(r"\bppne\b|\bppe\b|\bpp&e\b", re.I), "property plant equipment"),
    (
        re.compile(r"cash from operations|operating cash flow|cash flow from operating", re.I),
        "net cash provided by operating activities",
    ),
    (re.compile(r"\bcogs\b|cost of goods", re.I), "cost of sales cost of revenue"),
    (re.compile(r"\bd&a\b|depreciation", re.I), "depreciation amortization"),
    (re.compile(r"\brevenue\b", re.I), "revenues net sales"),
]


@dataclass
class Query:
    """The words a line item is matched on: the caller's (weight 1) and the filing vocabulary they imply (0.5)."""

    terms: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str) -> Query:
        terms: dict[str, float] = {}
        implied = expansion(text) + " " + " ".join(v for p, v in _EXTRA if p.search(text))
        for w in words(implied):
            if w not in _STOP:
                terms[w] = 0.5
        for w in words(text):
            if w not in _STOP:
                terms[w] = 1.0
        return cls(terms)


def says(query: Query, label_words: list[str], only: bool = False) -> bool:
    """The label says every one of the caller's own words (`only`: and no more, "Total debt" for 'total debt'), stop words aside."""
    own = {t for t, w in query.terms.items() if w >= 1.0}
    label = set(label_words) - _STOP
    return bool(own) and (label == own if only else own <= label)


def idf(documents: list[set[str]]) -> dict[str, float]:
    n = len(documents) or 1
    df: Counter[str] = Counter(w for d in documents for w in d)
    return {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}


def score(
    query: Query, label_words: list[str], concept_words: list[str], weights: dict[str, float], dims: int, in_statement: bool
) -> float:
    """Weighted words matched in the label (and, at half weight, the concept), a little less for long labels and segment rows."""
    label = set(label_words)
    concept = set(concept_words)
    total = 0.0
    for term, weight in query.terms.items():
        w = weights.get(term, 1.0) * weight
        if term in label:
            total += w
        elif term in concept:
            total += 0.5 * w
    if total <= 0:
        return 0.0
    extra = len(label - set(query.terms))
    total -= 0.04 * extra  # prefer the line item that is exactly the query
    total *= 0.55 if dims else 1.0  # a segment's slice ranks below the consolidated figure unless named
    total *= 1.15 if in_statement else 1.0
    return total
