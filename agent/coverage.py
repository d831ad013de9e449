"""Whether the corpus covers the company a question is about: a question about a company it lacks ends at once, saying so."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from agent.answer import Answer
from corpus.catalog import Corpus
from corpus.company_matcher import CompanyMatcher
from corpus.models import Company
from corpus.rg_binary import rg_binary

# A name the filings print this often in one filing is a segment, brand, product or subsidiary of a covered company
# ("AWS" in Amazon's 10-K, "Frito-Lay" in PepsiCo's, "Upjohn" in Pfizer's), not a company the corpus lacks.
PRINTED_MIN = 3
_PRINTED_TIMEOUT_S = 2.0
_NAMES_CHECKED = 3

# A capitalised name in the possessive ("Tesla's"), or after the words questions put before a company ("for Tesla").
_NAME = r"((?:[A-Z][\w&.\-]*|[A-Z]{2,5})(?:\s+(?:[A-Z][\w&.\-]*|&|and|of)){0,3})"
_POSSESSIVE = re.compile(_NAME + r"['\u2019]s?\b")
_AFTER = re.compile(
    r"\b(?:for|of|did|does|do|has|had|have|is|was|were|at|by|about)\s+"
    + _NAME
    + r"(?=\s*(?:[?.,;:]|$|\s+(?:in|during|for|over|from|between|report|have|has|had|grow|spend|pay|make|earn|generate|own|use)\b))"
)
_NOT_COMPANIES = {
    "fy",
    "usd",
    "gaap",
    "non-gaap",
    "eps",
    "ebitda",
    "ebit",
    "us",
    "u.s.",
    "sec",
    "roa",
    "roe",
    "capex",
    "cogs",
    "sg&a",
    "r&d",
    "q1",
    "q2",
    "q3",
    "q4",
    "the",
    "total",
    "net",
    "cash",
    "item",
    "note",
    "form",
    "annual",
    "quarterly",
    "this",
    "that",
    "its",
    "their",
    "company",
    "company's",
    "it",
    "what",
    "which",
    "how",
    "who",
    "dpo",
    "dso",
    "dio",
    "ttm",
    "yoy",
    "covid",
    "covid-19",
    "ceo",
    "cfo",
    "board",
    "management",
    "md&a",
    "balance",
    "income",
    "statement",
    "is",
    "did",
    "does",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "do",
    "when",
    "why",
    "where",
    "here",
    "looking",
    "basing",
    "using",
    "according",
    "given",
    "among",
    "of",
    "and",
    "&",
    "for",
    "in",
    "at",
    "by",
    "assume",
    "based",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
}


def named_companies(question: str) -> list[str]:
    """Names the question puts where a company goes: 'Tesla' in "What was Tesla's revenue?" or "... revenue for Tesla?"."""
    found: list[str] = []
    for pattern in (_POSSESSIVE, _AFTER):
        for m in pattern.finditer(question[:2000]):
            name = m.group(1).strip(" .")
            words = name.split()
            while words and words[0].lower() in _NOT_COMPANIES:
                words = words[1:]
            while words and words[-1].lower() in _NOT_COMPANIES:
                words = words[:-1]
            name = " ".join(words)
            if name and name.lower() not in _NOT_COMPANIES and not re.search(r"\d", name) and name not in found:
                found.append(name)
    return found


def uncovered(question: str, companies: list[Company], known: Callable[[str], bool] | None = None) -> list[str]:
    """Companies the question names when it names none the catalog has; empty when one is covered or none is named.

    A named company is covered when its key starts a catalog company's ('ACME' for ACME Widgets) or `known` says so.
    """
    matcher = CompanyMatcher(companies)
    if matcher.mentioned_in(question):
        return []
    names = named_companies(question)
    for name in names:
        if matcher.starting_with(name) or (known is not None and known(name)):
            return []
    return names


def printed_in_filings(text_dir: Path, name: str) -> bool:
    """Whether one stored filing prints the name (whole words, as written) at least PRINTED_MIN times; ripgrep, bounded."""
    try:
        out = subprocess.run(
            [rg_binary(), "--count-matches", "--fixed-strings", "--word-regexp", "--glob", "*.txt", "--", name, str(text_dir)],
            capture_output=True,
            text=True,
            timeout=_PRINTED_TIMEOUT_S,
        ).stdout
    except (subprocess.TimeoutExpired, OSError):
        return False
    return any(
        line.rpartition(":")[2].strip().isdigit() and int(line.rpartition(":")[2]) >= PRINTED_MIN for line in out.splitlines()
    )


def not_covered_answer(question: str, mode: str, corpus: Corpus) -> Answer | None:
    """The early answer for a question about a company the corpus has no filings of; None when it is covered."""
    if corpus.count() == 0:
        return None
    companies = list(corpus.companies())
    checked: list[str] = []

    def known(name: str) -> bool:
        if corpus.list(company=name, limit=1):
            return True
        checked.append(name)
        return len(checked) <= _NAMES_CHECKED and printed_in_filings(corpus.settings.text_dir, name)

    missing = uncovered(question, companies, known)
    if not missing:
        return None
    names = sorted({c.name for c in companies})
    listed = ", ".join(names[:40]) + (" ..." if len(names) > 40 else "")
    who = " / ".join(missing)
    text = (
        f"{who} is not in the corpus: no filing of {who} has been ingested, so this cannot be answered from the filings. "
        f"The corpus covers: {listed}. Ingest {who}'s filings to ask about it."
    )
    return Answer(mode=mode, question=question, text=text, status="unsure", warnings=[f"not in the corpus: {who}"])
