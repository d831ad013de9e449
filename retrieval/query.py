"""Query understanding: which companies, years and forms a question is about, and what kind of question it is."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from corpus.company_matcher import CompanyMatcher, CompanyNames
from retrieval.index import DocEntry

# Legal-form words that are not part of how people name a company.
_SUFFIXES = {
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "companies",
    "plc",
    "ltd",
    "limited",
    "llc",
    "lp",
    "sa",
    "nv",
    "ag",
    "holdings",
    "holding",
    "group",
    "the",
    "and",
    "subsidiaries",
    "&",
}
# Words too common to name a company on their own (an alias of one of these alone is dropped).
_GENERIC = {
    "american",
    "general",
    "united",
    "international",
    "national",
    "first",
    "new",
    "global",
    "financial",
    "water",
    "works",
    "bank",
    "services",
    "foods",
    "block",
    "best",
    "corning",
    "square",
}
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_YEAR = re.compile(r"\b(?:fy|fiscal(?:\s+year)?\s*)?['’]?((?:19|20)\d{2})\b|\bfy\s?['’]?(\d{2})\b", re.I)
_QUARTER = re.compile(r"\b(?:q([1-4])|([1-4])q|(first|second|third|fourth)\s+quarter)\b", re.I)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_FORMS = [
    # "FY2022" is no 10-K hint: annual figures are in Q4 earnings releases too.
    (re.compile(r"\b10-?k\b|\bannual report\b", re.I), "10-K"),
    (re.compile(r"\b10-?q\b|\bquarter(?:ly)?\b|\bq[1-4]\b", re.I), "10-Q"),
    (re.compile(r"\b8-?k\b", re.I), "8-K"),
    (re.compile(r"\bearnings (?:release|call)\b|\bpress release\b", re.I), "earnings release"),
]
# Exact figures, line items and defined terms (BM25 finds them); reasons and narratives (dense finds them).
_EXACT = re.compile(
    r"\b(how much|how many|what (?:is|was|were|are) the (?:total|amount|value|number)|amount|total|ratio|margin|"
    r"eps|per share|revenue|sales|income|expenses?|capex|capital expenditures?|cash flow|assets|liabilities|"
    r"debt|dividends?|inventor(?:y|ies)|ebitda|in (?:usd|\$)|millions?|billions?|percent|%|\d[\d,.]*)\b",
    re.I,
)
_CONCEPTUAL = re.compile(
    r"\b(why|how (?:does|did|do|has|have|is|was)|explain|describe|what (?:drove|caused|are the (?:main|key|primary))|"
    r"risks?|strategy|outlook|impact|reasons?|factors?|does .* have|is .* a|summar\w+|discuss\w*|overview)\b",
    re.I,
)


@dataclass
class QueryIntent:
    """What the question text says about where the answer is."""

    companies: set[str] = field(default_factory=set)  # index company keys
    years: set[int] = field(default_factory=set)
    quarters: set[int] = field(default_factory=set)
    forms: set[str] = field(default_factory=set)
    kind: str = "exact"  # exact | conceptual
    full_year: bool = False  # "FY2022", "fiscal 2022" and no quarter: the figures of a whole fiscal year

    def describe(self) -> dict[str, object]:
        return {
            "companies": sorted(self.companies),
            "years": sorted(self.years),
            "quarters": sorted(self.quarters),
            "forms": sorted(self.forms),
            "kind": self.kind,
            "full_year": self.full_year,
        }


def company_of(doc: DocEntry) -> str:
    """The company a document belongs to, as one key shared by all its filings (file-name prefix, else name)."""
    prefix = re.split(r"_(?:19|20)\d{2}", doc.doc_id, maxsplit=1)[0]
    if prefix != doc.doc_id:
        return prefix.lower()
    return " ".join(_name_words(doc.company or doc.doc_id))


def _name_words(name: str) -> list[str]:
    return [w for w in _WORD.findall(name.lower().replace("&", " and ")) if w not in _SUFFIXES]


def index_companies(docs: Iterable[DocEntry]) -> list[CompanyNames]:
    """The companies of an index's documents, each with the names a question may use: the file-name key, the printed name,
    its first word when distinctive ("Adobe"), a nickname from word starts ("amex") and the ticker."""
    names: dict[str, tuple[str, set[str], set[str]]] = {}
    for doc in docs:
        key = company_of(doc)
        printed, aliases, tickers = names.setdefault(key, (doc.company or key, set(), set()))
        aliases.add(key.replace("_", " "))
        words = _name_words(doc.company or "")
        if words:
            aliases.add(" ".join(words))
            if len(words) > 1 and words[0] not in _GENERIC and len(words[0]) > 2:
                aliases.add(words[0])  # "Adobe Inc." is "Adobe", "Pfizer Inc." is "Pfizer"
            if 2 <= len(words) <= 3 and all(len(w) >= 3 for w in words):
                aliases.add("".join(w[:2] for w in words))  # nicknames from word starts: American Express -> amex
        if doc.ticker:
            tickers.add(doc.ticker.upper())
    return [CompanyNames(key, printed, sorted(a), sorted(t)) for key, (printed, a, t) in names.items()]


def index_matcher(docs: Iterable[DocEntry]) -> CompanyMatcher:
    """The corpus layer's company matcher over an index's documents; it finds index company keys (`company_of`)."""
    return CompanyMatcher(index_companies(docs))


def understand(question: str, matcher: CompanyMatcher) -> QueryIntent:
    """Companies, fiscal years, quarters, form hints and question kind found in `question`."""
    intent = QueryIntent(companies={c.key for c in matcher.mentioned_in(question)})
    fiscal = False
    for match in _YEAR.finditer(question):
        full, short = match.groups()
        year = int(full) if full else 2000 + int(short)
        if 1990 <= year <= 2100:
            intent.years.add(year)
            fiscal = fiscal or match.group(0)[:1].lower() == "f"
    for q, q2, word in _QUARTER.findall(question):
        intent.quarters.add(int(q or q2) if (q or q2) else _ORDINAL[word.lower()])
    intent.full_year = fiscal and not intent.quarters
    for pattern, form in _FORMS:
        if pattern.search(question):
            intent.forms.add(form)
    if "10-Q" in intent.forms and not intent.quarters:
        intent.forms.discard("10-Q")  # "quarterly dividends" is no 10-Q hint without a quarter
    exact, conceptual = len(_EXACT.findall(question)), len(_CONCEPTUAL.findall(question))
    intent.kind = "conceptual" if conceptual > exact else "exact"
    return intent
