"""Document metadata (company, form, fiscal period) from cover-page text, with the file name as fallback."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from corpus.fiscal import _DATE, _fiscal_year_of_quarter, _parse_date, fiscal_year_for
from corpus.text import PagedText

FORM_TYPES = ("10-K", "10-Q", "8-K", "earnings release", "annual report", "other")

COVER_PAGES = 3
# A page-less HTML filing is one huge page; the cover is in its first few screens.
COVER_MAX_CHARS = 40_000


@dataclass
class DocMetadata:
    """What a filing is: who filed it, which form, which fiscal period; `sources` says where each value came from."""

    company: str | None = None
    ticker: str | None = None
    cik: str | None = None
    form_type: str | None = None
    fiscal_year: int | None = None
    fiscal_period: str | None = None  # "FY" or "Q1".."Q4"
    period_end_date: date | None = None
    filing_date: date | None = None
    sources: dict[str, str] = field(default_factory=dict)  # field name -> "cover" | "filename"


_FIELDS = ("company", "ticker", "cik", "form_type", "fiscal_year", "fiscal_period", "period_end_date", "filing_date")

# ---------------------------------------------------------------------------------------------
# File names: {COMPANY}_{PERIOD}_{TYPE}[_dated-YYYY-MM-DD]

_DOC_SUFFIXES = {".pdf", ".htm", ".html", ".xhtml", ".txt", ".text", ".md", ".markdown"}
_PERIOD_TOKEN = re.compile(r"^(?:FY)?((?:19|20)\d{2})(?:[-]?Q([1-4]))?$|^Q([1-4])[-]?((?:19|20)\d{2})$", re.I)
_EDGAR_NAME = re.compile(r"^([a-z]{1,5})-((?:19|20)\d{2})(\d{2})(\d{2})$")  # EDGAR's own 'aapl-20230701.htm'
_ISO_DATE = re.compile(r"((?:19|20)\d{2})-(\d{2})-(\d{2})")
_TYPE_TOKENS = {
    "10K": "10-K",
    "10KA": "10-K",
    "10K405": "10-K",
    "10KT": "10-K",
    "10Q": "10-Q",
    "10QA": "10-Q",
    "8K": "8-K",
    "8KA": "8-K",
    "EARNINGS": "earnings release",
    "EARNINGSRELEASE": "earnings release",
    "PRESSRELEASE": "earnings release",
    "ANNUALREPORT": "annual report",
    "AR": "annual report",
}


def metadata_from_filename(file_name: str) -> DocMetadata:
    """Company, period and form from the FinanceBench naming convention, e.g. 'AMCOR_2023Q2_10Q.pdf'; never raises."""
    meta = DocMetadata()
    name = PurePath(str(file_name)).name
    if PurePath(name).suffix.lower() in _DOC_SUFFIXES:
        name = PurePath(name).stem
    if (m := _EDGAR_NAME.match(name)) is not None:
        meta.ticker = m[1].upper()
        try:
            meta.period_end_date = date(int(m[2]), int(m[3]), int(m[4]))
        except ValueError:
            pass
        meta.sources = {f: "filename" for f in _FIELDS if getattr(meta, f) is not None}
        return meta
    tokens = [t for t in re.split(r"[_\s]+", name) if t]
    period_at = next((i for i, t in enumerate(tokens) if _PERIOD_TOKEN.match(t)), None)
    quarter = None
    if period_at is not None:
        m = _PERIOD_TOKEN.match(tokens[period_at])
        meta.fiscal_year = int(m[1] or m[4])
        quarter = m[2] or m[3]
        company_tokens, rest = tokens[:period_at], tokens[period_at + 1 :]
    else:
        company_tokens, rest = tokens[:1], tokens[1:]
    if company_tokens and not _ISO_DATE.search(company_tokens[0]):
        meta.company = " ".join(company_tokens)
    for token in rest:
        key = re.sub(r"[^A-Z0-9]", "", token.upper())
        if meta.form_type is None and key in _TYPE_TOKENS:
            meta.form_type = _TYPE_TOKENS[key]
    if meta.form_type is None and rest:
        meta.form_type = "other"
    if (m := _ISO_DATE.search("_".join(rest))) is not None:
        try:
            meta.filing_date = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    if quarter:
        meta.fiscal_period = f"Q{quarter}"
    elif meta.form_type in ("10-K", "annual report") and meta.fiscal_year is not None:
        meta.fiscal_period = "FY"
    meta.sources = {f: "filename" for f in _FIELDS if getattr(meta, f) is not None}
    return meta


# ---------------------------------------------------------------------------------------------
# Cover pages

_DASHES = str.maketrans(
    {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"} | {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"}
)

_FORM_LINE = re.compile(r"^form\s+(10-k|10-q|8-k)(?:/a|405|t)?(?:\s*\(.*\))?$", re.I)
_OTHER_FORM_LINE = re.compile(r"^(?:form\s+(?:20-f|40-f|6-k|11-k|s-1|s-3|s-4|s-8|f-1|f-4|n-csr)|schedule\s+14[ac])\b", re.I)
_PURSUANT = re.compile(r"\b(annual|quarterly|current)\s+report\s+pursuant\s+to\s+section\s+13\b", re.I)
_SEC_HEADER = re.compile(r"securities\s+and\s+exchange\s+commission", re.I)
_RELEASE = re.compile(
    r"\b(?:reports?|reported|announces?|announced|posts?|delivers?)\b[^.]{0,120}?\b(?:results|earnings)\b"
    r"|\bnews\s+release\b|\bfor\s+immediate\s+release\b",
    re.I,
)
_ANNUAL_REPORT = re.compile(r"\bannual\s+report\b", re.I)

_YEAR_ENDED = re.compile(rf"\b(?:fiscal\s+)?year\s+ended\s*:?\s*({_DATE})", re.I)
_QUARTER_ENDED = re.compile(rf"\bquarterly\s+period\s+ended\s*:?.{{0,40}}?({_DATE})", re.I)
_RELEASE_ENDED = re.compile(rf"\b(quarter|period|year|weeks|months)\b[^.;]{{0,60}}?\bended\s*:?\s*({_DATE})", re.I)
_REPORT_DATE = re.compile(rf"\bdate\s+of\s+report\b[^:]{{0,60}}?:?\s*({_DATE})", re.I)

_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_YTD = re.compile(r"\b(six|nine|twenty-six|thirty-nine|26|39|24|36)[- ](?:months|weeks)\s+ended\b", re.I)
_YTD_QUARTER = {"six": 2, "twenty-six": 2, "26": 2, "24": 2, "nine": 3, "thirty-nine": 3, "39": 3, "36": 3}
_TENQ_ORDINAL = re.compile(
    r"\bform\s+10-q\s+for\s+the\s+(first|second|third)\s+(?:fiscal\s+)?quarter\b"
    r"|\b(first|second|third)\s+quarter\s+(?:of\s+)?(?:fiscal\s+)?(?:19|20)\d{2}\s+form\s+10-q\b",
    re.I,
)
_BALANCE_DATES = re.compile(rf"\bbalance\s+sheets?\b[^.]{{0,40}}?({_DATE})\s*,?\s*(?:and\s+)?({_DATE})", re.I)
_RELEASE_QUARTER = re.compile(
    r"\b(first|second|third|fourth)[- ](?:fiscal[- ])?quarter\b|\bQ([1-4])\b|\b([1-4])Q(?:\d{2}|\d{4})\b", re.I
)
_YEAR = re.compile(r"(?<![\d.$])((?:19|20)\d{2})(?![\d%]|\.\d)")
_FISCAL_LABEL = re.compile(r"\bfiscal\s+(?:year\s+)?((?:19|20)\d{2})\b", re.I)
# The filing's own name for its quarter: "Second Quarter Fiscal 2023", "third quarter of fiscal 2024", "fiscal 2024 third quarter".
_FISCAL_QUARTER = re.compile(
    r"\b(first|second|third|fourth)[- ]quarter\s+(?:of\s+)?fiscal\s+(?:year\s+)?((?:19|20)\d{2})\b"
    r"|\bfiscal\s+(?:year\s+)?((?:19|20)\d{2})\s+(first|second|third|fourth)[- ]quarter\b",
    re.I,
)

_EXACT_NAME = re.compile(r"\(?\s*exact(?:\s+name\b|$)", re.I)
_NAME_THEN_EXACT = re.compile(r"^(.{3,80}?)\s*\(exact\s+name\s+of\s+registrant", re.I)
_NAME_STOP = re.compile(
    r"\d{3,}|commission|\bfile\s+n|reported|_{3,}|^[-=*.\s]+$|transition|exchange\s+act|^form\b|^or$|^\(?mark\s+one|:$|pursuant",
    re.I,
)
_COMMISSION_FILE = re.compile(r"\bcommission\s+file\b", re.I)
_CORP_SUFFIX = re.compile(
    r"\b(?:inc|incorporated|corp|corporation|company|co|plc|ltd|limited|llc|l\.?p|n\.v|s\.a|ag|se"
    r"|group|holdings|trust|international)\b\.?,?$",
    re.I,
)
_SUBSIDIARIES = re.compile(r"^(.{3,80}?),?\s+and\s+(?:its\s+)?(?:consolidated\s+)?subsidiaries$", re.I)
_EXCHANGE_TICKER = re.compile(
    r"[(\[]\s*(?i:nyse|nasdaq|nyse\s+american|nasdaq\s+global\s+select\s+market)\s*:\s*([A-Z]{1,5}(?:\.[A-Z])?)\s*[)\]]"
)
_EXCHANGE_TICKER_BARE = re.compile(r"\b(?i:nyse|nasdaq)\s*:\s*([A-Z]{1,5}(?:\.[A-Z])?)\b")
_TITLE_VERB = re.compile(r"^(.{2,60}?)\s+(?:reports|announces|reported|announced|posts)\b", re.I)
_RELEASE_PARENTHETICAL = re.compile(r'\s*\((?:[^()]*"[^()]*"|[^()]*\bthe\s+company\b[^()]*)\)\s*$', re.I)
_NAME_TEXT = re.compile(r"[A-Z0-9][\w.,&' ]{1,70}")
_SYMBOL_HEADER = re.compile(r"\bsymbols?\b", re.I)
_TICKER_CELL = re.compile(r"^[A-Z]{1,5}(?:\.[A-Z])?$")
_NOT_TICKERS = {"NYSE", "NONE", "N", "A", "YES", "NO", "OR", "LLC", "INC", "THE", "PLC", "ASX", "LSE", "TSX", "NA", "SIX", "CHX"}
_INLINE_TICKER = re.compile(r"\s([A-Z]{1,5}(?:\.[A-Z])?)\s+(?:the\s+)?(?:new\s+york\s+stock\s+exchange|nyse|nasdaq)", re.I)
_SECTION_12B = re.compile(r"section\s+12\s*\(\s*b\s*\)", re.I)
_SECTION_END = re.compile(r"section\s+12\s*\(\s*g\s*\)|indicate\s+by\s+check\s+mark", re.I)
_CIK = re.compile(r"(?i:\bCIK\b|central\s+index\s+key)(?:\s*(?i:no\.?|number|#|code))?\s*[:#]?\s*(\d{4,10})\b")


def metadata_from_text(text: PagedText) -> DocMetadata:
    """Metadata stated on the cover (first pages) of a filing; fields it cannot read stay None."""
    pages = _cover_pages(text)
    cells = [c for page in pages for c in page]
    flat = " ".join(c for c in cells if c)
    first_page = " ".join(c for c in pages[0] if c) if pages else ""
    meta = DocMetadata()
    meta.form_type = _form_type(pages, cells, flat)
    form = meta.form_type
    meta.company = _company(cells, flat, first_page)
    meta.ticker = _ticker(cells, flat)
    if (m := _CIK.search(flat)) is not None:
        meta.cik = m[1].zfill(10)

    quarter: int | None = None
    if form in ("10-K", "annual report"):
        meta.period_end_date = _first_date(_YEAR_ENDED, flat)
        meta.fiscal_period = "FY" if meta.period_end_date else None
        if meta.period_end_date:
            meta.fiscal_year = fiscal_year_for(meta.period_end_date)
    elif form == "10-Q":
        meta.period_end_date = _first_date(_QUARTER_ENDED, flat)
        quarter = _tenq_quarter(flat, meta.period_end_date)
    elif form == "earnings release":
        meta.period_end_date, span = _release_period_end(flat)
        quarter, label_year = _release_quarter(first_page or flat)
        if quarter is None and meta.period_end_date and span == "year":
            meta.fiscal_year = fiscal_year_for(meta.period_end_date)
        elif quarter is None or meta.period_end_date is None:
            meta.fiscal_year = label_year
    elif form == "8-K":
        meta.filing_date = _first_date(_REPORT_DATE, flat)
    if quarter is not None:
        meta.fiscal_period = f"Q{quarter}"
        if meta.period_end_date is not None:
            meta.fiscal_year = _fiscal_year_of_quarter(meta.period_end_date, quarter)
    if form in ("earnings release", "10-Q") and (named := _fiscal_quarter(first_page + " " + flat)) is not None:
        # Retailers name fiscal years either way (Ulta's fiscal 2023 ends in January 2024): the filing's words win.
        meta.fiscal_period, meta.fiscal_year = f"Q{named[0]}", named[1]
    meta.sources = {f: "cover" for f in _FIELDS if getattr(meta, f) is not None}
    return meta


def detect_metadata(text: PagedText, file_name: str) -> DocMetadata:
    """Cover-page values, with gaps filled from the file name; `sources` records which one each value came from."""
    cover = metadata_from_text(text)
    named = metadata_from_filename(file_name)
    merged = DocMetadata()
    for f in _FIELDS:
        for meta, source in ((cover, "cover"), (named, "filename")):
            if (value := getattr(meta, f)) is not None:
                setattr(merged, f, value)
                merged.sources[f] = source
                break
    # A quarterly cover states the quarter's end but often not which quarter it is; the name's quarter then dates the year.
    if (
        cover.fiscal_year is None
        and cover.period_end_date is not None
        and merged.fiscal_period is not None
        and merged.fiscal_period.startswith("Q")
    ):
        merged.fiscal_year = _fiscal_year_of_quarter(cover.period_end_date, int(merged.fiscal_period[1]))
        merged.sources["fiscal_year"] = "cover"
    return merged


# ---------------------------------------------------------------------------------------------
# Cover helpers


def _cover_pages(text: PagedText) -> list[list[str]]:
    """First pages as lists of cells: lines, with HTML table rows ('a | b') split into their cells."""
    pages: list[list[str]] = []
    budget = COVER_MAX_CHARS
    for page in range(1, min(COVER_PAGES, text.page_count) + 1):
        start, end = text.page_span(page)
        cells: list[str] = []
        for line in text.lines[start - 1 : end]:
            if budget <= 0:
                break
            budget -= len(line) + 1
            line = line.translate(_DASHES)
            cells.extend(c.strip() for c in line.split(" | "))
        pages.append(cells)
        if budget <= 0:
            break
    return pages


def _first_date(pattern: re.Pattern[str], flat: str) -> date | None:
    m = pattern.search(flat)
    return _parse_date(m[1]) if m else None


def _form_type(pages: list[list[str]], cells: list[str], flat: str) -> str | None:
    form = next((m[1].upper() for c in cells if len(c) < 60 and (m := _FORM_LINE.match(c))), None)
    if form is None and (m := _PURSUANT.search(flat)) is not None:
        form = {"annual": "10-K", "quarterly": "10-Q", "current": "8-K"}[m[1].lower()]
    if form == "10-K":
        # A glossy annual report opens with its own cover and carries the 10-K inside.
        first = " ".join(pages[0])
        if not _SEC_HEADER.search(first) and _ANNUAL_REPORT.search(_title(pages)) and not _has_form_line(pages[0]):
            return "annual report"
        return form
    if form is not None:
        return form
    if any(len(c) < 60 and _OTHER_FORM_LINE.match(c) for c in cells) and _SEC_HEADER.search(flat):
        return "other"  # a proxy statement, registration statement or foreign issuer's report
    head = " ".join(c for page in pages[:2] for c in page if c)
    if _RELEASE.search(head[:6000]):
        return "earnings release"
    if _ANNUAL_REPORT.search(_title(pages)):
        return "annual report"
    return None


def _title(pages: list[list[str]]) -> str:
    """The first few non-empty lines of the first page, where a report names itself."""
    return " ".join([c for c in pages[0] if c][:5]) if pages else ""


def _has_form_line(cells: list[str]) -> bool:
    return any(len(c) < 60 and _FORM_LINE.match(c) for c in cells)


def _tenq_quarter(flat: str, period_end: date | None) -> int | None:
    """Quarter of a 10-Q from its year-to-date columns, an explicit 'second quarter ... Form 10-Q', or the balance sheet dates."""
    ytd = [_YTD_QUARTER[m[1].lower()] for m in _YTD.finditer(flat)]
    if ytd:
        return max(ytd)
    if (m := _TENQ_ORDINAL.search(flat)) is not None:
        return _ORDINALS[(m[1] or m[2]).lower()]
    for m in _BALANCE_DATES.finditer(flat):
        current, year_end = _parse_date(m[1]), _parse_date(m[2])
        if current and year_end and (period_end is None or current == period_end) and year_end < current:
            months = round((current - year_end).days / 30.44)
            if months in (3, 6, 9):
                return months // 3
    return None


def _fiscal_quarter(text: str) -> tuple[int, int] | None:
    """(quarter, fiscal year) as the filing names its own quarter, from the first such phrase."""
    m = _FISCAL_QUARTER.search(text[:20_000])
    if m is None:
        return None
    if m.group(1):
        return _ORDINALS[m.group(1).lower()], int(m.group(2))
    return _ORDINALS[m.group(4).lower()], int(m.group(3))


def _release_period_end(flat: str) -> tuple[date | None, str | None]:
    """End of the period an earnings release covers, and the span word before it ('quarter', 'year', ...)."""
    for m in _RELEASE_ENDED.finditer(flat):
        before = flat[max(0, m.start() - 60) : m.start()].lower()
        if "10-k" in before or "10-q" in before or "form" in before:
            continue  # "see our Form 10-K for the year ended ..." is not this release's period
        return _parse_date(m[2]), m[1].lower()
    return None, None


def _release_quarter(head: str) -> tuple[int | None, int | None]:
    """(quarter, fiscal year label) from an earnings release headline such as 'Fourth Quarter and Full-Year 2022'."""
    m = _RELEASE_QUARTER.search(head)
    if m is None:
        label = _FISCAL_LABEL.search(head)
        return None, int(label[1]) if label else None
    quarter = _ORDINALS[m[1].lower()] if m[1] else int(m[2] or m[3])
    after = _YEAR.search(head, m.end(), m.end() + 40)  # "First Quarter Fiscal Year 2023"
    before = _YEAR.findall(head, max(0, m.start() - 25), m.start())  # "2022 Fourth-Quarter"
    return quarter, int(after[1]) if after else int(before[-1]) if before else None


def _company(cells: list[str], flat: str, first_page: str) -> str | None:
    """Registrant name: above '(Exact name of registrant ...)', else after the file number, else from a press release."""
    name = _name_above_exact_line(cells) or _name_after_file_number(cells)
    if name is None:
        name = next((m[1] for c in cells if (m := _SUBSIDIARIES.match(c)) and m[1].isupper()), None)  # logo-only covers
    if name is None:
        name = _name_before_ticker(first_page) or _name_before_ticker(flat)
    if name is None:
        name = next((m[1] for c in cells[:5] if (m := _TITLE_VERB.match(c)) and not re.search(r"\d", m[1])), None)
    return _tidy_company(name) if name else None


def _name_above_exact_line(cells: list[str]) -> str | None:
    for i, cell in enumerate(cells):
        if (m := _NAME_THEN_EXACT.match(cell)) is not None:
            return m[1]
        if not _EXACT_NAME.match(cell):
            continue
        collected: list[str] = []
        for prev in reversed(cells[max(0, i - 4) : i]):
            if not prev:
                if collected:
                    break
                continue
            if _NAME_STOP.search(prev) or len(prev) > 80:
                break
            collected.insert(0, prev)
            if len(collected) == 2 or (_CORP_SUFFIX.search(prev) and " " in prev):
                break  # a lone "PLC" line is the tail of a name broken over two lines
        if collected:
            return " ".join(collected)
    return None


def _name_after_file_number(cells: list[str]) -> str | None:
    """Older covers without the 'Exact name' caption: 'Commission file number 1-3285' then '3M COMPANY'."""
    for i, cell in enumerate(cells):
        if _COMMISSION_FILE.search(cell):
            for nxt in [c for c in cells[i + 1 : i + 6] if c][:3]:
                if _CORP_SUFFIX.search(nxt) and len(nxt) <= 60 and not re.search(r"\d{3,}", nxt):
                    return nxt
            return None
    return None


def _name_before_ticker(text: str) -> str | None:
    """Press-release style: 'MINNEAPOLIS, March 2, 2023 -- Best Buy Co., Inc. (NYSE: BBY) today ...'."""
    m = _EXCHANGE_TICKER.search(text)
    return _name_before(text[: m.start()]) if m else None


def _name_before(text: str) -> str | None:
    """The company name that ends `text`, as in 'MINNEAPOLIS, March 2, 2023 -- Best Buy Co., Inc.'."""
    tail = text[-160:].rstrip()
    tail = _RELEASE_PARENTHETICAL.sub("", tail).rstrip()  # '("Costco" or the "Company")'
    for sep in ("--", " - ", " -", "- ", ")-", "-"):
        if sep in tail:
            tail = tail.rsplit(sep, 1)[1]
            break
    tail = tail.strip(" ,;:")
    if _NAME_TEXT.fullmatch(tail) and len(tail.split()) <= 7 and not re.search(r"\d{4}", tail):
        return tail
    return None


_SMALL_CAPS_SPLIT = re.compile(r"\b([B-Z]) (?=[A-Z]{3,}\b)")
_KEEP_LOWER = {"AND", "OF", "THE", "DE", "FOR"}
_SUFFIX_CASE = {w: w.capitalize() for w in ("INC.", "INC", "CO.", "CO", "CORP.", "CORP", "LTD.", "LTD")}


def _tidy_company(name: str) -> str | None:
    """Collapse spacing, undo small-caps splits ('MGM R ESORTS'), and title-case an all-caps name."""
    name = re.sub(r"\s+", " ", name).strip(" ,;:-")
    name = re.sub(r"\s+([.,])", r"\1", name)
    if not re.search(r"[A-Za-z]{2}", name):
        return None
    if name.upper() != name:
        return name
    name = _SMALL_CAPS_SPLIT.sub(r"\1", name)
    words = []
    for i, word in enumerate(name.split(" ")):
        core = word.rstrip(",")
        tail = word[len(core) :]
        if core in _SUFFIX_CASE:
            core = _SUFFIX_CASE[core]
        elif not re.search(r"[AEIOUY]", core) or "&" in core:
            pass  # acronyms such as CVS, MGM, 3M, AT&T
        elif i > 0 and core in _KEEP_LOWER:
            core = core.lower()
        elif "." in core.strip("."):
            head, _, rest = core.partition(".")
            core = head.capitalize() + "." + rest.lower()  # AMAZON.COM -> Amazon.com
        else:
            core = "-".join(part.capitalize() for part in core.split("-"))
        words.append(core + tail)
    return " ".join(words)


def _ticker(cells: list[str], flat: str) -> str | None:
    """Ticker from the 'Trading Symbol(s)' table (10-K/10-Q/8-K covers since 2019), else from '(NYSE: MMM)'."""
    if _SYMBOL_HEADER.search(flat):
        start = next((i for i, c in enumerate(cells) if _SECTION_12B.search(c)), None)
        if start is not None:
            region: list[str] = []
            for cell in cells[start + 1 : start + 60]:
                if _SECTION_END.search(cell):
                    break
                region.append(cell)
            for cell in region:
                if _TICKER_CELL.match(cell) and cell not in _NOT_TICKERS:
                    return cell
            for cell in region:
                if (m := _INLINE_TICKER.search(" " + cell)) is not None and m[1].isupper() and m[1] not in _NOT_TICKERS:
                    return m[1]
    m = _EXCHANGE_TICKER.search(flat) or _EXCHANGE_TICKER_BARE.search(flat)
    return m[1] if m else None
