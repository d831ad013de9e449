"""Where a cited quote or figure sits on a page image: boxes from the page's glyphs, matched as the citation checker matches."""

from __future__ import annotations

from dataclasses import dataclass

from agent.citations import _ELLIPSIS, _squash, figures
from corpus.page_image import Glyph

MAX_BOXES = 40
MAX_OCCURRENCES = 50  # candidate places per quote segment (a figure repeated down a table)
_CELL = "|"  # text extraction may join table cells with " | "; the printed page has no such mark


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Match:
    boxes: list[Box]
    how: str | None  # "quote" (the text itself), "figures" (its figures), None (not on this page)


def _stream(glyphs: list[Glyph]) -> tuple[str, list[int]]:
    """The page's characters squashed like the checker's (no whitespace, folded case and dashes), and each one's glyph."""
    chars: list[str] = []
    owner: list[int] = []
    for i, g in enumerate(glyphs):
        for ch in _squash(g.char):
            if ch != _CELL:
                chars.append(ch)
                owner.append(i)
    return "".join(chars), owner


def _segments(quote: str) -> list[str]:
    """Parts of the quote that must each appear: split at ellipses and at table-cell marks."""
    out = []
    for part in _ELLIPSIS.split(quote):
        for cell in part.split(_CELL):
            squashed = _squash(cell)
            if squashed:
                out.append(squashed)
    return out


def _occurrences(stream: str, needle: str) -> list[int]:
    found, pos = [], stream.find(needle)
    while pos >= 0 and len(found) < MAX_OCCURRENCES:
        found.append(pos)
        pos = stream.find(needle, pos + 1)
    return found


def _centre_y(glyphs: list[Glyph], owner: list[int], start: int, end: int) -> float:
    g0, g1 = glyphs[owner[start]], glyphs[owner[end - 1]]
    return (g0.y0 + g0.y1 + g1.y0 + g1.y1) / 4


def _boxes(glyphs: list[Glyph], indexes: list[int]) -> list[Box]:
    """One box per printed line the characters lie on (their union)."""
    by_line: dict[int, list[float]] = {}
    for i in indexes:
        g = glyphs[i]
        box = by_line.get(g.line)
        if box is None:
            by_line[g.line] = [g.x0, g.y0, g.x1, g.y1]
        else:
            box[0], box[1], box[2], box[3] = min(box[0], g.x0), min(box[1], g.y0), max(box[2], g.x1), max(box[3], g.y1)
    return [Box(round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)) for x0, y0, x1, y1 in by_line.values()][
        :MAX_BOXES
    ]


def _quote_spans(stream: str, segments: list[str], glyphs: list[Glyph], owner: list[int]) -> list[tuple[int, int]] | None:
    """Each segment's place on the page: in order when the page prints it in order, else the one nearest the row before."""
    spans: list[tuple[int, int]] = []
    end = 0
    in_order = True
    for segment in segments:
        pos = stream.find(segment, end) if in_order else -1
        if pos < 0:
            in_order = False
            places = _occurrences(stream, segment)
            if not places:
                return None
            if spans:  # table cells come out in column order: take the value on the label's row
                anchor = _centre_y(glyphs, owner, *spans[-1])
                pos = min(places, key=lambda p: abs(_centre_y(glyphs, owner, p, p + len(segment)) - anchor))
            else:
                pos = places[0]
        spans.append((pos, pos + len(segment)))
        end = pos + len(segment)
    return spans


def find_boxes(quote: str, glyphs: list[Glyph]) -> Match:
    """Boxes of `quote` on the page (whitespace, split words, line wraps and ellipses tolerated), else of its telling figures."""
    stream, owner = _stream(glyphs)
    segments = _segments(quote)
    if not stream or not segments:
        return Match([], None)
    spans = _quote_spans(stream, segments, glyphs, owner)
    if spans is not None:
        indexes = sorted({owner[i] for start, end in spans for i in range(start, end)})
        return Match(_boxes(glyphs, indexes), "quote")
    wanted = set(figures(quote, telling=True))
    if not wanted:
        return Match([], None)
    hits: list[list[int]] = []
    found: set[str] = set()
    for word in _words(glyphs):
        text = "".join(glyphs[i].char for i in word)
        matched = wanted.intersection(figures(text))
        if matched:
            found |= matched
            digits = [i for i in word if glyphs[i].char.isdigit() or glyphs[i].char in ",."]
            hits.append(digits or word)
    if not found or len(found) * 2 < len(wanted):  # the checker's bar for figures: most of them on the page
        return Match([], None)
    boxes = [box for word in hits for box in _boxes(glyphs, word)]
    return Match(boxes[:MAX_BOXES], "figures")


def _words(glyphs: list[Glyph]) -> list[list[int]]:
    """Glyph indexes of each printed word (a run of non-space characters on one line)."""
    words: list[list[int]] = []
    current: list[int] = []
    line = None
    for i, g in enumerate(glyphs):
        if g.char.isspace() or g.line != line:
            if current:
                words.append(current)
            current = []
            line = g.line
        if not g.char.isspace():
            current.append(i)
    if current:
        words.append(current)
    return words
