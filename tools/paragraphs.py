"""A section's text as paragraphs: page furniture (folios, running heads) dropped, wrapped lines and page breaks joined."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from corpus.folios import EDGE_LINES
from corpus.text import PagedText

MAX_PARAGRAPH_LINES = 60  # a longer run of lines (a big table) is cut into paragraphs of this many lines
MAX_PARAGRAPH_CHARS = 6000
FURNITURE_PAGES = 3  # a line at the edge of this many pages is a running head or foot ("Table of Contents", "PepsiCo 2022")
_FURNITURE_CHARS = 100
_FOLIO_RE = re.compile(r"^(?:page\s+)?(?:[A-Z]\s?[-\u2013]\s?)?\d{1,4}$|^table of contents$", re.I)
# A line that ends a sentence or a heading: ".", "?", ":" ... possibly closed by a quote, or "(see Note 5)".
_TERMINAL_RE = re.compile(r"(?:[.!?:;][\"\u201d\u2019)]*|[A-Za-z]\))$")
# A short line ending like this runs on into the next line (a page-end or column-end wrap, not a heading).
_RUNS_ON_RE = re.compile(
    r"(?:[,\-\u2013(]|\b(?:and|or|of|the|to|in|for|a|an|with|by|as|on|at|our|its|their|that|which|from|including))$", re.I
)
_SENTENCE_BREAK_RE = re.compile(r"[.!?][\"\u201d\u2019)]*\s+[A-Z(\"\u201c]")  # one sentence ends and another starts
_BULLET_RE = re.compile(r"^(?:[\u2022\u25cf\u25aa\u25e6\u00b7\u2023*]|\(?[a-z0-9ivx]{1,4}\))\s")
_WIDE_LINE = 200  # lines this long are whole paragraphs already (HTML filings store one paragraph per line)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a filing: its text as printed (wrapped lines joined), a comparison key, and where it is."""

    text: str
    key: str  # lowercase words without hyphens or punctuation: wrapping, hyphenation and spacing never differ
    page: int  # first page
    line: int  # first line
    end_page: int


def comparison_key(text: str) -> str:
    """'Coca-\\nCola's net sales: $1,577' -> 'cocacola s net sales 1 577'."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'").replace("-", "").replace("\u2013", " ")))


def furniture_lines(text: PagedText) -> frozenset[int]:
    """Line numbers of page furniture: folios, 'Table of Contents', and lines at the edge of many pages (running heads)."""
    edges: list[list[int]] = []
    seen: Counter[str] = Counter()
    for page in range(1, text.page_count + 1):
        start, end = text.page_span(page)
        filled = [n for n in range(start, end + 1) if text.lines[n - 1].strip()]
        edge = sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))
        edges.append(edge)
        seen.update({_shape(text.lines[n - 1]) for n in edge})
    out: set[int] = set()
    for edge in edges:
        for n in edge:
            line = text.lines[n - 1].strip()
            if _FOLIO_RE.match(line) or (len(line) <= _FURNITURE_CHARS and seen[_shape(line)] >= FURNITURE_PAGES):
                out.add(n)
    return frozenset(out)


def _shape(line: str) -> str:
    """A running head with its page number or year varying ('PepsiCo 2022 Annual Report 12') counts as one line."""
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def paragraphs(text: PagedText, start: int, end: int, furniture: frozenset[int] = frozenset()) -> list[Paragraph]:
    """Paragraphs of lines start..end (1-based, inclusive), furniture skipped; one split by a page break is one paragraph."""
    kept: list[tuple[int, str, bool]] = []  # (line, text, a blank line came before it)
    blank = False
    for n in range(start, end + 1):
        line = text.lines[n - 1].strip()
        if n in furniture:
            continue
        if not line:
            blank = True
            continue
        kept.append((n, line, blank))
        blank = False
    if not kept:
        return []
    lengths = sorted(len(s) for _, s, _ in kept)
    width = max(40, lengths[int(len(lengths) * 0.9)])
    texts = [s for _, s, _ in kept]
    page_ends = [
        i + 1 < len(kept) and text.page_of_line(kept[i + 1][0]) != text.page_of_line(n) for i, (n, _, _) in enumerate(kept)
    ]
    out: list[Paragraph] = []
    current: list[tuple[int, str]] = []
    heading_ends = -1
    for i, (n, line, after_blank) in enumerate(kept):
        if current and (after_blank or _BULLET_RE.match(line)):
            out.append(_paragraph(text, current))
            current = []
        current.append((n, line))
        size = sum(len(s) for _, s in current)
        heading = _heading_next(texts, i, width)
        if heading:
            heading_ends = i + heading  # the heading is a paragraph of its own: break before and after it
        if (
            i + 1 == len(kept)
            or heading
            or i == heading_ends
            or _ends(line, texts[i + 1], width, page_ends[i])
            or len(current) >= MAX_PARAGRAPH_LINES
            or size >= MAX_PARAGRAPH_CHARS
        ):
            out.append(_paragraph(text, current))
            current = []
    return [p for p in out if p.key]


def _ends(line: str, following: str, width: int, page_end: bool) -> bool:
    """Whether a paragraph ends after `line`: a short line closing a sentence, or a heading before prose."""
    short = len(line) < 0.75 * width
    if _TERMINAL_RE.search(line):
        return len(line) < 0.9 * width or len(line) >= _WIDE_LINE
    if not short or page_end or not line[:1].isupper() or _RUNS_ON_RE.search(line):
        return False  # a page's last line is often short only because the page ends there
    # a short capitalized line without a full stop: a heading when prose starts after it, else a table row or headings
    return following[:1].isupper() and len(following) >= 0.75 * width


def _heading_next(texts: list[str], i: int, width: int) -> int:
    """After a sentence end, one whole sentence on one line, or on two ending short, and prose after it: a heading (a
    risk factor's title), not the end of this paragraph; returns its lines (0: none). (In prose a sentence rarely
    starts and ends with its lines.)"""
    if not _TERMINAL_RE.search(texts[i]):
        return 0
    for span in (1, 2):
        if i + 1 + span >= len(texts):
            return 0
        lines, after = texts[i + 1 : i + 1 + span], texts[i + 1 + span]
        if span == 2 and _TERMINAL_RE.search(lines[0]):
            return 0
        if (
            lines[0][:1].isupper()
            and _TERMINAL_RE.search(lines[-1])
            and not _SENTENCE_BREAK_RE.search(" ".join(lines))
            and (span == 1 or len(lines[-1]) < 0.75 * width)
            and (after[:1].isupper() or _BULLET_RE.match(after))
        ):
            return span
    return 0


def _paragraph(text: PagedText, lines: list[tuple[int, str]]) -> Paragraph:
    joined = lines[0][1]
    for _, line in lines[1:]:
        # a line-end hyphen joins without a space ("Coca-" "Cola" -> "Coca-Cola"); the key ignores hyphens either way
        joined += line if joined.endswith(("-", "\u2013")) and joined[-2:-1].isalpha() else " " + line
    first, last = lines[0][0], lines[-1][0]
    return Paragraph(joined, comparison_key(joined), text.page_of_line(first), first, text.page_of_line(last))
