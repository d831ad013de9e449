"""PDF pages as printed: lines rebuilt from PyMuPDF word geometry, table rows as 'label | v1 | v2'.

PyMuPDF's plain text gives every table cell a line of its own, so a statement row loses its
label and its year columns. Here each page's words (`page.get_text("words")`, PyMuPDF's own
line grouping and reading order) are cut into segments at wide gaps, segments sharing a
baseline are gathered into visual rows, and a row whose cells look like a table row (figures,
or several short cells such as a period header) becomes one line with cells joined by ' | ',
as the EDGAR HTML path renders rows. A row with fewer figures than the table's full rows (a value under the 2021
column only) gets an empty cell for each blank column ("Goodwill impairment | | 1,234"), placed by where its figures sit
under the full rows' columns, so its period is known. Everything else keeps PyMuPDF's reading order line by
line, so two-column narrative is not interleaved and footnotes and footers stay lines of their
own. `find_tables()` was measured at ~2 s per statement page (finding nothing on some), far
over the ingest budget of ~2 ms a page; word geometry costs about as much as plain text.

Bounded work: a page with more than MAX_WORDS words, or whose text runs vertically, falls back
to PyMuPDF's plain text (what extraction did before).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Bump when the layout below changes: it is part of what makes an ingested document unchanged.
# 2: split glyphs mended by the line's spacing; 3: guidance ranges, footnote marks, pictures; 4: empty cells for blanks
LAYOUT_VERSION = "rows-4"

# A table or chart printed as a picture (JOHNSON_JOHNSON_2023_8K_dated-2023-08-30 p.5) has no text to extract; the
# text says so where it stands instead of leaving its footnote markers as stray digits.
PICTURE_SHARE = 0.04  # of the page's area; logos are smaller
PICTURE_MAX_WORDS = 5  # words over an image: more, and the image is a scan under its own text layer
PICTURE_NOTE = "[picture: a table or chart printed as an image; its figures cannot be read as text]"
MAX_WORDS = 12_000  # a page with more words (a dense table of tiny print) falls back to plain text
# Gaps between words, in multiples of the word height: below MEND a space is a split glyph
# ("Balance Shee t"), above CELL the words belong to different cells.
MEND_GAP = 0.12
# Headings set in wider spacing split glyphs at wider gaps ("Incom e" at 0.14, "Shee t" at 0.19 of the height
# where the heading's spaces are 0.23): a short fragment closer than this share of the line's usual space is mended.
SPLIT_SHARE = 0.85
SPLIT_OF_NARROWEST = 0.95
CELL_GAP = 1.0
NUMBER_GAP = 0.5  # between two figures on one PyMuPDF line, a gap this wide separates columns
ROW_OVERLAP = 0.5  # share of the lower box height two boxes overlap by to sit on one row
# A cell this short may join a row without a figure (period headers, "Three Months Ended").
SHORT_CELL = 32
HEADER_REACH = 3  # a header row sits at most this many rows above the table's figures
MIN_FULL_ROWS = 2  # rows with every column's figure that place the columns of a row with blanks

_NUMERIC = re.compile(
    r"^(?:[$€£¥]|US\$)?\s*\(?\s*[$€£¥]?\s*[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)\s*\)?\s*%?\s*\)?\s*(?:[x×]|pts?\.?|bps|%)?$"
    r"|^[\u2014\u2013\-]+$|^\(?\s*[$€£¥]\s*\)?$|^\)%?$|^%$|^n/?[am]\.?$|^NM$|^\*+$",
    re.I,
)
# Earnings releases print guidance as ranges of scaled figures: "$98.8B – $99.8B / $99.3B", "6.0% – 7.0% / 6.5%".
_FIGURE_RANGE = re.compile(r"\s*[\u2013\u2014/]\s*|\s+(?:-|to)\s+")
_SCALED = re.compile(r"(?<=\d)(?:B|M|K|bn|mm)(?=\)?$)")
_FIGURE_END = frozenset("0123456789)%")
_CURRENCY = frozenset(("$", "€", "£", "¥", "$(", "($"))
_BULLETS = frozenset(("•", "●", "▪", "◦", "■", "□", "o", "–", "-", "*"))
_YEAR = re.compile(r"^(?:19|20)\d\d$")
# Short words a split-glyph fragment can never be ("of", "the"): a fragment is mended only when it is not one of them.
_SHORT_WORDS = frozenset(
    "a an as at be by do go he if in is it me my no of on or so to up us we all and any are but can did due for has "
    "her his its may net new nor not now off old one our out own per see she the too two use via was way who why yet you".split()
)
_LETTERS = re.compile(r"[A-Za-z]{2}")


def pdf_page_text(page) -> str:  # noqa: ANN001 - a pymupdf.Page
    """Text of one PDF page with table rows on one line each (see the module docstring)."""
    words = page.get_text("words", sort=False)
    if not words:
        return ""
    if len(words) > MAX_WORDS or _mostly_vertical(words):
        return page.get_text("text", sort=False)
    return layout_words(words, _pictures(page, words) if page.get_images() else ())


def _pictures(page, words: list[tuple]) -> list[float]:  # noqa: ANN001 - a pymupdf.Page
    """Tops of large images with no text over them: tables and charts printed as pictures (a scan's text layer sits over its image)."""
    area = page.rect.width * page.rect.height
    tops = []
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        if (x1 - x0) * (y1 - y0) < PICTURE_SHARE * area or (x1 - x0) < page.rect.width / 3:
            continue
        inside = sum(1 for w in words if x0 <= w[0] and w[2] <= x1 and y0 <= w[1] and w[3] <= y1)
        if inside < PICTURE_MAX_WORDS:
            tops.append(y0)
    return tops


def layout_words(words: list[tuple], pictures: Sequence[float] = ()) -> str:
    """Lines of a page from PyMuPDF word tuples (x0, y0, x1, y1, text, block, line, word); `pictures` are the tops of images to name."""
    segments = _segments(words)
    rows = _label_orphans(_rows(segments))
    units: list[tuple[float, list[str]]] = []  # (reading-order key, lines)
    table: list[_TableLine] = []  # lines of the table being gathered
    table_key = 0.0
    pending: list[_Seg] = []  # single-segment rows between table rows (sub-headings like "Operating activities")
    stacked: list[_Seg] | None = None  # the table's last row, when it is a header another header line may complete
    above: list[tuple[int, _Seg]] = []  # the last one-line rows before a table: (index in units, segment)

    def close_table() -> None:
        nonlocal table
        if table:
            units.append((table_key, _table_lines(table)))
            table = []

    kinds = [_row_kind(row) for row in rows]
    # A row of short text cells is a header only above figures (within HEADER_REACH rows, through
    # other headers); elsewhere it is two columns of narrative whose lines happen to be short.
    header_ok = [False] * len(rows)
    for i in range(len(rows) - 1, -1, -1):
        if kinds[i] == "header":
            header_ok[i] = any(kinds[j] == "figures" or header_ok[j] for j in range(i + 1, min(len(rows), i + 1 + HEADER_REACH)))
    for i, row in enumerate(rows):
        cells = _join_cells(row) if kinds[i] == "figures" or header_ok[i] else None
        if cells is not None:
            if not table:
                table_key = min(s.order for s in row)
                # a short header line just above, drawn after the table's first cells ("Year Ended December 31,"
                # over the year columns), would sort below the table: it opens the table instead
                while above and above[-1][1].order > table_key and len(above[-1][1].text) <= 2 * SHORT_CELL:
                    index, seg = above.pop()
                    units[index] = (-1.0, [])
                    table.insert(0, _TableLine(seg.text, header=True))
            above = []
            # labels between rows of one table belong to it (a statement's sub-headings)
            for seg in pending:
                table.append(_TableLine(seg.text))
                table_key = min(table_key, seg.order)
            if not pending and stacked is not None and _stacks_on(stacked, row):
                # a header printed on two lines ("June 25," over "2023"): one cell per column
                stacked = [
                    _Seg(a.x0, a.y0, max(a.x1, b.x1), b.y1, f"{a.text} {b.text}", a.order, a.line_id, False)
                    for a, b in zip(stacked, row, strict=True)
                ]
                table[-1] = _TableLine(" | ".join(s.text for s in stacked), header=True)
                continue
            pending = []
            figures = kinds[i] == "figures"
            table.append(_TableLine(" | ".join(c for c, _x0, _x1 in cells), cells if figures else None, header=not figures))
            table_key = min(table_key, min(s.order for s in row))
            stacked = row if _header_like(row) else None
            continue
        stacked = None
        if table and len(row) == 1 and len(pending) < 3 and len(row[0].text) <= 90:
            pending.append(row[0])
            continue
        close_table()
        for seg in pending:
            units.append((seg.order, [seg.text]))
        pending = []
        joined = _rejoin(row)
        for seg in joined:
            units.append((seg.order, [seg.text]))
        above = [*above[-(HEADER_REACH - 1) :], (len(units) - 1, joined[0])] if len(joined) == 1 else []
    close_table()
    for seg in pending:
        units.append((seg.order, [seg.text]))
    for top in pictures:
        below = [s.order for s in segments if s.y0 >= top]
        units.append((min(below) - 0.5 if below else float("inf"), [PICTURE_NOTE]))
    units.sort(key=lambda u: u[0])
    return "\n".join(line for _key, lines in units for line in lines)


class _Seg:
    """Words of one PyMuPDF line that sit close together: a cell, or a run of narrative."""

    __slots__ = ("x0", "x1", "y0", "y1", "y", "text", "order", "line_id", "joined")

    def __init__(self, x0: float, y0: float, x1: float, y1: float, text: str, order: float, line_id: tuple, joined: bool) -> None:
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.y = (y0 + y1) / 2
        self.text = text
        self.order = order
        self.line_id = line_id
        self.joined = joined  # cut from the previous segment of the same PyMuPDF line at a wide gap


def _mostly_vertical(words: list[tuple]) -> bool:
    """Text set vertically (a landscape table on a portrait page): boxes of longer words taller than wide (a sample of 200)."""
    tall = long = 0
    for w in words[:: max(1, len(words) // 200)]:
        if len(w[4]) >= 4:
            long += 1
            if (w[3] - w[1]) > 1.5 * (w[2] - w[0]):
                tall += 1
    return long > 0 and tall * 2 > long


def _segments(words: list[tuple]) -> list[_Seg]:
    """Runs of words of one PyMuPDF line, cut at gaps wider than a space; the hot loop of the layout."""
    segs: list[_Seg] = []
    append = segs.append
    block = line = -1
    parts: list[str] = []
    x0 = y0 = x1 = y1 = cell_gap = mend_gap = number_gap = 0.0
    order = 0
    cont = False
    for i, (wx0, wy0, wx1, wy1, wtext, wblock, wline, _n) in enumerate(words):
        if wline == line and wblock == block:
            gap = wx0 - x1
            if -cell_gap < gap < cell_gap:
                # a figure, or a lone "$", after a figure starts the next column even when the columns sit close
                if not (gap > number_gap and parts[-1][-1:] in _FIGURE_END and (wtext in _CURRENCY or _NUMERIC.match(wtext))):
                    if (
                        wtext[:1].islower()
                        and parts[-1][-1:].isalpha()
                        and (
                            gap < mend_gap
                            or (
                                len(wtext) <= 4
                                and wtext not in _SHORT_WORDS
                                and gap < SPLIT_SHARE * cell_gap
                                and _split_tail(words, i, gap)
                            )
                        )
                    ):
                        parts[-1] += wtext  # a split glyph: "Shee" "t"
                    else:
                        parts.append(wtext)
                    if wx1 > x1:
                        x1 = wx1
                    continue
            append(_Seg(x0, y0, x1, y1, " ".join(parts), order, (block, line), cont))
            cont = True
        else:
            if parts:
                append(_Seg(x0, y0, x1, y1, " ".join(parts), order, (block, line), cont))
            cont = False
            block, line = wblock, wline
        height = wy1 - wy0 if wy1 - wy0 > 1.0 else 1.0
        cell_gap, mend_gap, number_gap = CELL_GAP * height, MEND_GAP * height, NUMBER_GAP * height
        order = i
        parts = [wtext]
        x0, y0, x1, y1 = wx0, wy0, wx1, wy1
    if parts:
        append(_Seg(x0, y0, x1, y1, " ".join(parts), order, (block, line), cont))
    return segs


def _split_tail(words: list[tuple], i: int, gap: float) -> bool:
    """A short lowercase fragment ("e", "ary.") set closer to the word before than the line's spaces are: a split glyph."""
    fragment = words[i][4].rstrip(".,:;")
    if not fragment.isalpha() or len(fragment) > 3 or fragment in _SHORT_WORDS:
        return False
    block, line = words[i][5], words[i][6]
    lo = i
    while lo > 0 and words[lo - 1][5] == block and words[lo - 1][6] == line:
        lo -= 1
    hi = i
    while hi + 1 < len(words) and words[hi + 1][5] == block and words[hi + 1][6] == line:
        hi += 1
    spaces = sorted(words[j + 1][0] - words[j][2] for j in range(lo, hi) if j + 1 != i)
    if len(spaces) < 2:
        return False
    # Justified lines stretch every space alike: a true space is never clearly narrower than all the others.
    return gap < SPLIT_SHARE * spaces[len(spaces) // 2] and gap < SPLIT_OF_NARROWEST * spaces[0]


def _rows(segs: list[_Seg]) -> list[list[_Seg]]:
    """Segments sharing a baseline (boxes overlapping by half their height), top to bottom, each row left to right."""
    rows: list[list[_Seg]] = []
    anchor: _Seg | None = None
    for seg in sorted(segs, key=lambda s: s.y):
        if anchor is not None:
            overlap = min(seg.y1, anchor.y1) - max(seg.y0, anchor.y0)
            if overlap >= ROW_OVERLAP * min(seg.y1 - seg.y0, anchor.y1 - anchor.y0):
                rows[-1].append(seg)
                continue
        rows.append([seg])
        anchor = seg
    for row in rows:
        row.sort(key=lambda s: s.x0)
    return rows


def _is_numeric(text: str) -> bool:
    """A figure cell: '1,577', '(42)', '12.5%', and guidance cells such as '$98.8B – $99.8B / $99.3B'."""
    if _NUMERIC.match(text):
        return True
    parts = _FIGURE_RANGE.split(text)
    if len(parts) == 1 and not _SCALED.search(text):
        return False
    return all(_NUMERIC.match(_SCALED.sub("", part)) for part in parts)


def _label_orphans(rows: list[list[_Seg]]) -> list[list[_Seg]]:
    """A row of figures alone, set between two label lines (JOHNSON_JOHNSON_2023Q2_EARNINGS p.5: the figures centred on a
    two-line label), takes the one-segment label row left of it that it overlaps most; that row is then used up."""
    for i, row in enumerate(rows):
        if len(row) < 2 or not all(_is_numeric(s.text) for s in row):
            continue
        best, best_overlap = None, 0.0
        for j in (i - 1, i + 1):
            if 0 <= j < len(rows) and len(rows[j]) == 1 and rows[j][0].x1 < row[0].x0 and not _is_numeric(rows[j][0].text):
                label = rows[j][0]
                overlap = min(label.y1, row[0].y1) - max(label.y0, row[0].y0)
                if overlap > best_overlap:
                    best, best_overlap = j, overlap
        if best is not None:
            rows[i] = [rows[best][0], *row]
            rows[best] = []
    return [row for row in rows if row]


def _row_kind(row: list[_Seg]) -> str | None:
    """'figures' for a table row with figures, 'header' for a row of short text cells, None for anything else."""
    if len(row) < 2:
        return None
    for a, b in zip(row, row[1:]):
        if b.x0 < a.x1 - 1:  # overlapping boxes: text drawn over text, not cells
            return None
    texts = [s.text for s in row]
    figures = sum(1 for t in texts[1:] if _is_numeric(t))
    if figures:
        # long text beside figures only before a closing figure (a contents line "Item 7. | Management's ... | 20"):
        # two columns of narrative are not a row
        if not _is_numeric(texts[-1]) and any(len(t) > SHORT_CELL and not _is_numeric(t) for t in texts[1:]):
            return None
        return "figures"
    if any(len(t) > SHORT_CELL for t in texts[1:]) or len(texts[0]) > 2 * SHORT_CELL:
        return None
    if len(texts) == 2 and (len(texts[0]) > SHORT_CELL or not _LETTERS.search(texts[1])):
        return None
    return "header"


def _header_like(row: list[_Seg]) -> bool:
    """Cells of a period header: words or years, no figures."""
    return all(_LETTERS.search(s.text) or _YEAR.match(s.text) for s in row)


def _stacks_on(upper: list[_Seg], row: list[_Seg]) -> bool:
    """A header line below another with a cell under each of its cells."""
    return (
        len(upper) == len(row) and _header_like(row) and all(a.x0 < b.x1 and b.x0 < a.x1 for a, b in zip(upper, row, strict=True))
    )


def _superscript(mark: _Seg, text: _Seg) -> bool:
    """A footnote marker printed small before its footnote ("¹ Non-GAAP financial measure")."""
    return len(mark.text) <= 2 and mark.text.isalnum() and (mark.y1 - mark.y0) < 0.8 * (text.y1 - text.y0)


def _rejoin(row: list[_Seg]) -> list[_Seg]:
    """A row that is not a table: pieces cut from one PyMuPDF line at wide gaps are one line again, a bullet joins its text."""
    if (
        len(row) >= 2
        and (row[0].text in _BULLETS or _superscript(row[0], row[1]))
        and row[1].x0 - row[0].x1 < 4 * (row[1].y1 - row[1].y0)
    ):
        row[1].text = f"{row[0].text} {row[1].text}"
        row[1].order = min(row[0].order, row[1].order)
        row = row[1:]
    out: list[_Seg] = []
    for seg in sorted(row, key=lambda s: s.order):
        if seg.joined and out and out[-1].line_id == seg.line_id:
            out[-1].text += " " + seg.text
        else:
            out.append(seg)
    return out


_PREFIX_CELLS = frozenset(("$", "€", "£", "¥", "(", "$(", "($", "US$", "C$", "A$"))
_MARKER_CELL = re.compile(r"^(?:\([a-z]{1,2}\)|\*{1,3}|[\u2020\u2021])$")
_SUFFIX_CELL = re.compile(r"^(?:\)|%|\)%|%\))$")


_CURRENCY_GAP = re.compile(r"([$€£¥])\s+(?=[\d(.])")
_OPEN_GAP = re.compile(r"\(\s+(?=[\d$€£¥.])")
_CLOSE_GAP = re.compile(r"(?<=[\d%])\s+(?=[)%])")
_NIL = re.compile(r"^[$€£¥]\s*[\u2014\u2013-]+$")  # "$—": nil, printed with the column's currency sign
_BLANKS = re.compile(r" {2,}")
# dot leaders (3+ dots, maybe spaced) ending a label, before a figure or at the cell's end: never dots inside words
_LEADER = re.compile(
    r"\s*(?:\.\s*){3,}(?=$|[$€£¥(\d\u2014\u2013-])"
)  # an empty cell is written as clean_page leaves it: "Label | | 1,234"


def _unleadered(seg: _Seg, first: bool) -> list[tuple[str, float, float]]:
    """The segment's text without dot leaders, cut where a leader runs into a figure ("Revenue ...... $4,795,511" is a
    label and a figure; their edges are estimated from the characters' share of the segment's width). A segment of
    leaders alone is no cell, unless it opens the row."""
    text = seg.text
    if "..." not in text and ". . ." not in text:
        return [(text, seg.x0, seg.x1)]
    width = (seg.x1 - seg.x0) / len(text)
    pieces, start = [], 0
    for m in _LEADER.finditer(text):
        pieces.append((text[start : m.start()], start))
        start = m.end()
    pieces.append((text[start:], start))
    out = [(t, seg.x0 + width * at, seg.x0 + width * (at + len(t))) for t, at in pieces if t.strip()]
    return out or ([("", seg.x0, seg.x1)] if first else [])


def _join_cells(row: list[_Seg]) -> list[tuple[str, float, float]]:
    """Cells of a table row with their left and right edges: "$" and "(" join the figure after them, ")" and "%" the one
    before; dot leaders between a label and its figures are dropped."""
    out: list[tuple[str, float, float]] = []
    pieces = [piece for i, seg in enumerate(row) for piece in _unleadered(seg, i == 0)]
    for text, x0, x1 in pieces:
        cell = _CLOSE_GAP.sub("", _OPEN_GAP.sub("(", _CURRENCY_GAP.sub(r"\1", text)))
        if out and (out[-1][0] in _PREFIX_CELLS or _SUFFIX_CELL.match(cell)):
            out[-1] = (out[-1][0] + cell, out[-1][1], max(out[-1][2], x1))
        elif out and _MARKER_CELL.match(cell) and _LETTERS.search(out[-1][0]):
            # a footnote marker set apart from its heading: "EMEA (a)", not a column of its own
            out[-1] = (f"{out[-1][0]} {cell}", out[-1][1], max(out[-1][2], x1))
        else:
            out.append((cell, x0, x1))
    return out


class _TableLine:
    """A line of a table being gathered: its text, for a row of figures its cells with their edges; a header or not."""

    __slots__ = ("text", "cells", "header")

    def __init__(self, text: str, cells: list[tuple[str, float, float]] | None = None, header: bool = False) -> None:
        self.text = text
        self.cells = cells
        self.header = header


def _table_lines(table: list[_TableLine]) -> list[str]:
    """The table's lines; in the rows under one header, a label row with fewer figures than the full rows gets an empty
    cell for each blank column. A header between rows starts other columns (a second table set close under the first)."""
    out: list[str] = []
    start = 0
    for end in range(1, len(table) + 1):
        if end == len(table) or (_heads(table[end]) and not _heads(table[end - 1])):
            out += _block_lines(table[start:end])
            start = end
    return out


def _figure(text: str) -> bool:
    return _is_numeric(text) or bool(_NIL.match(text))


def _heads(line: _TableLine) -> bool:
    """A header row, or a row of years set as figures ("Supplemental share information | 2018 | 2017")."""
    return line.header or bool(line.cells and len(line.cells) > 1 and all(_YEAR.match(c[0]) for c in line.cells[1:]))


def _block_lines(table: list[_TableLine]) -> list[str]:
    rows = [
        t
        for t in table
        if t.cells
        and len(t.cells) > 1
        and not _heads(t)
        and not _figure(t.cells[0][0])
        and all(_figure(c[0]) for c in t.cells[1:])
    ]
    width = max((len(t.cells) - 1 for t in rows), default=0)
    full = [t.cells[1:] for t in rows if len(t.cells) - 1 == width]
    if width < 2 or len(full) < MIN_FULL_ROWS:
        return [t.text for t in table]
    # a column's reach: from the leftmost to the rightmost edge of its figures in the full rows
    columns = [(min(r[k][1] for r in full), max(r[k][2] for r in full)) for k in range(width)]
    if any(columns[k][1] >= columns[k + 1][0] for k in range(width - 1)):
        return [t.text for t in table]  # columns that overlap: where a figure sits does not say its column
    label_rows = {id(t) for t in rows}
    out = []
    for t in table:
        slots = _blank_slots(t.cells[1:], columns) if id(t) in label_rows and len(t.cells) - 1 < width else None
        out.append(t.text if slots is None else _BLANKS.sub(" ", " | ".join([t.cells[0][0], *slots])).rstrip())
    return out


def _blank_slots(cells: list[tuple[str, float, float]], columns: list[tuple[float, float]]) -> list[str] | None:
    """The row's figures, each in the one column it overlaps, "" for the others; None when a figure overlaps none or two."""
    slots = [""] * len(columns)
    last = -1
    for text, x0, x1 in cells:
        under = [k for k, (lo, hi) in enumerate(columns) if x0 < hi and x1 > lo]
        if len(under) != 1 or under[0] <= last:
            return None
        last = under[0]
        slots[last] = text
    return slots
