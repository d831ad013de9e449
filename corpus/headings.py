"""Headings of a filing: the line view finders scan, and tests telling a heading from a mention or contents entry."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from operator import add

from corpus.text import PagedText


@dataclass
class Section:
    """A heading-delimited part of a document; lines and pages are 1-based and inclusive."""

    kind: str  # item | statement | note
    key: str  # unique within a document: "Item 7", "Part II Item 1A", "Balance Sheet", "Note 12"
    title: str
    number: str | None
    start_line: int
    end_line: int
    start_page: int
    end_page: int
    children: list[Section] = field(default_factory=list)


DASHES = r"\-\u2013\u2014"
CONTINUED_RE = re.compile(r"\(?\bcont(?:inued|['’]d)\b", re.I)
# Page references in a table of contents: "12", "F-3", "43-90", "...... 12", "Risk Factors 12".
_PAGE_REF_RE = re.compile(r"^(?:page[ \t]*)?(?:[A-Z]-?)?\d{1,3}(?:[ \t]*[-\u2013][ \t]*(?:[A-Z]-?)?\d{1,3})?$", re.I)
_TRAILING_REF_RE = re.compile(r"(?:\.{3,}|\s)[ \t]*(?:[A-Z]-)?\d{1,3}(?:[ \t]*[-\u2013][ \t]*(?:[A-Z]-)?\d{1,3})?$")
_YEAR_END_RE = re.compile(r"\b(?:19|20)\d\d$")
_DOT_LEADER_RE = re.compile(r"(?:\.[ \t]?){4,}")
_MENTION_RE = re.compile(r"\b(?:of this|in this|of our|herein|incorporated|included in|see|refer)\b", re.I)
# A line ending like this runs on into the next one, so an "Item 7" starting the next line is a mention.
_RUNS_ON_RE = re.compile(
    r"(?:\b(?:see|in|to|under|and|or|of|the|our|within|also|refer|with|by|from|at|captioned|entitled|including|"
    r"included|as|this|its|on|for|per|discussed|described|contained)|[,(“])$",
    re.I,
)
_LETTER_RE = re.compile(r"[A-Za-z]")
_CONNECTOR_RE = re.compile(r"(?:\b(?:and|of|or|the|for|in|to|on|from)|[&,\-\u2013\u2014])$", re.I)


def line_starts(lines: tuple[str, ...]) -> list[int]:
    """Offset of each line in the lines joined by "\n", then one past the end: len(lines) + 1 entries."""
    lengths = accumulate(map(len, lines), initial=0)
    return list(map(add, lengths, range(len(lines) + 1)))


def prev_nonempty(lines: tuple[str, ...], line: int) -> str:
    """The nearest non-empty line before 1-based `line`, or "" at the top."""
    j = line - 1
    while j >= 1 and not lines[j - 1]:
        j -= 1
    return lines[j - 1] if j >= 1 else ""


def runs_on(previous_line: str) -> bool:
    """Whether a line stops mid-sentence ("... see"), so a label opening the next line is a mention, not a heading."""
    return not previous_line[:4].upper() == "PART" and bool(_RUNS_ON_RE.search(previous_line))


def after_run_on(lines: tuple[str, ...], line: int) -> bool:
    """Whether 1-based `line` continues a sentence left open by the non-empty line before it."""
    return runs_on(prev_nonempty(lines, line))


class DocView:
    """Lines, joined text and page lookup of one document, prepared once."""

    def __init__(self, text: PagedText) -> None:
        self.paged = text
        self.lines = text.lines
        self.n = len(text.lines)
        # Every line follows a newline, so patterns start with a literal "\n" that the regex engine scans for
        # quickly (a "^" anchor is tried at every character).
        self.body = "\n" + "\n".join(text.lines)
        self.offsets = line_starts(text.lines)  # position of the "\n" before each line

    def page(self, line: int) -> int:
        return bisect.bisect_right(self.paged.page_starts, line)

    def matches(self, pattern: re.Pattern[str], lo: int = 1, hi: int | None = None) -> Iterator[tuple[int, re.Match[str]]]:
        """(1-based line, match) for each match of a "\n"-led pattern starting on lines lo..hi."""
        hi = self.n if hi is None else hi
        if lo > hi:
            return
        end = self.offsets[hi] if hi < self.n else len(self.body)
        for m in pattern.finditer(self.body, self.offsets[lo - 1], end):
            yield bisect.bisect_right(self.offsets, m.start()), m

    def page_head(self, page: int, count: int) -> list[int]:
        """1-based line numbers of the first `count` non-empty lines of 1-based `page`."""
        start, end = self.paged.page_span(page)
        return [j for j in range(start, min(end, start + 3 * count) + 1) if self.lines[j - 1]][:count]

    def next_nonempty(self, line: int, count: int) -> list[int]:
        """Up to `count` 1-based line numbers of non-empty lines after `line`."""
        out: list[int] = []
        j = line
        while len(out) < count and j < self.n:
            j += 1
            if self.lines[j - 1]:
                out.append(j)
        return out


def make_section(doc: DocView, kind: str, key: str, title: str, number: str | None, start: int, end: int) -> Section:
    return Section(kind, key, title, number, start, end, doc.page(start), doc.page(end))


def set_end(doc: DocView, section: Section, end: int) -> None:
    section.end_line = max(end, section.start_line)
    section.end_page = doc.page(section.end_line)


def container_end(items: list[Section], line: int, default: int) -> int:
    """End of the item holding `line`; outside every item, the line before the next item starts."""
    for s in items:
        if s.start_line <= line <= s.end_line:
            return s.end_line
        if s.start_line > line:
            return s.start_line - 1
    return default


# PDF text layers sometimes split the last glyph off a word ("Busines s", "Registrant’ s"); in a
# heading a lone lowercase letter after a lowercase word or an apostrophe is such a fragment,
# except the words "a" and "i" unless they end the title ("Selected Financial Dat a").
_SPLIT_GLYPH_RE = re.compile(r"(?<=[a-z’'])\s(?=[b-hj-z]\b|[ai]$)")


def clean_title(title: str) -> str:
    title = title.replace(" | ", " ")  # a heading set as a table row: "Item 7. | Management's Discussion"
    return _SPLIT_GLYPH_RE.sub("", title.strip().strip(".:;|\u2013\u2014- ").strip())


def title_after(doc: DocView, line: int, rest: str) -> tuple[str, int]:
    """Heading title printed on the line or, when the line holds only the label, on the next lines."""
    last = line
    title = rest.strip().lstrip("|").strip()
    if not _LETTER_RE.search(title):
        nxt = doc.next_nonempty(line, 1)
        if not nxt:
            return "", line
        cand = doc.lines[nxt[0] - 1]
        if not cand[:1].isalpha() and cand[:1] not in "“\"'(":
            return "", line
        title, last = cand, nxt[0]
    if _CONNECTOR_RE.search(title) and len(title) < 120:
        nxt = doc.next_nonempty(last, 1)
        if nxt and doc.lines[nxt[0] - 1][:1].isalpha():
            title, last = f"{title} {doc.lines[nxt[0] - 1]}", nxt[0]
    return title, last


def is_mention(title: str) -> bool:
    """Text that continues a sentence: reference words, or a closing quote opened on an earlier line."""
    if _MENTION_RE.search(title) or title.count("”") > title.count("“") or title.count('"') % 2:
        return True
    return title[:1].islower()


def looks_like_toc_entry(doc: DocView, line: int, title_line: int, title: str) -> bool:
    """A heading followed by a page number (same line, or the next line) or dot leaders is a table-of-contents entry."""
    if _DOT_LEADER_RE.search(title):
        return True
    if _TRAILING_REF_RE.search(title) and not _YEAR_END_RE.search(title):
        return True
    nxt = doc.next_nonempty(title_line, 1)
    return bool(nxt) and bool(_PAGE_REF_RE.match(doc.lines[nxt[0] - 1]))


def toc_ends(doc: DocView, entries: list[tuple[int, bool, str]]) -> dict[int, int]:
    """Page -> last line of the table of contents (or cross-reference index) on it, for pages that hold one."""
    # Contents: several headings carrying page numbers, or ten headings crowding a page (page numbers printed
    # elsewhere). They end at the last entry, as a real heading may follow on the same page.
    per_page: dict[int, list[tuple[int, bool, str]]] = {}
    for entry in entries:
        per_page.setdefault(doc.page(entry[0]), []).append(entry)
    ends: dict[int, int] = {}
    for page, found in per_page.items():
        numbered = [line for line, is_entry, _key in found if is_entry]
        distinct = len({key for _line, is_entry, key in found if is_entry})
        if distinct >= 3 or (distinct >= 2 and 2 * len(numbered) >= len(found)):
            ends[page] = numbered[-1]
        elif len({key for _line, _e, key in found}) >= 10:
            dense = [b[0] for a, b in zip(found, found[1:]) if b[0] - a[0] <= 6]
            ends[page] = dense[-1] if dense else found[-1][0]
    return ends


def in_toc(doc: DocView, toc: dict[int, int], line: int) -> bool:
    return line <= toc.get(doc.page(line), 0)
