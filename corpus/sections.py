"""Section tree of a filing: Items, primary financial statements and numbered notes, with line spans."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from corpus.financials import STATEMENT_KEYS, find_financials
from corpus.headings import (
    CONTINUED_RE,
    DASHES,
    DocView,
    Section,
    after_run_on,
    clean_title,
    in_toc,
    is_mention,
    looks_like_toc_entry,
    make_section,
    runs_on,
    set_end,
    title_after,
    toc_ends,
)
from corpus.text import PagedText

RUNNING_HEAD_LINES = 3  # lines a running header takes at the top of a page
RUNNING_HEAD_PAGES = 3  # a line printed at the top of this many pages is a running header ("AMAZON.COM, INC.")

# Section, STATEMENT_KEYS and runs_on live in corpus.headings and corpus.financials; callers import them from here.
__all__ = [
    "ITEMS_10K",
    "ITEMS_10Q",
    "STATEMENT_KEYS",
    "Section",
    "detect_sections",
    "find_section",
    "iter_sections",
    "runs_on",
    "section_at",
    "section_path",
]

# Items of each form in the order they must appear; 10-Q items carry their part.
ITEMS_10K = ("1", "1A", "1B", "1C", "2", "3", "4", "5", "6", "7", "7A", "8", "9", "9A", "9B", "9C") + tuple(
    str(n) for n in range(10, 17)
)
ITEMS_10Q = (("I", "1"), ("I", "2"), ("I", "3"), ("I", "4")) + tuple(("II", n) for n in ("1", "1A", "2", "3", "4", "5", "6"))

# What the printed title of each item says, so a heading can be told from a stray "Item 7".
_TITLES_10K = {
    "1": r"business",
    "1A": r"risk\s+factors",
    "1B": r"unresolved",
    "1C": r"cyber",
    "2": r"propert",
    "3": r"legal\s+proceedings",
    "4": r"mine\s+safety|submission\s+of\s+matters|reserved|removed",
    "5": r"market\s+for",
    "6": r"selected|reserved|removed",
    "7": r"management\W{0,3}s?\s+discussion",
    "7A": r"quantitative|market\s+risk",
    "8": r"financial\s+statements",
    "9": r"disagreements",
    "9A": r"controls\s+and\s+procedures",
    "9B": r"other\s+information",
    "9C": r"foreign\s+jurisdictions|inspections",
    "10": r"directors",
    "11": r"executive\s+compensation",
    "12": r"security\s+ownership",
    "13": r"certain\s+relationships|related\s+transactions",
    "14": r"principal\s+account|accountant\s+fees",
    "15": r"exhibits",
    "16": r"summary",
}
_TITLES_10Q = {
    ("I", "1"): r"financial\s+statements",
    ("I", "2"): r"management\W{0,3}s?\s+discussion",
    ("I", "3"): r"quantitative|market\s+risk",
    ("I", "4"): r"controls\s+and\s+procedures",
    ("II", "1"): r"legal\s+proceedings",
    ("II", "1A"): r"risk\s+factors",
    ("II", "2"): r"unregistered|repurchases",
    ("II", "3"): r"defaults",
    ("II", "4"): r"mine\s+safety|reserved|removed|submission",
    ("II", "5"): r"other\s+information",
    ("II", "6"): r"exhibits",
}
_TITLE_RE_10K = {k: re.compile(v, re.I) for k, v in _TITLES_10K.items()}
_TITLE_RE_10Q = {k: re.compile(v, re.I) for k, v in _TITLES_10Q.items()}

_ITEM_RE = re.compile(
    rf"\n(?:PART[ \t]+(IV|I{{1,3}})\b[ \t.,:;{DASHES}]*)?ITEMS?[ \t]*\n?[ \t]*(\d{{1,2}})[ \t]?([A-C])?(?![A-Za-z0-9])"
    rf"([ \t]*[.:,{DASHES}]*)[ \t]*(.*)$",
    re.I | re.M,
)
_JOINT_ITEMS_RE = re.compile(rf"^(?:and|&|,)[ \t]*\d{{1,2}}[A-C]?\b[ \t]*[.:{DASHES}]*[ \t]*", re.I)
_PART_RE = re.compile(rf"\nPART[ \t]+(IV|I{{1,3}})\b[ \t]*[.:{DASHES}]?[ \t]*(.*)$", re.I | re.M)


def detect_sections(text: PagedText, form_type: str | None = None) -> list[Section]:
    """Items in document order; statements and notes nested under the Item holding them (Item 8, Part I Item 1)."""
    if not text.lines:
        return []
    doc = DocView(text)
    form = _scheme(doc, form_type)
    items = _find_items(doc, form) if form in ("10-K", "10-Q") else []
    sections = _nest(items, find_financials(doc, items, _financial_item(items, form)))
    _start_at_page_top(doc, sections)
    return sections


def _start_at_page_top(doc: DocView, sections: list[Section]) -> None:
    """A heading with only the running header above it on its page ("Table of Contents", the company's name) starts the
    section at the top of that page, so the page's first lines no longer count to the section before."""
    tops = Counter(
        doc.lines[j - 1].strip() for page in range(1, doc.paged.page_count + 1) for j in doc.page_head(page, RUNNING_HEAD_LINES)
    )
    flat = list(iter_sections(sections))
    starts = {s.start_line for s, _p, _d in flat}
    for s, parent, _depth in flat:
        top = doc.paged.page_span(s.start_page)[0]
        if (
            top >= s.start_line
            or any(top <= t < s.start_line for t in starts)
            or (parent is not None and parent.start_line > top)
        ):
            continue
        head = [doc.lines[j - 1].strip() for j in range(top, s.start_line) if doc.lines[j - 1].strip()]
        if len(head) > RUNNING_HEAD_LINES or not all(
            h.lower() == "table of contents" or tops[h] >= RUNNING_HEAD_PAGES for h in head
        ):
            continue
        for t, _p, _d in flat:
            if t.start_line < top <= t.end_line < s.start_line:
                set_end(doc, t, top - 1)
        starts.discard(s.start_line)
        s.start_line = top
        starts.add(top)


def iter_sections(sections: list[Section]) -> Iterator[tuple[Section, Section | None, int]]:
    """Pre-order walk: (section, parent, depth)."""
    stack: list[tuple[Section, Section | None, int]] = [(s, None, 0) for s in reversed(sections)]
    while stack:
        section, parent, depth = stack.pop()
        yield section, parent, depth
        stack.extend((c, section, depth + 1) for c in reversed(section.children))


def section_path(sections: list[Section], key: str) -> str | None:
    """Breadcrumb of the section with `key`, e.g. 'Item 8 > Note 12 Leases'; None when absent."""
    trail: list[Section] = []
    for section, _parent, depth in iter_sections(sections):
        del trail[depth:]
        trail.append(section)
        if section.key == key:
            return " > ".join(_label(s) for s in trail)
    return None


def find_section(sections: list[Section], key: str) -> Section | None:
    """The section with `key` anywhere in the tree, else None."""
    return next((s for s, _p, _d in iter_sections(sections) if s.key == key), None)


def section_at(sections: list[Section], line: int) -> Section | None:
    """Innermost section whose span holds 1-based `line`."""
    found = None
    level = sections
    while level:
        hit = next((s for s in level if s.start_line <= line <= s.end_line), None)
        if hit is None:
            break
        found, level = hit, hit.children
    return found


def _label(section: Section) -> str:
    if section.kind == "note" and section.title:
        return f"{section.key} {section.title}"
    return section.key


def _scheme(doc: DocView, form_type: str | None) -> str:
    """Which heading scheme to look for: 10-K, 10-Q, or none (8-K, earnings release)."""
    form = (form_type or "").strip().upper()
    if form in ("10-K", "10K", "ANNUAL REPORT"):
        return "10-K"
    if form in ("10-Q", "10Q"):
        return "10-Q"
    if form in ("8-K", "8K", "EARNINGS RELEASE"):
        return "none"
    head = "\n".join(doc.paged.page_text(p) for p in range(1, min(doc.paged.page_count, 3) + 1))
    # Covers carry both "ANNUAL REPORT" and "QUARTERLY REPORT" check boxes; the period line and the first form
    # name tell them apart.
    m = _COVER_RE.search(head)
    if m:
        return "10-Q" if m.group("q") or m.group("q2") else "10-K" if m.group("k") or m.group("k2") else "none"
    return "10-K"


_COVER_RE = re.compile(
    r"for\s+the\s+(?:(?P<k>(?:fiscal\s+)?year\s+ended)|(?P<q>quarterly\s+period\s+ended))"
    r"|FORM\s+(?:(?P<k2>10-K)|(?P<q2>10-Q)|(?P<e>8-K))",
    re.I,
)


@dataclass
class _Cand:
    line: int
    order: int  # position in the form's item sequence
    key: str
    number: str
    title: str
    weight: float


def _find_items(doc: DocView, form: str) -> list[Section]:
    raw: list[tuple[int, str | None, str, str, int]] = []  # line, part, number, title, title_line
    for line, m in doc.matches(_ITEM_RE):
        part, num, letter, sep, rest = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        number = (num.lstrip("0") or "0") + (letter or "").upper()
        rest = _JOINT_ITEMS_RE.sub("", rest.strip())  # "Items 1 and 2. Business and Properties" heads Item 1
        if rest[:1].islower() or rest[:1].isdigit() or "," in sep or CONTINUED_RE.search(rest[:40]):
            continue
        title, title_line = title_after(doc, line, rest)
        if is_mention(title) or after_run_on(doc.lines, line):
            continue
        raw.append((line, part.upper() if part else None, number, title, title_line))
    entries = [(r[0], looks_like_toc_entry(doc, r[0], r[4], r[3]), f"{r[1]} {r[2]}") for r in raw]
    toc = toc_ends(doc, entries)
    parts = [(line, m.group(1).upper()) for line, m in doc.matches(_PART_RE) if not m.group(2)[:1].islower()]
    parts = [(line, p) for line, p in parts if not in_toc(doc, toc, line)]
    part_lines = [line for line, _ in parts]

    cands: list[_Cand] = []
    for (line, part, number, title, _tl), (_l, is_entry, _k) in zip(raw, entries):
        if in_toc(doc, toc, line):
            continue
        base = 1.0 - (1.5 if is_entry else 0.0)
        if form == "10-K":
            if number not in _TITLE_RE_10K:
                continue
            weight = base + (2.0 if _TITLE_RE_10K[number].search(title) else 0.0)
            cands.append(_Cand(line, ITEMS_10K.index(number), f"Item {number}", number, title, weight))
            continue
        options = [p for p in ("I", "II") if (p, number) in _TITLE_RE_10Q]
        if part in options:
            options = [part]
        matched = [p for p in options if _TITLE_RE_10Q[(p, number)].search(title)]
        if not matched:
            i = bisect.bisect_right(part_lines, line) - 1
            if i >= 0 and parts[i][1] in options:
                options = [parts[i][1]]
        for p in options:
            weight = base + (2.0 if p in matched else 0.0)
            cands.append(_Cand(line, ITEMS_10Q.index((p, number)), f"Part {p} Item {number}", number, title, weight))
    chosen = _best_increasing(cands, len(ITEMS_10K) if form == "10-K" else len(ITEMS_10Q))
    items: list[Section] = []
    for i, c in enumerate(chosen):
        end = chosen[i + 1].line - 1 if i + 1 < len(chosen) else doc.n
        items.append(make_section(doc, "item", c.key, clean_title(c.title), c.number, c.line, end))
    return items


def _best_increasing(cands: list[_Cand], size: int) -> list[_Cand]:
    """Heaviest chain of candidates whose order rises with line number; ties go to the earlier line."""
    best: list[tuple[float, int]] = [(0.0, -1)] * size  # (score, index of chain end) per order
    back: list[int] = []
    scores: list[float] = []
    i = 0
    while i < len(cands):
        j = i
        while j < len(cands) and cands[j].line == cands[i].line:
            j += 1
        updates = []
        for k in range(i, j):
            c = cands[k]
            prev_score, prev_idx = max(best[: c.order], default=(0.0, -1), key=lambda t: t[0])
            if prev_score < 0:
                prev_score, prev_idx = 0.0, -1
            scores.append(prev_score + c.weight)
            back.append(prev_idx)
            updates.append(k)
        for k in updates:
            o = cands[k].order
            if scores[k] > best[o][0]:
                best[o] = (scores[k], k)
        i = j
    top_score, idx = max(best, key=lambda t: t[0], default=(0.0, -1))
    chain: list[_Cand] = []
    while idx >= 0 and top_score > 0:
        chain.append(cands[idx])
        idx = back[idx]
    chain.reverse()
    return [c for c in chain if c.weight > 0]


def _financial_item(items: list[Section], form: str) -> Section | None:
    key = "Item 8" if form == "10-K" else "Part I Item 1"
    return next((s for s in items if s.key == key), None)


def _nest(items: list[Section], children: list[Section]) -> list[Section]:
    top: list[Section] = list(items)
    for child in sorted(children, key=lambda s: s.start_line):
        parent = next((s for s in items if s.start_line <= child.start_line <= s.end_line), None)
        if parent is None:
            top.append(child)
        else:
            parent.children.append(child)
    top.sort(key=lambda s: s.start_line)
    return top
