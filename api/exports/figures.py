"""Figures an answer or memo states, each linked to the citation that backs it and described from the catalog."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from agent.answer import AnswerCitation
from agent.citations import figures as quoted_figures

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # a citation marker in export text: private-use characters no model writes
MARK = re.compile(f"{MARK_OPEN}(\\d+){MARK_CLOSE}")
_SCALES = {"thousand": "thousand", "k": "thousand", "million": "million", "m": "million", "mm": "million"}
_SCALES |= {"billion": "billion", "bn": "billion", "trillion": "trillion"}
_FIGURE = re.compile(
    rf"(?<![\w.,{MARK_OPEN}])(?P<cur>\$\s?)?(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?:\s?(?P<pct>%)|\s*(?P<scale>thousand|million|billion|trillion|bn|mm|m|k)\b)?(?![\w{MARK_CLOSE}]|\.\d)",
    re.I,
)
_LETTERS = {"m", "k", "mm", "bn"}
_UNIT_HINT = re.compile(r"\(([^()]{1,40})\)\s*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z$(\[\d])|\n+")


def mark(number: int) -> str:
    return f"{MARK_OPEN}{number}{MARK_CLOSE}"


def unmark(text: str, style: Callable[[int], str] = lambda n: f"[{n}]") -> str:
    """Text with its citation markers written in a format's own way (Markdown: [^n]; plain: [n])."""
    return MARK.sub(lambda m: style(int(m.group(1))), text)


@dataclass(frozen=True)
class Stated:
    """A figure as the text states it: '$1,577 million' -> 1577.0 'USD million', at text[start:end]."""

    text: str
    value: float
    unit: str
    start: int
    end: int


def stated_in(text: str) -> list[Stated]:
    """Figures that tell something: not years, not bare one- or two-digit counts, not citation marker numbers."""
    out = []
    for m in _FIGURE.finditer(text):
        raw, cur, pct, scale = m["num"], m["cur"], m["pct"], m["scale"]
        if scale and not cur and scale.lower() in _LETTERS:
            continue  # '3M', '10K': a name, not three million
        value = float(raw.replace(",", ""))
        bare = not (cur or pct or scale or "." in raw or "," in raw)
        if bare and (value < 100 or 1900 <= value <= 2100):
            continue
        unit = "%" if pct else " ".join(x for x in ("USD" if cur else "", _SCALES[scale.lower()] if scale else "") if x)
        out.append(Stated(m.group(0).strip(), value, unit, m.start(), m.end()))
    return out


def same_number(a: float, b: str) -> bool:
    try:
        return abs(a - float(b)) < 1e-9
    except ValueError:
        return False


@dataclass(frozen=True)
class DocInfo:
    """What the catalog says of a cited filing."""

    doc_id: str
    company: str | None = None
    form: str | None = None
    period: str | None = None  # 'FY2018', 'Q2 2023'
    accession: str | None = None
    is_pdf: bool = True


class Sources(Protocol):
    """What the export reads from the corpus: filings' catalog rows, XBRL concepts, page texts (all may say nothing)."""

    def document(self, doc_id: str) -> DocInfo | None: ...

    def concept(self, doc_id: str, page: int, value: float) -> str | None: ...

    def page_holds(self, doc_id: str, page: int, value: float) -> bool: ...


class NoSources:
    """No corpus at hand: figures are linked by their quotes alone and described by their doc_ids."""

    def document(self, doc_id: str) -> DocInfo | None:
        return None

    def concept(self, doc_id: str, page: int, value: float) -> str | None:
        return None

    def page_holds(self, doc_id: str, page: int, value: float) -> bool:
        return False


def link_figures(text: str, citations: list[AnswerCitation], first: int, sources: Sources) -> str:
    """A plain answer's text with a marker after each figure, to the citation whose quote (else page) holds it; citations
    no figure took are marked at the end. `first` is the note number of citations[0]."""
    out, pos, used = [], 0, set()
    for s in stated_in(text):
        index = next((i for i, c in enumerate(citations) if any(same_number(s.value, f) for f in quoted_figures(c.quote))), None)
        if index is None:
            index = next((i for i, c in enumerate(citations) if sources.page_holds(c.doc_id, c.page, s.value)), None)
        if index is None:
            continue
        used.add(index)
        out += [text[pos : s.end], mark(first + index)]
        pos = s.end
    out.append(text[pos:])
    rest = [mark(first + i) for i in range(len(citations)) if i not in used]
    return "".join(out) + (f"\n\nSources: {' '.join(rest)}" if rest else "")


@dataclass
class Figure:
    """One row of the evidence pack: a stated figure and what backs it."""

    statement: str
    stated: str
    value: float
    unit: str
    note: int | None  # the note (citation) number, None when the text cites nothing for it
    arm: str = ""
    doc: DocInfo | None = None
    concept: str | None = None


def unit_hint(*labels: str) -> str:
    """The unit a table column or title names in parentheses: 'Value (USD millions)' -> 'USD millions'."""
    for label in labels:
        if m := _UNIT_HINT.search(label):
            return m.group(1).strip()
    return ""


def figures_of(text: str, where: str = "", arm: str = "", unit: str = "") -> list[Figure]:
    """Figures of marked text, each linked to the first marker after it in its sentence (else the last before it);
    `unit` stands for figures that state none (a table cell under 'Value (USD millions)')."""
    out = []
    for sentence in _SENTENCE.split(text):
        marks = [(m.start(), int(m.group(1))) for m in MARK.finditer(sentence)]
        for s in stated_in(sentence):
            after = [n for at, n in marks if at >= s.end]
            before = [n for at, n in marks if at < s.start]
            note = after[0] if after else (before[-1] if before else None)
            statement = (f"{where}: " if where else "") + " ".join(unmark(sentence).split())
            out.append(Figure(statement[:2000], s.text, s.value, s.unit or unit, note, arm))
    return out
