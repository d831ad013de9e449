"""Structure-aware chunking: chunks stay inside one section, tables keep their headers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from corpus.text import PagedText

TokenCounter = Callable[[list[str]], list[int]]

# A table cell as PyMuPDF prints it: "$", "2,853", "(12)", "—", "12.5%", "2018".
_NUMERIC_CELL = re.compile(r"^[\s$€£(]*[-\u2013\u2014]?\s*[\d.,]*\d[\d.,]*\s*[)%]*\s*$|^[\s$(]*[-\u2013\u2014]+\s*[)]*$|^\$$")
PROSE_CHARS = 80  # a line this long and not numeric is running text, which ends a table
HEADER_LINES = 12  # non-empty lines before a table's first figure that may form its header (title, dates, units, years)
PAGE_BREAK_FILL = 0.6  # at a page boundary, a chunk this full is closed so citations stay on one page
MIN_FILL = 0.15  # a piece smaller than this share of a chunk joins the piece before it


class Region(NamedTuple):
    """A run of lines (1-based, inclusive) that belong to one section path ("" outside any section)."""

    start_line: int
    end_line: int
    path: str


class SectionSpan(NamedTuple):
    start_line: int
    end_line: int
    path: str
    depth: int


@dataclass(frozen=True)
class Chunk:
    """A passage of one document inside one section, with where it came from."""

    doc_id: str
    ordinal: int
    text: str
    section_path: str
    start_page: int
    end_page: int
    start_line: int
    end_line: int
    tokens: int

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


def regions(sections: Sequence[SectionSpan], line_count: int) -> list[Region]:
    """Partition lines 1..line_count by their innermost section; lines outside every section get path ""."""
    owner: list[tuple[int, str]] = [(-1, "")] * (line_count + 2)
    for span in sections:
        start, end = max(1, span.start_line), min(line_count, span.end_line)
        for line in range(start, end + 1):
            if span.depth >= owner[line][0]:
                owner[line] = (span.depth, span.path)
    out: list[Region] = []
    start = 1
    for line in range(2, line_count + 2):
        if line == line_count + 1 or owner[line][1] != owner[start][1]:
            out.append(Region(start, line - 1, owner[start][1]))
            start = line
    return out


_YEAR_HEADING = re.compile(r"^(?:fiscal\s+|fy\s?)?(?:19|20)\d\d$", re.I)
_UNITS = re.compile(r"\bin (?:millions|thousands|billions)\b|\bexcept per share\b", re.I)


def is_numeric_cell(line: str) -> bool:
    return bool(line) and bool(_NUMERIC_CELL.match(line))


def _last_cell(line: str) -> str:
    """The last filled cell of a table row as corpus extraction writes it ('Cash | $2,853 | $3,053', 'Other | 12 |' with the
    last column blank), else the line."""
    if " | " not in line:
        return line
    return line.rstrip(" |").rsplit(" | ", 1)[-1]


def _is_figure(line: str) -> bool:
    """A numeric cell (or a row ending in one) that is a value, not a column heading such as '2018' or 'Fiscal 2018'."""
    cell = _last_cell(line)
    return is_numeric_cell(cell) and not _YEAR_HEADING.match(cell)


def _is_table_line(line: str) -> bool:
    return is_numeric_cell(line) or (" | " in line and is_numeric_cell(_last_cell(line)))


def table_starts(lines: Sequence[str]) -> dict[int, tuple[int, int, int]]:
    """Line index (0-based) -> (header start, header end, first figure) of the table it belongs to.

    A table starts at its first figure. Its header is the short non-empty lines before that (at most
    HEADER_LINES), ending with the last column heading (a year, or a units line) when there is one,
    so row labels stay body. The table runs until a line of running text."""
    member: dict[int, tuple[int, int, int]] = {}
    table: tuple[int, int, int] | None = None
    for i, line in enumerate(lines):
        numeric = _is_table_line(line)
        if table is None and _is_figure(line):
            head, taken, header_end = i, 0, None
            for j in range(i - 1, -1, -1):  # back over blank lines, up to HEADER_LINES short ones
                if not lines[j]:
                    continue
                if len(lines[j]) >= PROSE_CHARS or taken == HEADER_LINES:
                    break
                head, taken = j, taken + 1
                if header_end is None and (_YEAR_HEADING.match(_last_cell(lines[j])) or _UNITS.search(lines[j])):
                    header_end = j + 1
            table = (head, header_end or i, i)
        elif table is not None and not numeric and len(line) >= PROSE_CHARS:
            table = None
        if table is not None:
            member[i] = table
    return member


def chunk_document(
    doc_id: str,
    text: PagedText,
    sections: Sequence[SectionSpan],
    count_tokens: TokenCounter,
    chunk_tokens: int = 256,
    overlap: int = 32,
) -> list[Chunk]:
    """Chunks of about `chunk_tokens` model tokens that never cross a section boundary."""
    if overlap >= chunk_tokens:
        raise ValueError(f"chunk overlap ({overlap}) must be smaller than the chunk size ({chunk_tokens})")
    counts = count_tokens(list(text.lines)) if text.lines else []
    chunks: list[Chunk] = []
    for region in regions(sections, text.line_count):
        for start, end, body, tokens in _pack(text, region, counts, chunk_tokens, overlap, count_tokens):
            chunks.append(
                Chunk(
                    doc_id=doc_id,
                    ordinal=len(chunks),
                    text=body,
                    section_path=region.path,
                    start_page=text.page_of_line(start),
                    end_page=text.page_of_line(end),
                    start_line=start,
                    end_line=end,
                    tokens=tokens,
                )
            )
    return chunks


def _pack(
    text: PagedText, region: Region, counts: Sequence[int], size: int, overlap: int, count_tokens: TokenCounter
) -> list[tuple[int, int, str, int]]:
    """Greedy packing of a region's lines into (start_line, end_line, text, tokens) pieces.

    Prose pieces overlap by up to `overlap` tokens; a table cut in two restates its header at the
    start of the next piece, and a header is never left at the end of a piece without its figures."""
    first = region.start_line
    lines = text.lines[first - 1 : region.end_line]
    cost = [counts[first - 1 + i] + 1 for i in range(len(lines))]  # +1: the line break
    page_starts = set(text.page_starts)
    tables = table_starts(lines)
    pieces: list[tuple[int, int, str, int]] = []
    prefix: list[int] = []  # header lines restated at the start of a table's continuation
    buf: list[int] = []
    used = 0

    def emit() -> None:
        if any(lines[j] for j in buf):
            shown = prefix + buf
            body = "\n".join(lines[j] for j in shown if lines[j])
            pieces.append((first + buf[0], first + buf[-1], body, sum(cost[j] for j in shown)))

    for i in range(len(lines)):
        if cost[i] > size:  # one huge line (an HTML paragraph): its own pieces, cut by words
            emit()
            prefix, buf, used = [], [], 0
            for part in _split_long_line(lines[i], size, count_tokens):
                pieces.append((first + i, first + i, part, count_tokens([part])[0]))
            continue
        page_break = bool(buf) and (first + i) in page_starts and used >= PAGE_BREAK_FILL * size
        if buf and (used + cost[i] > size or page_break):
            stranded = _stranded_header(buf, tables, i)
            if stranded:
                carry = buf[stranded:]
                buf = buf[:stranded]
                emit()
                prefix, buf = [], carry
            else:
                head, header_end, figure = tables.get(i, (i, i, i))
                label = _trailing_label(buf, lines) if figure < i and is_numeric_cell(lines[i]) else []
                buf = buf[: len(buf) - len(label)]
                emit()
                if figure < i:  # a table continues: restate its header, keep the row label with its figures
                    prefix, buf = list(range(head, header_end)), label
                else:
                    prefix, buf = [], [] if page_break else _overlap_tail(buf, cost, overlap)
                    if (
                        buf and buf[0] in tables and tables[buf[0]][2] < buf[0]
                    ):  # the overlap repeats table rows: with their header
                        prefix = list(range(tables[buf[0]][0], tables[buf[0]][1]))
            used = sum(cost[j] for j in prefix + buf)
        buf.append(i)
        used += cost[i]
    emit()
    return _merge_scraps(pieces, size)


def _merge_scraps(pieces: list[tuple[int, int, str, int]], size: int) -> list[tuple[int, int, str, int]]:
    """Fold pieces smaller than MIN_FILL of a chunk (a page's running header, a last line) into the one before."""
    merged: list[tuple[int, int, str, int]] = []
    for piece in pieces:
        if merged and piece[3] < MIN_FILL * size and merged[-1][3] + piece[3] <= size and merged[-1][1] < piece[0]:
            start, _, body, tokens = merged[-1]
            merged[-1] = (start, piece[1], f"{body}\n{piece[2]}", tokens + piece[3])
        else:
            merged.append(piece)
    return merged


def _trailing_label(buf: list[int], lines: Sequence[str]) -> list[int]:
    """The row label (and blank lines after it) at the end of `buf`, if the piece ends with one."""
    end = len(buf)
    while end > 1 and not lines[buf[end - 1]]:
        end -= 1
    if end > 1 and not is_numeric_cell(lines[buf[end - 1]]) and len(lines[buf[end - 1]]) < PROSE_CHARS:
        return buf[end - 1 :]
    return []


def _stranded_header(buf: list[int], tables: dict[int, tuple[int, int]], i: int) -> int:
    """Position in `buf` where a table header starts whose figures begin at line `i` or later; 0 if none."""
    for head, _, figure in {tables[j] for j in range(i, i + 2 * HEADER_LINES + 1) if j in tables}:
        if figure >= i and head > buf[0] and head in buf:
            return buf.index(head)
    return 0


def _overlap_tail(buf: list[int], cost: Sequence[int], overlap: int) -> list[int]:
    """Last lines of a piece worth at most `overlap` tokens, repeated at the start of the next."""
    tail: list[int] = []
    total = 0
    for j in reversed(buf[1:]):
        if total + cost[j] > overlap:
            break
        tail.insert(0, j)
        total += cost[j]
    return tail


def _split_long_line(line: str, size: int, count_tokens: TokenCounter) -> list[str]:
    words = line.split(" ")
    parts: list[str] = []
    step = max(1, size // 2)  # words per part, refined by the tokenizer below
    start = 0
    while start < len(words):
        end = min(len(words), start + step)
        while end > start + 1 and count_tokens([" ".join(words[start:end])])[0] > size - 1:
            end = start + max(1, (end - start) * 3 // 4)
        parts.append(" ".join(words[start:end]))
        start = end
    return parts
