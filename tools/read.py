"""read: a filing's text by section, pages or lines, numbered, within a token budget, with its cross-references."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from corpus.models import CrossReference, Section
from tools.base import Citation
from tools.context import current
from tools.errors import ToolError
from tools.outline import (
    OpenedDocument,
    display_title,
    document_header,
    innermost,
    line_costs,
    open_document,
    page_marker,
    page_span,
    rendered_line,
    section_label,
)
from tools.registry import tool
from tools.tokens import CHARS_PER_TOKEN

MIN_TOKENS = 100
_MAX_REFERENCES = 25
_TRUNCATION_RESERVE = 120  # characters kept for the "[truncated at ...]" line, besides the doc_id

_RANGE_RE = re.compile(r"^(?:pages?|pp?\.?|lines?|l\.)?\s*(\d+)\s*(?:(?:-|\u2013|\u2014|to|:)\s*(\d+))?$", re.I)
_ITEM_QUERY_RE = re.compile(
    r"^(?:part\s*(iv|iii|ii|i)\b[\s,.:;\-\u2013\u2014]*)?items?\s*(\d{1,2})\s*([a-c])?(?![a-z0-9])[\s.:,;\-\u2013\u2014]*(.*)$", re.I
)
_NOTE_QUERY_RE = re.compile(r"^notes?\s*(?:no\.?\s*)?(\d{1,2})(?!\d)[\s.:,;\-\u2013\u2014]*(.*)$", re.I)
_FILLER_RE = re.compile(r"\b(?:the|consolidated|condensed|combined|interim|statements?|of|unaudited)\b|[()]")
_STOP_WORDS = {"the", "of", "and", "for", "in", "on", "to", "a", "an", "our", "consolidated", "condensed", "statement"}
# Queries naming a primary statement in the words filings use; matched on the query stripped of filler words.
_STATEMENT_ALIASES = (
    (re.compile(r"cash\s*flows?"), "Cash Flows"),
    (re.compile(r"comprehensive\s+(?:income|loss|earnings)(?:\s*\(?loss\)?)?"), "Comprehensive Income"),
    (re.compile(r"balance\s*sheets?|financial\s+(?:position|condition)"), "Balance Sheet"),
    (re.compile(r"income(?:\s+statements?)?|operations|earnings|profit\s+(?:and|&)\s+loss|p\s*&\s*l"), "Income Statement"),
    (re.compile(r"(?:changes\s+in\s+)?(?:(?:stock|share)holders['\u2019]?\s+|owners['\u2019]?\s+)?equity"), "Equity"),
)
_MDA_RE = re.compile(r"md\s*&\s*a|mda|management['\u2019]?s?\s+discussion.*")


def _words(text: str) -> list[str]:
    """Lowercase words in the singular; a lone 's' (PyMuPDF split "Flow s") is dropped."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("&", " and ").replace("\u2019s", "").replace("'s", ""))
    return [_singular(w) for w in words if w != "s"]


def _singular(word: str) -> str:
    """'leases' -> 'lease', 'taxes' -> 'tax', 'liabilities' -> 'liability', 'losses' -> 'loss'; 'business' stays."""
    if len(word) <= 3 or word.endswith("ss"):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("xes", "ches", "shes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _squash(text: str) -> str:
    """The words run together, so headings with split words ("Balance Shee t") equal their query."""
    return "".join(_words(text))


def _spaced(text: str) -> str:
    return f" {' '.join(_words(text))} "


@dataclass(frozen=True)
class ShownLine:
    number: int
    page: int
    text: str


@dataclass(frozen=True)
class ReadResult:
    """Lines of one filing as the model sees them: numbered, grouped by page, with what was left out."""

    doc_id: str
    header: str
    lines: tuple[ShownLine, ...]
    body: str  # page markers and numbered non-empty lines
    truncation: str | None  # how to get the rest, when the budget cut the request short
    references: tuple[str, ...]
    next_lines: tuple[int, int] | None = None

    @property
    def truncated(self) -> bool:
        return self.truncation is not None

    def render(self) -> str:
        parts = [self.header, self.body or "(no text on these lines: blank or image-only pages)"]
        if self.truncation:
            parts.append(self.truncation)
        if self.references:
            parts.append("Cross-references in these lines:\n" + "\n".join(self.references))
        return "\n".join(parts)

    def citations(self) -> list[Citation]:
        first: dict[int, int] = {}
        for line in self.lines:
            first.setdefault(line.page, line.number)
        return [Citation(self.doc_id, page, number) for page, number in first.items()]


@tool
def read(
    doc_id: Annotated[str, Field(description="Exact doc_id from list_documents or glob, e.g. '3M_2018_10K'.")],
    section: Annotated[
        str | None,
        Field(description="A section key or title from outline(): 'Item 7', 'Part II Item 1A', 'Note 12', 'Cash Flows', 'Balance Sheet', 'leases'."),
    ] = None,
    pages: Annotated[str | int | None, Field(description="1-based PDF page or range, e.g. '58' or '58-60'.")] = None,
    lines: Annotated[str | int | None, Field(description="1-based line range, e.g. '6121-6890' (as given by a truncated read or grep).")] = None,
    max_tokens: Annotated[int | None, Field(description="Token budget for this call; omit for the default. Larger requests are capped.")] = None,
) -> ReadResult:
    """Read a filing's text with page markers and line numbers: give section, pages or lines (section with lines or pages reads that part of the section; none reads from the start). Long requests stop at the budget and say exactly how to continue; cross-references in the text are listed with where they point."""
    context = current()
    settings = context.settings
    section, pages, lines = (_given(v) for v in (section, pages, lines))
    if pages is not None and lines is not None:
        raise ToolError(
            f"Give pages or lines, not both; e.g. read(doc_id='{doc_id}', pages='5-7') or read(doc_id='{doc_id}', lines='120-180')."
        )
    cap = min(settings.read_max_tokens, settings.max_output_tokens)
    budget = settings.read_default_tokens if max_tokens is None else max_tokens
    if budget < MIN_TOKENS:
        raise ToolError(f"max_tokens={max_tokens} is too small to show any text; use {MIN_TOKENS}-{cap:,} or omit it for the default.")
    capped = budget > cap
    budget = min(budget, cap)

    opened = open_document(doc_id, with_references=True)
    text = opened.text
    doc_id = opened.doc.id
    note = ""
    if section is not None:
        target = resolve_section(section, opened.sections, doc_id, text.page_count)
        start, end = target.start_line, target.end_line
        # Section with lines or pages: what is inside the section, or the whole section with a note saying so.
        if lines is not None or pages is not None:
            start, end, note = _within_section(target, text, pages, lines, doc_id)
        what = _section_path(target, opened.sections) + f", {page_span(text.page_of_line(start), text.page_of_line(end))}, lines {start}-{end}"
    elif pages is not None:
        first, last = _parse_range(pages, "pages", text.page_count, doc_id)
        start, end = text.page_span(first)[0], text.page_span(last)[1]
        what = f"{page_span(first, last)}, lines {start}-{end}" + _location(opened, start)
    elif lines is not None:
        start, end = _parse_range(lines, "lines", text.line_count, doc_id)
        what = f"lines {start}-{end}, {page_span(text.page_of_line(start), text.page_of_line(end))}" + _location(opened, start)
    else:
        start, end = 1, text.line_count
        what = f"whole document from line 1 (outline(doc_id='{doc_id}') lists its sections)"

    costs = line_costs(context, doc_id, text)
    header = f"{document_header(opened.doc, costs.tokens(1, text.line_count))}\nReading {what}; ~{costs.tokens(start, end):,} tokens"
    if opened.note:
        header += f"\nnote: {opened.note}"
    if note:
        header += f"\nnote: {note}"
    if capped:
        header += f"; max_tokens capped at {cap:,}"
    limit = budget * CHARS_PER_TOKEN - len(header) - 1
    reference_reserve = min(limit // 5, 400 * CHARS_PER_TOKEN)
    shown, body, last = _take_lines(opened, start, end, limit - reference_reserve - _TRUNCATION_RESERVE - len(doc_id))

    truncation = None
    next_lines = None
    if last < end and any(text.lines[i - 1].strip() for i in range(last + 1, end + 1)):
        next_lines = (last + 1, end)
        again = f", max_tokens={max_tokens}" if max_tokens is not None else ""
        truncation = (
            f"[truncated at line {last} (page {text.page_of_line(last)}); "
            f"continue with read(doc_id='{doc_id}', lines='{last + 1}-{end}'{again})]"
        )
    used = len(header) + 1 + len(body) + 1 + (len(truncation) + 1 if truncation else 0)
    shown_span = (shown[0].number, shown[-1].number) if shown else None
    references = _references(opened, shown_span, budget * CHARS_PER_TOKEN - used)
    return ReadResult(doc_id, header, tuple(shown), body, truncation, references, next_lines)


def _given(value: str | int | None) -> str | int | None:
    """Empty strings count as not given (models often send "" for optional parameters)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _parse_range(value: str | int, name: str, size: int, doc_id: str) -> tuple[int, int]:
    unit = "page" if name == "pages" else "line"
    example = "'5' or a range like '5-7'" if name == "pages" else "'120' or a range like '120-180'"
    m = _RANGE_RE.match(str(value).strip())
    if m is None:
        raise ToolError(f"{name}={value!r} is not a {unit} or range; use a {unit} like {example} (1-based; {doc_id} has {unit}s 1-{size}).")
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else first
    if first > last:
        raise ToolError(f"{name}={value!r} is reversed; write the smaller {unit} first, e.g. '{last}-{first}'.")
    if first < 1 or last > size:
        raise ToolError(f"{name}={value!r} is out of range: {doc_id} has {unit}s 1-{size}.")
    return first, last


def _within_section(target: Section, text, pages: str | int | None, lines: str | int | None, doc_id: str) -> tuple[int, int, str]:  # noqa: ANN001
    """Lines of `target` that the given pages or lines select; outside it, the whole section and a note why."""
    whole = (target.start_line, target.end_line)
    try:
        if lines is not None:
            first, last = _parse_range(lines, "lines", text.line_count, doc_id)
            asked = f"lines={lines!r}"
        else:
            p1, p2 = _parse_range(pages, "pages", text.page_count, doc_id)
            first, last = text.page_span(p1)[0], text.page_span(p2)[1]
            asked = f"pages={pages!r}"
    except ToolError as exc:
        return *whole, f"{exc} Showing the whole section instead."
    lo, hi = max(first, target.start_line), min(last, target.end_line)
    if lo > hi:
        return *whole, (
            f"{asked} is outside {target.key} (lines {target.start_line}-{target.end_line}, "
            f"{page_span(target.start_page, target.end_page)}); showing the whole section."
        )
    return lo, hi, ""


def _section_path(section: Section, sections: Sequence[Section]) -> str:
    by_id = {s.id: s for s in sections}
    trail = [section]
    while trail[-1].parent_id is not None and trail[-1].parent_id in by_id:
        trail.append(by_id[trail[-1].parent_id])
    return " > ".join([s.key for s in reversed(trail[1:])] + [section_label(section)])


def _location(opened: OpenedDocument, line: int) -> str:
    section = innermost(opened.sections, line)
    return f" (in {_section_path(section, opened.sections)})" if section is not None else ""


def _take_lines(opened: OpenedDocument, start: int, end: int, limit: int) -> tuple[list[ShownLine], str, int]:
    """Whole non-empty lines from `start` while they fit in `limit` characters; returns them, the text, the last line used."""
    text = opened.text
    doc_id = opened.doc.id
    shown: list[ShownLine] = []
    out: list[str] = []
    used = 0
    page = text.page_of_line(start)
    next_page_start = text.page_starts[page] if page < text.page_count else text.line_count + 1
    marked = 0
    last = start - 1
    for number in range(start, end + 1):
        while number >= next_page_start:
            page += 1
            next_page_start = text.page_starts[page] if page < text.page_count else text.line_count + 1
        line = text.lines[number - 1]
        if not line.strip():
            last = number
            continue
        rendered = rendered_line(number, line.rstrip())
        marker = page_marker(doc_id, page) if marked != page else None
        cost = len(rendered) + 1 + (len(marker) + 1 if marker else 0)
        if used + cost > limit:
            if shown:
                return shown, "\n".join(out), shown[-1].number  # trailing blank lines are not "read"
            # One line longer than the whole budget: show its start rather than nothing.
            room = max(40, limit - (len(marker) + 1 if marker else 0) - 90)
            rendered = rendered[:room] + f" [line cut: {len(rendered) - room:,} more characters; grep finds text in them]"
            cost = len(rendered) + 1 + (len(marker) + 1 if marker else 0)
        if marker:
            out.append(marker)
            marked = page
        out.append(rendered)
        shown.append(ShownLine(number, page, line))
        used += cost
        last = number
    return shown, "\n".join(out), last


def _references(opened: OpenedDocument, span: tuple[int, int] | None, room: int) -> tuple[str, ...]:
    """Cross-references on the shown lines, one entry per phrase and target, within `room` characters."""
    if span is None:
        return ()
    first, last = span
    doc_id = opened.doc.id
    by_id = {s.id: s for s in opened.sections}
    groups: dict[tuple[str, str, bool], list[CrossReference]] = {}
    for ref in opened.cross_references:
        if not first <= ref.line <= last:
            continue
        target = by_id.get(ref.target_section_id) if ref.target_section_id is not None else None
        if target is not None and (_within(target, first, last) or target.start_line <= first and last <= target.end_line):
            continue  # the target is on screen in full, or is what is being read
        groups.setdefault((ref.text, ref.target_key, ref.external), []).append(ref)
    entries: list[str] = []
    for (phrase, key, external), refs in groups.items():
        at = sorted({r.line for r in refs})
        where = f"line {at[0]}" if len(at) == 1 else f"lines {', '.join(map(str, at))}"
        target = by_id.get(refs[0].target_section_id) if refs[0].target_section_id is not None else None
        if external:
            points = f"{key} of another filing, not this document (find that filing with list_documents)"
        elif target is None:
            points = f"{key}: not a detected section of this document; try grep(pattern='{key}', doc_ids=['{doc_id}'])"
        else:
            points = (
                f"{section_label(target)}, {page_span(target.start_page, target.end_page)}: "
                f"read(doc_id='{doc_id}', section='{target.key}')"
            )
        entries.append(f"- {phrase} ({where}) -> {points}")
    kept: list[str] = []
    used = len("Cross-references in these lines:\n")
    for i, entry in enumerate(entries):
        tail = 60 if i + 1 < len(entries) else 0
        if len(kept) >= _MAX_REFERENCES or used + len(entry) + 1 + tail > room:
            kept.append(f"- ... {len(entries) - i} more cross-references on these lines (read fewer lines to list them)")
            break
        kept.append(entry)
        used += len(entry) + 1
    return tuple(kept)


def _within(section: Section, first: int, last: int) -> bool:
    return first <= section.start_line and section.end_line <= last


def resolve_section(query: str, sections: Sequence[Section], doc_id: str, page_count: int = 3) -> Section:
    """The one section `query` names (key first, then title); a ToolError lists the candidates or closest keys."""
    q = " ".join(query.replace("\u2019", "'").split()).strip(" .:;,-")
    if not sections:
        raise ToolError(
            f"{doc_id} has no detected sections (no Items, financial statements or numbered Notes, as in many 8-Ks and "
            f"earnings releases); read it by pages, e.g. read(doc_id='{doc_id}', pages='1-{min(3, page_count)}'), "
            f"or grep(pattern=..., doc_ids=['{doc_id}'])."
        )
    if not q:
        raise ToolError(f"section is empty; pass a key from outline(doc_id='{doc_id}'), e.g. 'Item 7' or 'Note 2'.")
    numbered, found, rest = _by_number(q, sections)
    if len(found) > 1 and rest:
        found = [s for s in found if _fits(rest, s)] or found  # "Item 2 MD&A" in a 10-Q
    if found and rest and not any(_fits(rest, s) for s in found):
        elsewhere = [s for s in _by_title(rest, sections) if s not in found]
        if len(elsewhere) == 1:
            raise ToolError(
                f"'{q}' is contradictory in {doc_id}: {found[0].key} is '{display_title(found[0].title)}', while "
                f"'{rest}' is {section_label(elsewhere[0])}; pass section='{elsewhere[0].key}' or section='{found[0].key}'."
            )
    if not found and (rest or not numbered):
        found = _by_title(rest or q, sections)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        options = ", ".join(f"'{s.key}' ({_brief(s)})" for s in found[:8])
        raise ToolError(f"section='{query}' matches several sections of {doc_id}: {options}; pass one of these keys.")
    options = ", ".join(f"'{s.key}' ({_brief(s)})" for s in _closest(q, sections))
    text_hint = "" if numbered else f" To find '{q}' in the text, grep(pattern='{q}', doc_ids=['{doc_id}'])."
    raise ToolError(
        f"No section '{query}' in {doc_id}. Closest keys: {options}. outline(doc_id='{doc_id}') lists every section.{text_hint}"
    )


def _brief(section: Section) -> str:
    title = display_title(section.title or "")
    return f"{title + ', ' if title else ''}{page_span(section.start_page, section.end_page)}"


def _by_number(q: str, sections: Sequence[Section]) -> tuple[bool, list[Section], str]:
    """Sections a numbered query ("Item 7", "Part II Item 1A", "Note 12 Leases") names by key, and the words after it."""
    by_key = {s.key.lower(): s for s in sections}
    m = _NOTE_QUERY_RE.match(q)
    if m:
        hit = by_key.get(f"note {int(m.group(1))}")
        return True, ([hit] if hit else []), m.group(2).strip()
    m = _ITEM_QUERY_RE.match(q)
    if not m:
        return False, [], ""
    part, number, rest = m.group(1), str(int(m.group(2))) + (m.group(3) or "").lower(), m.group(4).strip()
    if part:
        hit = by_key.get(f"part {part.lower()} item {number}") or by_key.get(f"item {number}")
        return True, ([hit] if hit else []), rest
    hit = by_key.get(f"item {number}")
    if hit:
        return True, [hit], rest
    # A 10-Q keys items by part; "Item 1A" is the one part that has it, "Item 2" is ambiguous.
    return True, [s for s in sections if re.fullmatch(rf"part (?:iv|iii|ii|i) item {number}", s.key.lower())], rest


def _fits(words: str, section: Section) -> bool:
    """Whether words after a number ("Leases" in "Note 12 Leases") describe the section's title."""
    return section in _by_title(words, [section]) or difflib.SequenceMatcher(None, _squash(words), _squash(section.title or "")).ratio() >= 0.6


def _by_title(q: str, sections: Sequence[Section]) -> list[Section]:
    """Sections whose key or title matches: exactly, by a statement alias, as a substring, by all words, or closely."""
    sq = _squash(q)
    if not sq:
        return []
    exact = [s for s in sections if sq in (_squash(s.key), _squash(s.title or ""), _squash(f"{s.key} {s.title or ''}"))]
    if exact:
        return exact
    core = " ".join(_FILLER_RE.sub(" ", q.lower().replace("\u2019", "'")).split())
    for pattern, key in _STATEMENT_ALIASES:
        if pattern.fullmatch(core):
            hits = [s for s in sections if s.key == key]
            if hits:
                return hits
    if _MDA_RE.fullmatch(q.lower()):
        hits = [s for s in sections if s.kind == "item" and " management discussion " in _spaced(s.title or "")]
        if hits:
            return hits
    hits = [s for s in sections if _spaced(q) in _spaced(s.title or "")]
    if hits:
        return _prefer_statements(q, hits)
    words = {w for w in _words(q) if w not in _STOP_WORDS}
    if words:
        hits = [s for s in sections if words <= set(_words(f"{s.key} {s.title or ''}"))]
        if hits:
            return _prefer_statements(q, hits)
    scored = sorted(((difflib.SequenceMatcher(None, sq, _squash(s.title or "")).ratio(), i) for i, s in enumerate(sections)), reverse=True)
    if scored and scored[0][0] >= 0.8 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 0.05):
        return [sections[scored[0][1]]]
    return []


def _prefer_statements(q: str, hits: list[Section]) -> list[Section]:
    """'Statement of ...' queries mean the primary statement when a note title also matches."""
    if "statement" in q.lower():
        statements = [s for s in hits if s.kind == "statement"]
        if statements:
            return statements
    return hits


def _closest(q: str, sections: Sequence[Section], n: int = 4) -> list[Section]:
    sq = _squash(q)

    def score(s: Section) -> float:
        return max(
            difflib.SequenceMatcher(None, sq, _squash(s.key)).ratio(),
            difflib.SequenceMatcher(None, sq, _squash(s.title or "")).ratio(),
        )

    return sorted(sections, key=score, reverse=True)[:n]

