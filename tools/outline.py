"""outline: a filing's header and section tree (Items, statements, Notes) with pages, lines and sizes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Annotated

from pydantic import Field

from corpus.errors import DocumentNotFound
from corpus.models import CrossReference, Document, Section
from corpus.text import PagedText
from tools.base import Citation
from tools.caveats import Caveats
from tools.context import ToolContext, current
from tools.errors import ToolError
from tools.registry import tool
from tools.tokens import CHARS_PER_TOKEN

# PyMuPDF splits words in headings ("Balance Shee t", "Cash Flow s"); a 1-2 letter lowercase fragment that is
# not a word is glued back for display. Matching in read() ignores spaces, so it does not depend on this.
_FRAGMENT_RE = re.compile(r"(?<=[A-Za-z]{3}) ([a-z]{1,2})(?=$|[\s,;:)])")
_SHORT_WORDS = {
    "a",
    "an",
    "as",
    "at",
    "be",
    "by",
    "do",
    "if",
    "in",
    "is",
    "it",
    "of",
    "on",
    "or",
    "so",
    "to",
    "up",
    "us",
    "we",
    "vs",
}


@dataclass(frozen=True)
class OpenedDocument:
    """A catalog row with its sections and cross-references, and its stored text."""

    doc: Document
    sections: list[Section]
    cross_references: list[CrossReference]
    text: PagedText
    note: str = ""  # said to the model when its doc_id was a near miss taken as the one filing it can mean


def find_document(doc_id: str, *, with_sections: bool = False, hint: str = "") -> tuple[Document, str]:
    """The document a tool was asked for; otherwise a ToolError naming the closest doc_ids. Where the context guesses
    doc_ids (the lenient policy's), a near miss ('ADBE_2017_10K') is taken as the one filing it can mean
    (tools.near_miss), with a note that says so."""
    context = current()
    try:
        return context.corpus.get(doc_id, with_sections=with_sections), ""
    except DocumentNotFound as exc:
        if context.guess_doc_ids:
            from tools.near_miss import meant_doc_id

            if (meant := meant_doc_id(doc_id, exc.suggestions)) is not None:
                note = f"there is no doc_id '{doc_id}'; this is {meant}, the one filing it can mean: use doc_id='{meant}'"
                return context.corpus.get(meant, with_sections=with_sections), note
        close = f" Closest doc_ids: {', '.join(exc.suggestions)}." if exc.suggestions else ""
        raise ToolError(f"No document with doc_id '{doc_id}'.{close} {hint}".rstrip()) from exc


def open_document(doc_id: str, *, with_references: bool = False) -> OpenedDocument:
    """The document of the current tool call; unknown ids raise a ToolError naming the closest ones."""
    context = current()
    doc, note = find_document(
        doc_id,
        with_sections=with_references,
        hint="Call list_documents(company=...) or glob('*pattern*') to find the exact doc_id.",
    )
    doc_id = doc.id
    if with_references:
        sections, refs = list(doc.sections), list(doc.cross_references)
    else:
        sections, refs = list(context.corpus.sections(doc_id)), []
    return OpenedDocument(doc, sections, refs, context.text(doc_id), note)


def rendered_line(number: int, text: str) -> str:
    """How read() shows one line: its 1-based number, a bar, the text."""
    return f"{number}| {text}"


def page_marker(doc_id: str, page: int, printed: str | None = None) -> str:
    """'=== 3M_2018_10K page 81 ===', with the folio when it differs: '=== PEPSICO_2022_10K page 62 (printed 60) ==='."""
    folio = f" (printed {printed})" if printed and printed != str(page) else ""
    return f"=== {doc_id} page {page}{folio} ==="


class LineCosts:
    """Prefix sums of the characters read() prints per line (blank lines cost nothing), computed once per text."""

    def __init__(self, doc_id: str, text: PagedText) -> None:
        self.text = text
        self.marker_chars = len(page_marker(doc_id, text.page_count)) + 1
        costs = (0 if not line.strip() else len(rendered_line(n, line)) + 1 for n, line in enumerate(text.lines, 1))
        self.prefix = list(accumulate(costs, initial=0))

    def chars(self, start_line: int, end_line: int) -> int:
        return self.prefix[end_line] - self.prefix[start_line - 1]

    def tokens(self, start_line: int, end_line: int) -> int:
        """Approximate tokens read() returns for these lines, page markers included."""
        pages = self.text.page_of_line(end_line) - self.text.page_of_line(start_line) + 1
        chars = self.chars(start_line, end_line) + pages * self.marker_chars
        return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def line_costs(context: ToolContext, doc_id: str, text: PagedText) -> LineCosts:
    """Cached per context and document; recomputed when the context hands out a new text (re-ingested)."""
    cache: dict[str, LineCosts] = context.__dict__.setdefault("_line_costs", {})
    costs = cache.get(doc_id)
    if costs is None or costs.text is not text:
        if len(cache) > 32:
            cache.pop(next(iter(cache)))
        costs = cache[doc_id] = LineCosts(doc_id, text)
    return costs


def display_title(title: str) -> str:
    """A heading as printed, with words PyMuPDF split glued back ("Cash Flow s" -> "Cash Flows")."""
    title = " ".join(title.split())
    return _FRAGMENT_RE.sub(lambda m: m.group(0) if m.group(1) in _SHORT_WORDS else m.group(1), title)


def section_label(section: Section) -> str:
    """'Note 16 Commitments and Contingencies', 'Item 7 Management's Discussion ...', 'Cash Flows (Consolidated ...)'."""
    title = display_title(section.title or "")
    if not title:
        return section.key
    if section.kind == "statement":
        return f"{section.key} ({title})"
    return f"{section.key} {title}"


def page_span(start: int, end: int) -> str:
    return f"page {start}" if start == end else f"pages {start}-{end}"


def period_label(doc: Document) -> str:
    """'FY2018 (ended 2018-12-31)', 'FY2023 Q2 (ended 2023-07-02)', or '?' when unknown."""
    label = f"FY{doc.fiscal_year}" if doc.fiscal_year else "period ?"
    if doc.fiscal_period and doc.fiscal_period != "FY":
        label += f" {doc.fiscal_period}"
    if doc.period_end_date:
        label += f" (ended {doc.period_end_date.isoformat()})"
    return label


def document_header(doc: Document, tokens: int) -> str:
    """First line of outline and read: what the filing is and how big it is as read() prints it."""
    head = (
        f"{doc.id}: {doc.company or 'company ?'}, {doc.form_type or 'form ?'}, {period_label(doc)}; "
        f"{doc.page_count} pages, {doc.line_count:,} lines, ~{tokens:,} tokens"
    )
    if doc.subject:
        head += f"\nsubject: {doc.subject}"
    if caveat := Caveats.for_document(current().corpus, doc).note(doc.id):
        head += f"\nnote: {caveat}"
    return head


def innermost(sections: Sequence[Section], line: int) -> Section | None:
    """The deepest section whose line span holds `line`."""
    best: Section | None = None
    for s in sections:
        if s.start_line <= line <= s.end_line and (best is None or s.depth >= best.depth):
            best = s
    return best


@dataclass(frozen=True)
class OutlineEntry:
    key: str
    kind: str
    title: str
    depth: int
    start_page: int
    end_page: int
    start_line: int
    end_line: int
    tokens: int


@dataclass(frozen=True)
class OutlineResult:
    """A filing's header and its section tree in document order (pre-order, parents before children)."""

    doc_id: str
    header: str
    page_count: int
    sections: tuple[OutlineEntry, ...]

    def section_at_page(self, page: int) -> OutlineEntry | None:
        """The deepest section whose page span holds `page`."""
        hits = [s for s in self.sections if s.start_page <= page <= s.end_page]
        return max(hits, key=lambda s: s.depth, default=None)

    def render(self) -> str:
        lines = [self.header]
        if not self.sections:
            lines.append(
                "No sections detected (no Items, financial statements or numbered Notes, as in many 8-Ks and earnings releases). "
                f"Read it by pages, e.g. read(doc_id='{self.doc_id}', pages='1-{min(3, self.page_count)}'), or find figures with grep(pattern=..., doc_ids=['{self.doc_id}'])."
            )
            return "\n".join(lines)
        lines.append(
            f"Sections (key: title | pages | lines | ~tokens); read one with read(doc_id='{self.doc_id}', section='<key>'):"
        )
        for s in self.sections:
            title = f": {s.title}" if s.title else ""
            lines.append(
                f"{'  ' * s.depth}{s.key}{title} | {page_span(s.start_page, s.end_page)} | lines {s.start_line}-{s.end_line} | ~{s.tokens:,}"
            )
        gaps = self.uncovered_pages()
        if gaps:
            spans = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in gaps)
            lines.append(
                f"Pages in no detected section (cover, contents, or headings not recognized): {spans}; read them with read(pages=...)."
            )
        return "\n".join(lines)

    def uncovered_pages(self) -> list[tuple[int, int]]:
        """Page ranges no section touches."""
        covered = [False] * (self.page_count + 2)
        for s in self.sections:
            for page in range(s.start_page, s.end_page + 1):
                covered[page] = True
        gaps: list[tuple[int, int]] = []
        for page in range(1, self.page_count + 1):
            if covered[page]:
                continue
            if gaps and gaps[-1][1] == page - 1:
                gaps[-1] = (gaps[-1][0], page)
            else:
                gaps.append((page, page))
        return gaps

    def citations(self) -> list[Citation]:
        return []  # a map of the filing, not evidence


@tool
def outline(
    doc_id: Annotated[str, Field(description="Exact doc_id from list_documents or glob, e.g. '3M_2018_10K'.")],
) -> OutlineResult:
    """Show a filing's map: company, form, period, size, and its sections (Items, financial statements, Notes) with pages, lines and ~tokens each. Use it before read(section=...) to pick the right part."""
    context = current()
    opened = open_document(doc_id)
    costs = line_costs(context, doc_id, opened.text)
    entries = tuple(
        OutlineEntry(
            s.key,
            s.kind,
            display_title(s.title or ""),
            s.depth,
            s.start_page,
            s.end_page,
            s.start_line,
            s.end_line,
            costs.tokens(s.start_line, s.end_line),
        )
        for s in opened.sections
    )
    header = document_header(opened.doc, costs.tokens(1, opened.text.line_count)) + (
        f"\nnote: {opened.note}" if opened.note else ""
    )
    return OutlineResult(opened.doc.id, header, opened.doc.page_count, entries)
