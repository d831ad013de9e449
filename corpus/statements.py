"""Primary statements without XBRL parsed from their row-intact text: one fact per row and period column.

The notes' tables are read the same way where years head their columns (a debt note's "At December 31, | 2021 | 2020"),
and only those figures: a note's other tables have columns of maturities, fair value levels or segments.
"""

from __future__ import annotations

import re
from collections import Counter

from corpus.sections import Section as SectionSpan
from corpus.sections import iter_sections
from corpus.text import PagedText
from corpus.xbrl import XbrlFact

MAX_STATEMENT_LINES = 1_500  # a statement spans a few pages; past this the span is a detection error
MAX_STATEMENT_PAGES = 4  # rows further from the title belong to notes the section span swallowed
MAX_SELECTED_PAGES = 2  # Item 6 "Selected Financial Data": a five-year table on a page or two
MAX_NOTE_PAGES = 8  # a note's tables: past this the span is a detection error
PROSE_CHARS = 80  # in a note, a line this long without figures is running text: the table above it has ended
HEADING_CHARS = 50  # in a note, a shorter line may title a table ("Years Ended December 31"); a longer one is text
SELECTED_SECTION = "Item 6"  # the section key its rows are stored under
_SELECTED_TITLE = re.compile(r"selected\s+(?:consolidated\s+)?financial", re.I)
_UNITS = re.compile(
    r"\bin\s+(thousands|millions|billions)\b|^\(?\$?\s*(thousands|millions|billions)\b|\(\s*(thousands|millions|billions)\b", re.I
)
_SCALES = {"thousands": 3, "millions": 6, "billions": 9}
_YEAR_CELL = re.compile(
    r"^(?:(?:at|as\s+of|fiscal|fy|year\s+ended|years?)\s*)?(?:[a-z]{3,9}\.?\s+\d{1,2},?\s+)?(?:fiscal\s+)?((?:19|20)\d{2})(?:\s*\(?[a-z]\)?|\s*\*{1,3})?$",
    re.I,
)
_YEAR_ANY = re.compile(r"(?<![\d,.$])((?:19|20)\d{2})(?![\d,%])")
_SPAN = re.compile(
    r"\b(three|six|nine|twelve|thirteen|twenty-six|thirty-nine|fifty-two|fifty-three)\s+(months|weeks)\s+ended\b|\b(?:fiscal\s+)?years?\s+ended\b|\bquarters?\s+ended\b",
    re.I,
)
_VALUE_CELL = re.compile(
    r"^\$?\s*(\(?)\s*\$?\s*(-)?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*\)?\s*%?$|^[\u2014\u2013-]{1,3}$|^\$\s*[\u2014\u2013-]$"
)
_MONTH_DAY = re.compile(
    r"\s+(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,2}", re.I
)
_SPACED = re.compile(r"\s{2,}")
_CELL_MARK = re.compile(r"\s\|(?=\s|$)")  # " | " between cells; a blank cell leaves "| |", a blank last cell a trailing " |"
_TRAILING_VALUES = re.compile(r"((?:\s+(?:\$\s*)?(?:\(?-?\d[\d,]*(?:\.\d+)?\)?%?|[\u2014\u2013]))+)\s*$")
_DOLLAR_AFTER = re.compile(r"\$?\s*\(?\d[\d,]*(?:\.\d+)?\)?\s+\$")
_AT_DATE = re.compile(r"^(?:at|as\s+of)\s+[a-z]+\s+\d{1,2}\b", re.I)
_AT_MONTH = re.compile(
    r"\b(?:at|as\s+of)\s+((?:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,2})\b",
    re.I,
)
_PER_SHARE_GROUP = re.compile(r"\bper\s+(?:common\s+)?share\b", re.I)
_PER_SHARE = re.compile(r"per\s+(?:common\s+)?share|per\s+unit|\bshares\b|\bratio\b|percent|%", re.I)


def statement_facts(text: PagedText, sections: list[SectionSpan], existing: list[XbrlFact]) -> list[XbrlFact]:
    """Rows of the primary statements, of the notes' year-headed tables and of Item 6 (selected financial data) as facts;
    none when XBRL holds them."""
    if any(f.source in ("ixbrl", "xbrl") for f in existing):
        return []
    out: list[XbrlFact] = []
    notes: list[SectionSpan] = []
    for span, _parent, _depth in iter_sections(sections):
        if span.end_line - span.start_line >= MAX_STATEMENT_LINES:
            continue
        if span.kind == "statement":
            last_page = min(span.end_page, span.start_page + MAX_STATEMENT_PAGES - 1)
            out += parse_statement(text, span.start_line, min(span.end_line, text.page_span(last_page)[1]))
        elif span.kind == "note":
            notes.append(span)
        elif is_selected_data(span):
            last_page = min(span.end_page, span.start_page + MAX_SELECTED_PAGES - 1)
            out += parse_statement(text, span.start_line, min(span.end_line, text.page_span(last_page)[1]), selected=True)
    # a note's table without "(in millions)" of its own goes by the statements' scale ("Dollars in millions" once for all)
    scales = Counter(f.scale for f in out if f.scale)
    scale = scales.most_common(1)[0][0] if scales else None
    for span in notes:
        last_page = min(span.end_page, span.start_page + MAX_NOTE_PAGES - 1)
        out += parse_statement(text, span.start_line, min(span.end_line, text.page_span(last_page)[1]), note=True, scale=scale)
    return out


def is_selected_data(span: SectionSpan) -> bool:
    """A 10-K's Item 6 "Selected Financial Data": five years of a few line items (not "[Reserved]" since 2021)."""
    return span.kind == "item" and span.key == SELECTED_SECTION and bool(_SELECTED_TITLE.search(span.title or ""))


def split_cells(line: str) -> list[str]:
    """Cells of a row: ' | ' separated (HTML tables), else runs of 2+ spaces, else the trailing figures split off the label.

    A ' | ' row keeps its empty cells, "" for a blank column ("Goodwill impairment | | 1,234": nothing under the first year).
    """
    piped = " | " in line
    if piped:
        cells = [c.strip() for c in _CELL_MARK.split(line.strip())]
    elif _SPACED.search(line.strip()):
        cells = [c.strip() for c in _SPACED.split(line.strip())]
    else:
        m = _TRAILING_VALUES.search(line)
        if m is None:
            return [line.strip()]
        label = line[: m.start()].strip()
        values = re.findall(r"(?:\$\s*)?(?:\(?-?\d[\d,]*(?:\.\d+)?\)?%?|[\u2014\u2013])", m.group(1))
        cells = ([label] if label else []) + [v.replace(" ", "") for v in values]
    merged: list[str] = []
    carry = ""
    for c in cells:  # "$" and ")" split off into cells of their own
        c, carry = carry + c, ""
        if _DOLLAR_AFTER.fullmatch(c):  # "$44,538 $ | 37,403 $ | 39,117": the next figure's dollar sign printed after this one
            c, carry = c[:-1].rstrip(), "$"
        if merged and (merged[-1] in ("$", "(", "$(") or c in (")", "%", ")%")):
            merged[-1] += c
        elif c or piped:
            merged.append(c)
    return merged


def parse_value(cell: str) -> tuple[float | None, bool] | None:
    """'(1,577)' -> (-1577.0, True), '1,577' -> (1577.0, False), '—' -> (0.0, False); None for a cell that is no figure."""
    m = _VALUE_CELL.match(cell.strip())
    if m is None:
        return None
    if m.group(3) is None:
        return 0.0, False
    number = float(m.group(3).replace(",", "") + (m.group(4) or ""))
    negative = bool(m.group(1)) or bool(m.group(2))
    return (-number if negative else number), negative


def _header_years(cells: list[str]) -> list[int] | None:
    years = [int(m.group(1)) for c in cells if (m := _YEAR_CELL.match(c.strip()))]
    others = [c for c in cells if not _YEAR_CELL.match(c.strip())]
    if len(years) >= 1 and all(parse_value(c) is None for c in others):
        return years
    return None


def parse_statement(
    text: PagedText, start: int, end: int, selected: bool = False, note: bool = False, scale: int | None = 0
) -> list[XbrlFact]:
    """Facts of one statement between 1-based lines start..end: period columns from the header lines, units from '(in millions ...)'.

    `selected`: a selected-data table, whose rows under a "Per share of common stock:" heading are per-share figures
    ("Net income attributable to 3M — basic | 8.13"): their label says so ("... (per share)") and no scale applies.
    `note`: the tables of a note, read like a statement's where their columns are headed by years; a table's header
    ends with it (at running text); "At December 31," heading the columns or "at December 31" in the lines leading
    to the table says its columns are year-ends, "Years Ended" the years' flows; a figure whose year, or whose kind,
    is not said is left out (a note's other tables have columns of maturities, levels, segments; a bare "2022 | 2021"
    over deferred tax balances says neither). `scale`: the scale before any "(in millions)" line (a note's tables
    go by the statements' unless they say otherwise); None: unknown, and figures are left out until a line says it.
    """
    per_share_group = False
    years: list[int] | None = None
    span_list: list[str] = []
    pending_label = lead_at = ""
    last_header = previous = -1  # line numbers of the last header line and of the last non-empty line
    out: list[XbrlFact] = []
    for number in range(start, end + 1):
        line = text.lines[number - 1].strip()
        if not line:
            continue
        if (m := _UNITS.search(line)) is not None and len(line) < 200:
            scale = _SCALES[next(g for g in m.groups() if g).lower()]
        if note and len(line) >= PROSE_CHARS and " | " not in line and not _TRAILING_VALUES.search(line):
            # running text between a note's tables: the next table's lead-in ("... as of December 31, 2021 are as follows:")
            lead_in = line.endswith(":")  # "... as of December 31, 2021 are as follows:"; other text says nothing of the table
            years, pending_label, span_list = None, "", _spans(line) if lead_in else []
            lead_at = _at_words(line) if lead_in and not span_list else ""
            continue
        if (spans := _spans(line)) and (not note or _heading(line)):
            span_list = spans
        cells = split_cells(line)
        filled = [c for c in cells if c]
        header = _header_years(filled)
        if (
            header is None
            and len(cells) == 1
            and len(_YEAR_ANY.findall(line)) >= 2
            and len(line) < 120
            and not _VALUE_CELL.match(line)
        ):
            header = [int(y) for y in _YEAR_ANY.findall(line)]  # "2018 2017 2016" on one line of a PDF
            if any(parse_value(w) is None and not _YEAR_CELL.match(w) for w in line.split() if w.isdigit()):
                header = None
        # one year split off the end of a plain line is a label wrapped there ("... average rate of 2.2% in 2021"), no header
        celled = " | " in line or bool(_SPACED.search(line))
        if header is not None and len(header) >= 1 and (celled and len(filled) > 1 or len(header) >= 2 or _YEAR_CELL.match(line)):
            # Column headers printed one per line ("December 31, 2022" then "December 31, 2021") add up to one header.
            stacked = years is not None and last_header == previous and len(header) == 1 and header[0] not in years
            years = years + header if stacked else header
            if note and not stacked:
                if at := "" if _SPAN.search(line) else (_at_words(filled[0]) or lead_at):
                    span_list = [at]  # "At December 31, | 2021 | 2020": year-end balances
                lead_at = ""
            last_header = number
            previous = number
            continue
        previous = number
        values = [(c, parse_value(c) if c else None) for c in cells]
        label_cells = [c for c, v in values if c and v is None]
        slots = [(c, v) for c, v in values if not c or v is not None]  # a column each: a figure, or "" for a blank one
        figures = [(col, c, v) for col, (c, v) in enumerate(slots) if c]
        if not figures:
            pending_label = line if len(line) < 160 and not line.endswith(":") else ""
            lead_at = ((_at_words(line) if _heading(line) else "") or lead_at) if note else ""
            if selected and line.endswith(":"):
                per_share_group = bool(_PER_SHARE_GROUP.search(line))
                if _AT_DATE.match(line):  # "At December 31:": the rows below are year-end balances, not the years' flows
                    span_list = [line.rstrip(":").strip()]
            continue
        label = " ".join(label_cells).strip()
        if not label and pending_label:
            label = pending_label  # a label wrapped onto the line above its figures
        pending_label = ""
        if not label or len(label) > 300 or not re.search(r"[A-Za-z]{2}", label):
            continue
        if selected and per_share_group and not _PER_SHARE.search(label):
            label = f"{label} (per share)"
        if scale is None:
            continue  # a note's table in a filing whose statements state no scale, and none of its own
        row_scale = 0 if _PER_SHARE.search(label) else scale
        heads = _figure_heads(years, span_list, len(slots), [col for col, _c, _v in figures], note)
        for (col, printed, (value, negative)), (span_words, year) in zip(figures, heads, strict=True):
            if note and (year is None or not span_words):
                continue  # a note's column that is no one year, or whose kind (a year's flow, a year-end) is not said
            unknown = f"column {col + 1} (period unknown: the header years could not be read)"
            out.append(
                XbrlFact(
                    concept="",
                    context_id="",
                    value=value * (10**row_scale) if value is not None else None,
                    unit=None,
                    scale=row_scale,
                    decimals=None,
                    printed=printed[:60],
                    negated=negative,
                    page=text.page_of_line(number),
                    line=number,
                    label=label[:300],
                    agrees=True,
                    source="table",
                    printed_period=(f"{span_words} {year}".strip() if year else unknown),
                    year=year,
                )
            )
    return out


def _spans(line: str) -> list[str]:
    """The spans a header line names: "Three Months Ended | Six Months Ended" over four columns, each heads half of them."""
    if len(line) >= 160:
        return []
    return [
        (m.group(0) + (d.group(0) if (d := _MONTH_DAY.match(line, m.end())) else "")).strip().title()
        for m in _SPAN.finditer(line)
    ]


def _heading(line: str) -> bool:
    """A line that can head a note's table: a row of cells, a lead-in ("consisted of the following:"), a short title; not
    a line of running text that mentions "the year ended" or "at December 31" about something else."""
    return " | " in line or line.endswith((":", ",")) or len(line) <= HEADING_CHARS


def _at_words(text: str) -> str:
    """'At December 31' for "At December 31," or "... as of December 31, 2021 and 2020 are as follows": year-end balances;
    'As of' where the text names two dates ("as of December 2, 2016 and November 27, 2015"), one per column."""
    m = _AT_MONTH.search(text)
    if m is None:
        return ""
    days = {" ".join(d.split()).lower() for d in _MONTH_DAY.findall(text)}
    return f"At {' '.join(m.group(1).split()).title()}" if len(days) == 1 else "As of"


def _figure_heads(
    years: list[int] | None, span_list: list[str], slots: int, columns: list[int], note: bool = False
) -> list[tuple[str, int | None]]:
    """(span words, header year) of each figure of a row of `slots` columns, the figures in `columns`; year None: unknown.

    A row with blank columns ("" cells) reads each figure's year from the column it sits in. With as many figures as
    header years but more columns (blanks in columns the header names no year for: an equity statement's "Shares"
    beside each year's "Amount", a note's interest-rate column), the figures are the years' columns in order, as a row
    without blanks is read. In a note, a column headed like another (a fair value table's "2018 | 2017" under each of
    Level 1, Level 2, Level 3 and Total) is not known: what sets them apart is not a period.
    """

    def spans(count: int) -> list[str]:
        # "Three Months Ended | Six Months Ended" over four columns: each span heads half of them
        per = count // len(span_list) if span_list and count % len(span_list) == 0 else 0
        return [span_list[i // per] if per else (span_list[0] if span_list else "") for i in range(count)]

    if years and len(years) == slots:
        heads = list(zip(spans(slots), years, strict=True))
        out: list[tuple[str, int | None]] = []
        for n, col in enumerate(columns):
            words, year = heads[col]
            # blanks before it and another column headed alike ("June 30, 2023" twice in a 10-Q of a June year): the
            # series tells such columns apart by position among the row's figures, which the blanks shift
            out.append((words, None if (col != n or note) and heads.count(heads[col]) > 1 else year))
        return out
    if years and len(years) == len(columns):
        heads = list(zip(spans(len(columns)), years, strict=True))
        return [(w, None if note and heads.count((w, y)) > 1 else y) for w, y in heads]
    return [("", None)] * len(columns)
