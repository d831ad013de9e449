"""One copy of each passage in search results: a filing's twin and a table printed twice (MD&A and a note) collapse."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from tools.caveats import Caveats

# Share of the smaller passage's distinct words and figures the larger one holds for the two to be one passage.
NEAR_COPY = 0.8
MAX_PLACES = 3  # other copies named per passage
MIN_ROWS = 3  # table rows a passage needs for its rows to be compared
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
    """The first `k` distinct passages, best first, and for each what to say about its copies: where the copies left
    out are, or which passages shown already hold its table rows (the same table cut into chunks differently)."""
    kept: list[Located] = []
    places: list[list[str]] = []  # per kept passage: where its copies left out are
    held_by: list[str] = []  # per kept passage: the passages already holding its table rows
    tokens: list[tuple[set[str], set[str]]] = []
    rows: list[set[str]] = []
    for p in passages:
        words = (set(_WORD.findall(p.text.lower())), set(_FIGURE.findall(p.text)))
        twin_names = set(caveats.names.get(p.doc_id, (p.doc_id,)))
        copy_of = next((i for i, q in enumerate(kept) if _same(p, words, q, tokens[i], twin_names)), None)
        if copy_of is not None:
            q = kept[copy_of]
            place = f"{p.doc_id} (same file)" if q.doc_id in twin_names and q.doc_id != p.doc_id else where(p)
            if place not in places[copy_of] and len(places[copy_of]) < MAX_PLACES:
                places[copy_of].append(place)
        elif len(kept) < k:
            table = _table_rows(p.text)
            holders = [i for i, r in enumerate(rows) if r & table] if len(table) >= MIN_ROWS else []
            shared = set().union(*(rows[i] for i in holders)) & table
            held_by.append(", ".join(f"[{i + 1}]" for i in holders) if len(shared) >= NEAR_COPY * len(table) > 0 else "")
            kept.append(p)
            places.append([])
            tokens.append(words)
            rows.append(table)
    notes = [
        ([f"same passage also at {'; '.join(where_else)}; shown once"] if where_else else [])
        + ([f"its table rows are also in passage {holders}"] if holders else [])
        for where_else, holders in zip(places, held_by, strict=True)
    ]
    return kept, notes


def _table_rows(text: str) -> set[str]:
    """Table rows of a passage: lines with cells and a figure, compared without spaces and currency signs."""
    return {re.sub(r"[\s$]", "", line) for line in text.splitlines() if " | " in line and _FIGURE.search(line)}


def _same(
    p: Located, tokens: tuple[set[str], set[str]], q: Located, q_tokens: tuple[set[str], set[str]], twin_names: set[str]
) -> bool:
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
