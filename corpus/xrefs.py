"""Cross-references inside a filing ("See Note 12", "Part II, Item 7") resolved against its section tree."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from corpus.headings import after_run_on, line_starts
from corpus.sections import ITEMS_10Q, Section, iter_sections
from corpus.text import PagedText


@dataclass(frozen=True)
class CrossRef:
    """A phrase pointing at a note or item; `resolved` when that section exists in this document."""

    line: int  # 1-based line of the "Note"/"Item" word
    page: int
    text: str  # the phrase as found, e.g. "See Note 12", "Part II, Item 7"
    target_kind: str  # note | item
    target_key: str  # "Note 12", "Item 7", "Part II Item 1A"
    resolved: bool
    external: bool = False  # points into another filing ("Note 20 of our 2021 Form 10-K"); never resolved


_NUM = r"\d{1,2}[A-C]?"
_SEP = r"\s*(?:,\s*(?:and|or)?|and|or|&|through)\s*"
# A literal scan finds the words; the full pattern is then tried only there. Case-sensitive, so "notes due 2025"
# stays out.
_ANCHOR_RE = re.compile(r"Item|ITEM|Note|NOTE|Part|PART")
_REF_RE = re.compile(
    rf"(?:(?P<part>(?:PART|Part)\s+(?:IV|I{{1,3}})\b\s*[,.:\u2013\u2014-]?\s*)?"
    rf"(?P<iword>Items?|ITEMS?)\s+(?P<items>{_NUM}(?![\d.,]\d)(?:{_SEP}(?:Items?\s+)?{_NUM}\b)*)"
    # a later note of a list has a letter only after its own "Note": "Note 16, 3M" is Note 16 and the company 3M
    rf"|(?P<nword>Notes?|NOTES?)\s+(?P<notes>\d{{1,2}}[A-Z]?(?![\d.,]\d)(?:{_SEP}(?:Notes?\s+\d{{1,2}}[A-Z]?|\d{{1,2}})\b)*))"
    rf"(?![\w%$])"
)
_LEAD_RE = re.compile(
    r"(?:\b(?:[Ss]ee(?:\s+also)?|[Rr]efer(?:\s+to)?|[Rr]eferences?\s+to"
    r"|(?:[Ii]ncluded|[Dd]escribed|[Dd]iscussed|[Ss]et\s+forth|[Cc]ontained)\s+in)\s+)$"
)
_PART_AFTER_RE = re.compile(r"\s*(?:of|in)\s+Part\s+(IV|I{1,3})\b")
_TAIL_RE = re.compile(
    r"\s*(?:of|to|in)\s+(?:the\s+|our\s+|these\s+|this\s+)?"
    r"(?:(?:Notes?\s+to\s+(?:the\s+)?)?(?:Condensed\s+)?Consolidated\s+Financial\s+Statements"
    r"|(?:Annual\s+)?Report(?:\s+on\s+Form\s+10-[KQ])?|Form\s+10-[KQ])",
    re.I,
)
# "of the 2021 Form 10-K", "in JPMorgan Chase's 2021 Form 10-K": the target lives in another filing.
_EXTERNAL_RE = re.compile(
    r"\b(?:of|in)\s+(?:the\s+|our\s+|its\s+|(?:[A-Z][\w&.]*\s+){0,3}[A-Z][\w&.]*[’']s\s+)?"
    r"(?:(?:\d{4}|prior|previous|last|most\s+recent)\s+(?:year[’']s\s+)?(?:Annual\s+Report\s+on\s+)?Form\s+10-K"
    r"|(?:most\s+recent\s+)?Annual\s+Report\s+on\s+Form\s+10-K)"
)
_EXTERNAL_STOP_RE = re.compile(r";|\.\s+[A-Z]|\bthis\b|\bNotes?\s+\d|\bItems?\s+\d")
_EXTERNAL_WINDOW = 120
_OTHER_YEAR_RE = re.compile(r"\d{4}|prior|previous|last")
_DIGITS_RE = re.compile(r"\d+")
_ROMAN_RE = re.compile(r"IV|I{1,3}")
_LABEL_RE = re.compile(r"^\S+\s+\S+")  # "Note 12", "Item 7.", "PART II,"

_SPLIT_RE = re.compile(_SEP + r"(?:Items?\s+|Notes?\s+)?")
# A contents page: this many heading-like lines on it that end in, or are followed by, a page number.
_CONTENTS_ENTRIES = 3
_PAGE_NUMBER_RE = re.compile(r"(?:^|\s|\.{3,})(?:[A-Z]-)?\d{1,3}(?:\s*[-\u2013]\s*\d{1,3})?$")


def find_cross_references(text: PagedText, sections: list[Section], form_type: str | None = None) -> list[CrossRef]:
    """Note and item references in document order; headings, running heads and contents pages are left out."""
    if not text.lines:
        return []
    body = "\n".join(text.lines)
    starts = line_starts(text.lines)
    keys = {s.key for s, _p, _d in iter_sections(sections)}
    heading_lines = {s.start_line for s, _p, _d in iter_sections(sections)}
    quarterly = (form_type or "").upper().replace("-", "") == "10Q" or any(k.startswith("Part ") for k in keys)
    parts = sorted((s.start_line, s.key.split()[1]) for s in sections if s.kind == "item" and s.key.startswith("Part "))

    found: list[tuple[re.Match[str], int, int]] = []  # match, line of the Item/Note word, first character
    entries_per_page: dict[int, list[int]] = {}  # page -> lines of contents entries on it
    for m in _matches(body):
        token = m.start("iword") if m.group("iword") else m.start("nword")
        first = m.start("part") if m.group("part") else token
        first_line = bisect.bisect_right(starts, first)
        if _is_heading(text.lines, first_line, first - starts[first_line - 1]):
            if _is_contents_entry(text.lines, first_line):
                entries_per_page.setdefault(text.page_of_line(first_line), []).append(first_line)
            continue
        found.append((m, bisect.bisect_right(starts, token), first))

    # Contents run from the top of such a page to its last entry; text after it (a first heading) is kept.
    contents_end = {p: max(lines) for p, lines in entries_per_page.items() if len(lines) >= _CONTENTS_ENTRIES}
    refs: list[CrossRef] = []
    for m, line, first in found:
        page = text.page_of_line(line)
        if line in heading_lines or line <= contents_end.get(page, 0):
            continue
        phrase = _phrase(body, m, first)
        external = _is_external(body, m.end(), quarterly)
        if m.group("notes"):
            for number in _numbers(m.group("notes")):
                key = f"Note {int(_DIGITS_RE.match(number).group())}"
                refs.append(CrossRef(line, page, phrase, "note", key, key in keys and not external, external))
            continue
        part = m.group("part")
        explicit = _ROMAN_RE.search(part).group() if part else None
        if explicit is None:
            after = _PART_AFTER_RE.match(body, m.end())
            explicit = after.group(1) if after else None
        for number in _numbers(m.group("items")):
            key = _item_key(number.upper(), explicit, quarterly, parts, line)
            refs.append(CrossRef(line, page, phrase, "item", key, key in keys and not external, external))
    return _once_per_line(refs)


def _once_per_line(refs: list[CrossRef]) -> list[CrossRef]:
    """One reference per line and target: "as discussed in Note 16. As discussed in Note 16, ..." points once."""
    seen: set[tuple[int, str]] = set()
    out: list[CrossRef] = []
    for ref in refs:
        if (ref.line, ref.target_key) not in seen:
            seen.add((ref.line, ref.target_key))
            out.append(ref)
    return out


def _phrase(body: str, m: re.Match[str], first: int) -> str:
    """The reference as printed, with a leading "See"/"refer to", a trailing "of this report" and parentheses."""
    lead = _LEAD_RE.search(body, max(0, first - 30), first)
    start = lead.start() if lead else first
    tail = _TAIL_RE.match(body, m.end())
    end = tail.end() if tail else m.end()
    if start > 0 and body[start - 1] == "(" and body[end : end + 1] == ")":
        start, end = start - 1, end + 1
    return " ".join(body[start:end].split())


def _matches(body: str) -> Iterator[re.Match[str]]:
    done = 0
    for anchor in _ANCHOR_RE.finditer(body):
        pos = anchor.start()
        if pos < done or (pos > 0 and body[pos - 1].isalnum()):
            continue
        m = _REF_RE.match(body, pos)
        if m:
            done = m.end()
            yield m


def _is_external(body: str, pos: int, quarterly: bool) -> bool:
    """Whether the words after a reference, up to the end of its clause, name another filing."""
    window = body[pos : pos + _EXTERNAL_WINDOW]
    stop = _EXTERNAL_STOP_RE.search(window, 3)
    window = window[: stop.start()] if stop else window
    m = _EXTERNAL_RE.search(window)
    if m is None:
        return False
    # In a 10-K, "our Annual Report on Form 10-K" is the filing itself; only a year or "prior" makes it another.
    return quarterly or "Annual Report on Form" not in m.group() or bool(_OTHER_YEAR_RE.search(m.group()))


def _numbers(group: str) -> list[str]:
    """'3, 4 and 5' -> ['3', '4', '5']; '3 through 5' -> ['3', '4', '5']."""
    numbers = [n for n in _SPLIT_RE.split(group) if n]
    if "through" in group and len(numbers) == 2 and numbers[0].isdigit() and numbers[1].isdigit():
        lo, hi = int(numbers[0]), int(numbers[1])
        if 0 < hi - lo <= 5:
            return [str(n) for n in range(lo, hi + 1)]
    return numbers


def _is_heading(lines: tuple[str, ...], line: int, col: int) -> bool:
    """A reference word opening its line, after a line that ends a sentence, is a heading or contents entry."""
    if col != 0:
        return False
    rest = _LABEL_RE.sub("", lines[line - 1], count=1).lstrip(" .:\u2013\u2014-")
    if rest[:1].islower() or rest.startswith(("(", ")", ",")):
        return False
    return not after_run_on(lines, line)


def _is_contents_entry(lines: tuple[str, ...], line: int) -> bool:
    """A heading-like line carrying a page number, on the line itself or the next one or two."""
    if _PAGE_NUMBER_RE.search(lines[line - 1]):
        return True
    return any(_PAGE_NUMBER_RE.match(lines[j]) for j in range(line, min(len(lines), line + 2)))


def _item_key(number: str, explicit: str | None, quarterly: bool, parts: list[tuple[int, str]], line: int) -> str:
    """A 10-Q item takes the stated part, else the part being read, else the part that has it; 10-K items are unique."""
    if not quarterly:
        return f"Item {number}"
    has = [p for p in ("I", "II") if (p, number) in ITEMS_10Q]
    if explicit:
        return f"Part {explicit} Item {number}"
    i = bisect.bisect_right([start for start, _ in parts], line) - 1
    current = parts[i][1] if i >= 0 else "I"
    if current in has:
        return f"Part {current} Item {number}"
    if has:
        return f"Part {has[0]} Item {number}"
    return f"Item {number}"
