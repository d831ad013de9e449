"""read: a filing's text by section, pages or lines, numbered, within a token budget, with its cross-references."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from corpus.folios import printed_pages, printed_span
from corpus.models import CrossReference, Section
from tools.base import Citation
from tools.context import current
from tools.errors import ToolError
from tools.outline import (
    OpenedDocument,
    document_header,
    line_costs,
    open_document,
    page_marker,
    page_span,
    rendered_line,
    section_label,
)
from tools.range_sections import range_location, section_path
from tools.registry import tool
from tools.section_lookup import resolve_section
from tools.tokens import CHARS_PER_TOKEN

MIN_TOKENS = 100
_MAX_REFERENCES = 25
_TRUNCATION_RESERVE = 120  # characters kept for the "[truncated at ...]" line, besides the doc_id

_RANGE_RE = re.compile(r"^(?:pages?|pp?\.?|lines?|l\.)?\s*(\d+)\s*(?:(?:-|\u2013|\u2014|to|:)\s*(\d+))?$", re.I)


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
        Field(
            description="A section key or title from outline(): 'Item 7', 'Part II Item 1A', 'Note 12', 'Cash Flows', 'Balance Sheet', 'leases'."
        ),
    ] = None,
    pages: Annotated[str | int | None, Field(description="1-based PDF page or range, e.g. '58' or '58-60'.")] = None,
    lines: Annotated[
        str | int | None, Field(description="1-based line range, e.g. '6121-6890' (as given by a truncated read or grep).")
    ] = None,
    max_tokens: Annotated[
        int | None, Field(description="Token budget for this call; omit for the default. Larger requests are capped.")
    ] = None,
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
        raise ToolError(
            f"max_tokens={max_tokens} is too small to show any text; use {MIN_TOKENS}-{cap:,} or omit it for the default."
        )
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
        what = (
            section_path(target, opened.sections)
            + f", {page_span(text.page_of_line(start), text.page_of_line(end))}, lines {start}-{end}"
        )
    elif pages is not None:
        first, last = _parse_range(pages, "pages", text.page_count, doc_id)
        start, end = text.page_span(first)[0], text.page_span(last)[1]
        what = f"{page_span(first, last)}{printed_span(printed_pages(text), first, last)}, lines {start}-{end}" + range_location(
            opened.sections, start, end
        )
    elif lines is not None:
        start, end = _parse_range(lines, "lines", text.line_count, doc_id)
        what = f"lines {start}-{end}, {page_span(text.page_of_line(start), text.page_of_line(end))}" + range_location(
            opened.sections, start, end
        )
    else:
        start, end = 1, text.line_count
        what = f"whole document from line 1 (outline(doc_id='{doc_id}') lists its sections)"

    costs = line_costs(context, doc_id, text)
    header = (
        f"{document_header(opened.doc, costs.tokens(1, text.line_count))}\nReading {what}; ~{costs.tokens(start, end):,} tokens"
    )
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
        raise ToolError(
            f"{name}={value!r} is not a {unit} or range; use a {unit} like {example} (1-based; {doc_id} has {unit}s 1-{size})."
        )
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


def _take_lines(opened: OpenedDocument, start: int, end: int, limit: int) -> tuple[list[ShownLine], str, int]:
    """Whole non-empty lines from `start` while they fit in `limit` characters; returns them, the text, the last line used."""
    text = opened.text
    doc_id = opened.doc.id
    folios = printed_pages(text)
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
        marker = page_marker(doc_id, page, folios[page - 1]) if marked != page else None
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
