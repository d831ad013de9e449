"""compare_sections: a redline of one section of two filings, paragraph by paragraph, with pages on both sides."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from corpus.models import Section
from tools.alignment import Change, Edit, align, marked, word_diff
from tools.base import Citation
from tools.context import current
from tools.errors import ToolError
from tools.outline import OpenedDocument, display_title, open_document, page_span, period_label, section_label
from tools.paragraphs import Paragraph, furniture_lines, paragraphs
from tools.registry import tool
from tools.section_lookup import resolve_section

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_PARAGRAPHS = 4000  # per side: more is a whole filing, not a section
SHOWN_CHARS = 400  # of an added or removed paragraph's text in the model's view
_LISTED_SECTIONS = 40
KINDS = ("added", "removed", "changed")


@dataclass(frozen=True)
class Side:
    """One filing's side of a redline: which section, where, and a one-line description."""

    doc_id: str
    describe: str  # 'PepsiCo, 10-K, FY2021 (ended 2021-12-25)'
    section: str  # 'Item 1A Risk Factors'
    key: str
    start_page: int
    end_page: int
    paragraphs: int


@dataclass
class Redline:
    """What changed in one section between two filings; `changes` is the page asked for (offset, limit, show)."""

    a: Side
    b: Side
    unchanged: int
    moved: int
    counts: dict[str, int]
    show: str
    offset: int
    total: int  # changes of the kind shown
    changes: list[Change]
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"Redline of {self.b.section}: A = {self.a.doc_id} ({self.a.describe}; {page_span(self.a.start_page, self.a.end_page)})"
            f" -> B = {self.b.doc_id} ({self.b.describe}; {page_span(self.b.start_page, self.b.end_page)})",
            *(f"note: {n}" for n in self.notes),
            f"Paragraphs: {self.a.paragraphs} in A, {self.b.paragraphs} in B; {self.unchanged} unchanged"
            + (f" ({self.moved} moved)" if self.moved else "")
            + f"; {self.counts['added']} added, {self.counts['removed']} removed, {self.counts['changed']} changed.",
        ]
        if not self.total:
            lines.append("No differences." if self.show == "all" else f"No {self.show} paragraphs.")
            return "\n".join(lines)
        if not self.changes:
            lines.append(f"offset={self.offset} is past the last of {self.total} changes; use offset=0-{self.total - 1}.")
            return "\n".join(lines)
        first, last = self.offset + 1, self.offset + len(self.changes)
        lines.append(
            f"Changes {first}-{last} of {self.total} ({'all kinds' if self.show == 'all' else self.show}), in B's order:"
        )
        for n, change in enumerate(self.changes, first):
            lines.append(_render_change(n, change))
        if last < self.total:
            more = f"show='{self.show}', " if self.show != "all" else ""
            lines.append(
                f"[{self.total - last} more changes: compare_sections(doc_a='{self.a.doc_id}', doc_b='{self.b.doc_id}', "
                f"section='{self.b.key}', {more}offset={last})]"
            )
        lines.append("Read a paragraph in full with read(doc_id=..., pages=...).")
        return "\n".join(lines)

    def citations(self) -> list[Citation]:
        out: list[Citation] = []
        for change in self.changes:
            if change.a is not None:
                out.append(Citation(self.a.doc_id, change.a.page, change.a.line))
            if change.b is not None:
                out.append(Citation(self.b.doc_id, change.b.page, change.b.line))
        return list(dict.fromkeys(out))


def _render_change(n: int, change: Change) -> str:
    if change.kind == "changed":
        where = f"A p.{change.a.page} l.{change.a.line} -> B p.{change.b.page} l.{change.b.line}"
        return f"[{n}] CHANGED ({int(change.similarity * 100)}% similar) {where}: {marked(diff(change))}"
    p = change.b if change.kind == "added" else change.a
    side = "B" if change.kind == "added" else "A"
    pages = f"p.{p.page}" if p.page == p.end_page else f"pp.{p.page}-{p.end_page}"
    text = (
        p.text
        if len(p.text) <= SHOWN_CHARS
        else p.text[: SHOWN_CHARS - 1].rstrip() + f"\u2026 (+{len(p.text) - SHOWN_CHARS + 1:,} chars)"
    )
    return f"[{n}] {change.kind.upper()} {side} {pages} l.{p.line}: {text}"


def diff(change: Change) -> list[Edit]:
    """The word diff of a changed paragraph (empty for added and removed ones)."""
    return word_diff(change.a.text, change.b.text) if change.kind == "changed" else []


@tool
def compare_sections(
    doc_a: Annotated[str, Field(description="Earlier filing's doc_id.")],
    doc_b: Annotated[str, Field(description="Later filing's doc_id.")],
    section: Annotated[
        str,
        Field(
            max_length=200,
            description="Key or title in both: 'Item 1A', 'Note 2', 'Revenue Recognition'.",
        ),
    ],
    show: Annotated[Literal["all", "added", "removed", "changed"], Field(description="Only this kind of change.")] = "all",
    offset: Annotated[int, Field(ge=0, le=100_000, description="Skip this many changes.")] = 0,
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Most changes listed.")] = DEFAULT_LIMIT,
) -> Redline:
    """Redline one section of two filings (Risk Factors of two 10-Ks, a note): paragraphs added, removed and changed ([-old-]{+new+}), with pages in both. Use it instead of reading the section twice; new risk factors: show='added'."""
    return redline(doc_a, doc_b, section, show, offset, limit)


def redline(doc_a: str, doc_b: str, section: str, show: str = "all", offset: int = 0, limit: int = DEFAULT_LIMIT) -> Redline:
    """compare_sections' result (also what the API and CLI serve), for the current tool context."""
    a, b = open_document(doc_a), open_document(doc_b)
    if a.doc.id == b.doc.id or a.doc.content_hash == b.doc.content_hash:
        same = "the same filing" if a.doc.id == b.doc.id else f"the same file ({a.doc.id} and {b.doc.id} are copies)"
        raise ToolError(
            f"doc_a and doc_b are {same}: nothing to compare. Pick another period of {a.doc.company or 'the company'} "
            f"with list_documents(company='{a.doc.company or ''}')."
        )
    notes = [n for n in (a.note, b.note) if n]
    sa, sb, aligned_by_title = _sections(a, b, section)
    if aligned_by_title:
        notes.append(aligned_by_title)
    if (a.doc.company or "").lower() != (b.doc.company or "").lower():
        notes.append(f"different companies: A is {a.doc.company or '?'}, B is {b.doc.company or '?'}; compared as asked")
    if _later(a, b):
        notes.append("A is the later filing: 'added' means in B (the earlier one) only")
    pa, pb = _paragraphs(a, sa), _paragraphs(b, sb)
    context = current()
    if context.remaining_s() <= 0:
        raise ToolError("compare_sections ran out of time; compare a smaller section (a note rather than a whole Item).")
    result = align(pa, pb)
    counts = {k: sum(1 for c in result.changes if c.kind == k) for k in KINDS}
    chosen = result.changes if show == "all" else [c for c in result.changes if c.kind == show]
    return Redline(
        _side(a, sa, len(pa)),
        _side(b, sb, len(pb)),
        result.unchanged,
        result.moved,
        counts,
        show,
        offset,
        len(chosen),
        chosen[offset : offset + limit],
        notes,
    )


def _side(opened: OpenedDocument, s: Section, count: int) -> Side:
    doc = opened.doc
    describe = f"{doc.company or 'company ?'}, {doc.form_type or 'form ?'}, {period_label(doc)}"
    return Side(doc.id, describe, section_label(s), s.key, s.start_page, s.end_page, count)


def _later(a: OpenedDocument, b: OpenedDocument) -> bool:
    da, db = a.doc.period_end_date, b.doc.period_end_date
    if da and db:
        return da > db
    return bool(a.doc.fiscal_year and b.doc.fiscal_year and a.doc.fiscal_year > b.doc.fiscal_year)


def _sections(a: OpenedDocument, b: OpenedDocument, query: str) -> tuple[Section, Section, str]:
    """The section `query` names in each filing; a note-number whose title differs follows the title ('Note 2' -> 'Note 3')."""
    problems: list[str] = []
    found: list[Section | None] = []
    for opened in (a, b):
        try:
            found.append(resolve_section(query, opened.sections, opened.doc.id, opened.doc.page_count))
        except ToolError as exc:
            found.append(None)
            problems.append(f"{opened.doc.id}: {'several match' if 'matches several' in str(exc) else 'none'}")
    sa, sb = found
    if sa is None or sb is None:
        listing = " ".join(f"{o.doc.id} has: {_listing(o.sections)}." for o in (a, b))
        raise ToolError(
            f"section='{query}' is not in both filings ({'; '.join(problems)}). {listing} "
            "Pass a key or title both have; a note may be numbered differently in each year, so its title is safer."
        )
    if sa.kind == "note" and _squash_ratio(sa.title, sb.title) < 0.6:
        for target, other, side in ((sb, a, "A"), (sa, b, "B")):
            try:
                moved = resolve_section(display_title(target.title), other.sections, other.doc.id)
            except ToolError:
                continue
            if _squash_ratio(moved.title, target.title) >= 0.6:
                sa, sb = (moved, sb) if side == "A" else (sa, moved)
                return (
                    sa,
                    sb,
                    f"'{query}' is titled differently in each filing; compared {sa.key} of A with {sb.key} of B, same title",
                )
        return (
            sa,
            sb,
            f"{sa.key} of A is '{display_title(sa.title)}' but {sb.key} of B is '{display_title(sb.title)}'; pass a title",
        )
    return sa, sb, ""


def _squash_ratio(x: str | None, y: str | None) -> float:
    clean = [" ".join((s or "").lower().split()) for s in (x, y)]
    return difflib.SequenceMatcher(None, *clean).ratio()


def _listing(sections: Sequence[Section]) -> str:
    if not sections:
        return "no detected sections"
    shown = [f"{s.key} {_cut(display_title(s.title or ''), 40)}".strip() for s in sections]
    more = f" and {len(shown) - _LISTED_SECTIONS} more" if len(shown) > _LISTED_SECTIONS else ""
    return ", ".join(shown[:_LISTED_SECTIONS]) + more


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def _paragraphs(opened: OpenedDocument, s: Section) -> list[Paragraph]:
    context = current()
    cache: dict[str, tuple[object, frozenset[int]]] = context.__dict__.setdefault("_furniture", {})
    hit = cache.get(opened.doc.id)
    if hit is None or hit[0] is not opened.text:
        if len(cache) > 32:
            cache.pop(next(iter(cache)))
        hit = cache[opened.doc.id] = (opened.text, furniture_lines(opened.text))
    out = paragraphs(opened.text, s.start_line, s.end_line, hit[1])
    if len(out) > MAX_PARAGRAPHS:
        raise ToolError(
            f"{s.key} of {opened.doc.id} has {len(out):,} paragraphs (most {MAX_PARAGRAPHS:,}): that is most of the filing. "
            "Compare a smaller section: an Item without its statements, or one note."
        )
    return out
