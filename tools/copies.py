"""One copy of each passage in search results: a filing's twin and a table printed twice (MD&A and a note) collapse."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from tools.caveats import Caveats

# Share of the smaller passage's distinct words and figures the larger one holds for the two to be one passage.
NEAR_COPY = 0.8
MAX_PLACES = 3  # other copies named per passage
MIN_TOKENS = 12  # shorter passages ("Total", a lone header) are never called copies
_WORD = re.compile(r"[a-z]{2,}")
_FIGURE = re.compile(r"\d[\d,.]*\d|\d")
MIN_FIGURES = 3  # with fewer figures the words alone decide, at NEAR_COPY_WORDS
NEAR_COPY_WORDS = 0.9


class Located(Protocol):
    doc_id: str
    start_line: int
    end_line: int
    text: str

    @property
    def pages(self) -> str: ...


def where(p: Located) -> str:
    return f"{p.doc_id} p.{p.pages} lines {p.start_line}-{p.end_line}"


def collapse_copies(passages: Sequence[Located], caveats: Caveats, k: int) -> tuple[list[Located], list[list[str]]]:
    """The first `k` distinct passages, best first, and for each the places its other copies were found."""
    kept: list[Located] = []
    also: list[list[str]] = []
    tokens: list[tuple[set[str], set[str]]] = []
    for p in passages:
        words = (set(_WORD.findall(p.text.lower())), set(_FIGURE.findall(p.text)))
        twin_names = set(caveats.names.get(p.doc_id, (p.doc_id,)))
        copy_of = next((i for i, q in enumerate(kept) if _same(p, words, q, tokens[i], twin_names)), None)
        if copy_of is not None:
            q = kept[copy_of]
            same_file = q.doc_id in twin_names and q.doc_id != p.doc_id
            place = f"{p.doc_id} (same file)" if same_file else where(p)
            if place not in also[copy_of] and len(also[copy_of]) < MAX_PLACES:
                also[copy_of].append(place)
            continue
        if len(kept) < k:
            kept.append(p)
            also.append([])
            tokens.append(words)
    return kept, also


def _same(p: Located, tokens: tuple[set[str], set[str]], q: Located, q_tokens: tuple[set[str], set[str]], twin_names: set[str]) -> bool:
    if q.doc_id in twin_names and q.doc_id != p.doc_id and (p.start_line, p.end_line) == (q.start_line, q.end_line):
        return True  # the same lines of the same file under another name
    (words, figures), (q_words, q_figures) = tokens, q_tokens
    if min(len(words), len(q_words)) < MIN_TOKENS:
        return False
    if min(len(figures), len(q_figures)) < MIN_FIGURES:
        return _held(words, q_words) >= NEAR_COPY_WORDS and figures == q_figures
    # a table printed twice holds the same figures; prose about another period shares words, not figures
    return _held(words, q_words) >= NEAR_COPY and _held(figures, q_figures) >= NEAR_COPY


def _held(a: set[str], b: set[str]) -> float:
    """Share of the smaller set that the other one holds."""
    return len(a & b) / min(len(a), len(b))
