"""What a matching table row needs to be read alone: the table's title, its unit line and its column headers, in one line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.context import ToolContext
    from tools.grep_result import GrepHit

REACH = 60  # lines above a row searched for its table's header
TITLE_REACH = 6  # lines above the header searched for the unit line and the title
SUB_HEADING = 60  # a line this short between rows is a sub-heading ("Revenue:", "Operating profit"), not prose
MAX_CHARS = 240
MAX_DOCS = 12  # documents whose text is opened to describe the tables of their hits, per grep call

_UNIT = re.compile(
    r"\((?:dollars|amounts|\$|shares)?\s*(?:in\s+)?(?:thousands|millions|billions)\b[^)]*\)"
    r"|\bin\s+(?:thousands|millions|billions)\b(?:,?\s+except[^.;:)]*)?",
    re.I,
)
_PERIOD_CELL = re.compile(
    r"^(?:(?:19|20)\d\d|(?:fiscal\s+)?(?:year|quarter|three|six|nine|twelve|\d+)s?\b.*\bended\b.*|.*\b(?:19|20)\d\d\b.*|"
    r"[(%A-Za-z][A-Za-z .,&'()/%-]{0,44})$",
    re.I,
)
_FIGURE = re.compile(r"\d")
_SKIP = re.compile(
    r"^(?:table of contents|\(?unaudited\)?|\d{1,4}|.*\band subsidiar(?:y|ies)\b.*"
    r"|(?:fiscal\s+)?(?:years?|(?:three|six|nine|twelve)\s+months|\d+\s+weeks|quarters?)\s+ended\b.*)$",
    re.I,
)


def table_context(lines: Sequence[str], line: int) -> str | None:
    """'table: Consolidated Statement of Income; in millions except per share amounts; columns: 2022 | 2021 | 2020'
    for 1-based `line` when it is a table row under a readable header; None otherwise."""
    if " | " not in lines[line - 1] or not _FIGURE.search(lines[line - 1]):
        return None
    header_at = _header_line(lines, line)
    if header_at is None:
        return None
    header = [lines[header_at - 1].strip()]
    if header_at > 1 and _is_header(lines[header_at - 2]):
        header.insert(0, lines[header_at - 2].strip())  # "Three Months Ended | Six Months Ended" over the dates
        header_at -= 1
    title, unit = _title_and_unit(lines, header_at, " ".join(header))
    columns = [" | ".join(c for c in row.split(" | ") if not _UNIT.fullmatch(c.strip())) for row in header]
    parts = [f"table: {title}" if title else "table", unit, "columns: " + " / ".join(c for c in columns if c)]
    text = "; ".join(p for p in parts if p)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def row_group(lines: Sequence[str], line: int) -> str | None:
    """The sub-heading a table row sits under ("Operating profit", "Revenue:"), the nearest short line above it in the table."""
    for j in range(line - 1, max(0, line - REACH), -1):
        text = lines[j - 1].strip()
        if not text:
            continue
        if " | " in text:
            if _is_header(text):
                return None
            continue
        return text.rstrip(":") if len(text) <= SUB_HEADING and not _UNIT.search(text) and not _SKIP.match(text) else None
    return None


def _header_line(lines: Sequence[str], line: int) -> int | None:
    """The nearest header row above `line`, through rows and short sub-headings only."""
    for j in range(line - 1, max(0, line - REACH), -1):
        text = lines[j - 1].strip()
        if not text:
            continue
        if " | " in text:
            if _is_header(text):
                return j
            continue
        if len(text) > SUB_HEADING and not _UNIT.search(text):
            return None  # prose: the row's table has no header row above it
    return None


def _is_header(text: str) -> bool:
    cells = [c.strip() for c in text.split(" | ")]
    return (
        len(cells) >= 2
        and all(c and _PERIOD_CELL.match(c) for c in cells)
        and not any(re.fullmatch(r"[$(]?[\d,.]+\)?%?", c) and not re.fullmatch(r"(?:19|20)\d\d", c) for c in cells)
    )


def _title_and_unit(lines: Sequence[str], header_at: int, header: str) -> tuple[str, str]:
    unit = m.group(0) if (m := _UNIT.search(header)) else ""
    title = ""
    for j in range(header_at - 1, max(0, header_at - 1 - TITLE_REACH), -1):
        text = lines[j - 1].strip()
        if not text or " | " in text:
            continue
        if (m := _UNIT.search(text)) is not None:
            unit = unit or m.group(0)
            rest = text.replace(m.group(0), "").strip(" :.,")
            if len(rest) < 12:
                continue
            text = rest
        if _SKIP.match(text):
            continue
        if not text[:1].isupper() and not text[:1].isdigit():
            break  # the tail of a paragraph: the table has no title line of its own
        title = text if len(text) <= 90 else text[:89] + "…"
        break
    return title, unit.strip().strip("()").strip()


def table_notes(context: ToolContext, hits: Sequence[GrepHit]) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(doc_id, line) -> (the table line, the row's sub-heading) of each hit that is a table row; the table line names
    the section the table is in."""
    from tools.outline import innermost

    notes: dict[tuple[str, int], tuple[str, str | None]] = {}
    docs: dict[str, tuple[Sequence[str], Sequence]] = {}
    for hit in hits:
        shown = next((g.text for g in hit.lines if g.match and g.line == hit.line), "")
        if " | " not in shown or not _FIGURE.search(shown):
            continue  # not a table row: no text is opened for it (grep reads page maps, not texts)
        if hit.doc_id not in docs:
            if len(docs) >= MAX_DOCS:
                continue
            docs[hit.doc_id] = (context.text(hit.doc_id).lines, context.corpus.sections(hit.doc_id))
        lines, sections = docs[hit.doc_id]
        if not 1 <= hit.line <= len(lines) or (note := table_context(lines, hit.line)) is None:
            continue
        section = innermost(sections, hit.line)
        notes[(hit.doc_id, hit.line)] = (
            note + (f"; in {section.key}" if section is not None else ""),
            row_group(lines, hit.line),
        )
    return notes
