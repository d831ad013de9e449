"""The catalog's companies as one vocabulary: which companies a filter value names, which ones a question mentions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from corpus.companies import company_key

_WORD = re.compile(r"[A-Za-z0-9&]+")
_QUESTION_CHARS = 2000  # a question is read this far for company mentions
_MAX_NAME_WORDS = 4  # a name, former name or nickname in a question is at most this many words
_SQUASH = re.compile(r"[^a-z0-9]+")
_MIN_SQUASHED_KEY = 6  # a key found inside the question's letters run together ("americanexpress") is at least this long


class CompanyLike(Protocol):
    """What the matcher reads of a company: the catalog's `corpus.models.Company` or an index's `CompanyNames`."""

    key: str
    name: str
    aliases: list[str] | None
    tickers: list[str] | None
    cik: str | None


@dataclass(frozen=True)
class CompanyNames:
    """A company known only from an index's documents (no catalog row): its key and the names it may be called by."""

    key: str
    name: str
    aliases: list[str] = field(default_factory=list)
    tickers: list[str] = field(default_factory=list)
    cik: str | None = None


class CompanyMatcher:
    """Matches text to catalog companies by key, canonical name, former names and spellings, tickers and CIK.

    Built once from `Corpus.companies()` (or from an index's `CompanyNames`); every matching is by `company_key`, so
    'Adobe Systems Incorporated', 'adobe systems' and 'Adobe' name one company.
    """

    def __init__(self, companies: Iterable[CompanyLike]) -> None:
        self.companies = list(companies)
        self._by_key: dict[str, list[CompanyLike]] = {}  # the key of the company and of each of its names
        self._by_ticker: dict[str, list[CompanyLike]] = {}
        for c in self.companies:
            for key in {c.key, *(company_key(n) for n in [c.name, *(c.aliases or [])])}:
                self._by_key.setdefault(key, []).append(c)
            for ticker in {t.upper() for t in c.tickers or []}:
                self._by_ticker.setdefault(ticker, []).append(c)

    def named_by(self, value: str) -> list[CompanyLike]:
        """Companies a filter value names: by key or its start, a part of any name, a ticker or the CIK ('adobe systems',
        'Block', 'SQ', 'WMT', '0000796343')."""
        q = value.strip()
        if not q:
            return []
        key = company_key(q)
        low = q.lower()
        named = {id(c) for c in self._by_key.get(key, [])} | {id(c) for c in self.starting_with(q)}
        out = []
        for c in self.companies:
            if (
                id(c) in named
                or any(low in n.lower() for n in [c.name, *(c.aliases or [])])
                or q.upper() in (c.tickers or [])
                or (c.cik and q.lstrip("0") == c.cik.lstrip("0"))
            ):
                out.append(c)
        return out

    def starting_with(self, name: str) -> list[CompanyLike]:
        """Companies whose key starts with the name's key of at least 3 characters ('ACME' for ACME Widgets)."""
        key = company_key(name)
        if len(key) < 3:
            return []
        return [c for c in self.companies if c.key.startswith(key)]

    def mentioned_in(self, question: str) -> list[CompanyLike]:
        """Companies a question names: a ticker in capitals, or a name, former name or nickname of 1-4 words."""
        found: dict[int, CompanyLike] = {}
        words = _WORD.findall(question[:_QUESTION_CHARS])
        for w in words:
            if w.isupper():
                found.update((id(c), c) for c in self._by_ticker.get(w, []))
        for n in range(1, _MAX_NAME_WORDS + 1):
            for i in range(len(words) - n + 1):
                found.update((id(c), c) for c in self._by_key.get(company_key(" ".join(words[i : i + n])), []))
        if not found:  # names run together or split otherwise: "American-Express", "J.P.Morgan" vs key jpmorgan
            squashed = _SQUASH.sub("", question[:_QUESTION_CHARS].lower())
            for c in self.companies:
                key = _SQUASH.sub("", c.key.lower())
                if len(key) >= _MIN_SQUASHED_KEY and key in squashed:
                    found[id(c)] = c
        return list(found.values())
