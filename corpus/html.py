"""EDGAR HTML filings (10-K/10-Q .htm, often inline XBRL) to raw page texts."""

from __future__ import annotations

import html as htmllib
import re

_BLOCK = frozenset(
    "p div br tr li ul ol dl dt dd h1 h2 h3 h4 h5 h6 table thead tbody tfoot caption blockquote pre hr "
    "section article header footer nav aside main figure figcaption center address form fieldset".split()
)
# Never visible: document head, code, and the inline-XBRL header with its hidden facts.
_SKIP = frozenset("head title script style noscript template object iframe svg ix:header ix:hidden xbrli:context".split())
_CELLS = frozenset(("td", "th"))
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_BREAK_BEFORE = re.compile(r"(?:page-)?break-before\s*:\s*(?:always|page)", re.I)
_BREAK_AFTER = re.compile(r"(?:page-)?break-after\s*:\s*(?:always|page)", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_MAX_STYLE_CHARS = 2_000_000  # of style sheets read for page-break and hidden classes
_MAX_SELECTOR_CHARS = 200
_TAG = re.compile(r"<[^<>]*>")  # [^<>], not [^>]: an unclosed '<' must not scan to the end once per '<'
_CLASS_SELECTOR = re.compile(r"\s*(?:[a-z]\w*)?\.([\w-]+)\s*", re.I)  # ".pb" or "div.pb", not ".a .b"
_WS = re.compile(r"\s+")

# Cells EDGAR tables split off a number: "$" | "1,577" and "(12" | ")" read as "$1,577" and "(12)".
_PREFIX_CELLS = frozenset(("$", "€", "£", "¥", "(", "$(", "US$", "C$", "A$"))
_SUFFIX_CELL = re.compile(r"^(?:\)|%|\)%|%\))$")
_CURRENCY_GAP = re.compile(r"([$€£¥])\s+(?=[\d(.])")
_OPEN_GAP = re.compile(r"\(\s+(?=[\d$€£¥.])")
_CLOSE_GAP = re.compile(r"(?<=[\d%])\s+\)")


def html_pages(html: str) -> list[str]:
    """Page texts of an HTML filing: split at CSS page breaks, hidden XBRL dropped, table rows as 'cell | cell' lines."""
    return html_document(html)[0]


def html_document(html: str) -> tuple[list[str], object | None, list[tuple[object, int, int]]]:
    """Page texts, the parsed tree (None when unparseable) and every visible ix:nonFraction as (element, page index, line index).

    The line index is where the page's next line was when the element opened: its table row is that line or a later one.
    """
    root = _parse(html)
    if root is None:
        text = htmllib.unescape(_TAG.sub(" ", _XML_DECL.sub("", html)))
        return [_WS.sub(" ", text).strip()], None, []

    from lxml import etree

    before, after, hidden = _class_rules(_style_sheets(root))
    out = _PageWriter()
    walker = etree.iterwalk(root, events=("start", "end"))
    skipping = None
    anchors: list[tuple[object, list[str], int]] = []
    for event, el in walker:
        tag = el.tag
        if el is skipping:  # the end of a skipped subtree: only its tail is visible
            skipping = None
            out.text(el.tail)
            continue
        if not isinstance(tag, str):  # comment or processing instruction
            if event == "end":
                out.text(el.tail)
            continue
        style = el.get("style")
        classes = el.get("class")
        if event == "start":
            if tag in _SKIP or (style and _HIDDEN.search(style)) or (classes and hidden and _has_class(classes, hidden)):
                walker.skip_subtree()
                skipping = el
                continue
            if (style and _BREAK_BEFORE.search(style)) or (classes and before and _has_class(classes, before)):
                out.page_break()
            if tag == "ix:nonfraction":
                anchors.append((el, out.pages[-1], len(out.pages[-1])))
            if tag in _CELLS:
                out.start_cell()
            elif tag == "tr":
                out.start_row()
            elif tag == "page":  # <PAGE> markers of older SGML-era filings
                out.page_break()
            elif tag in _BLOCK:
                out.newline()
            if tag == "pre":
                out.pre += 1
            out.text(el.text)
        else:
            if tag in _CELLS:
                out.end_cell()
            elif tag == "tr" or tag == "table":
                out.end_row()
                out.newline()
            elif tag in _BLOCK:
                out.newline()
            if tag == "pre":
                out.pre -= 1
            if (style and _BREAK_AFTER.search(style)) or (classes and after and _has_class(classes, after)):
                out.page_break()
            out.text(el.tail)
    pages = out.finish()
    kept = [p for p in out.pages if p]  # finish() drops empty pages; anchors follow their page's new position
    index = {id(p): i for i, p in enumerate(kept)}
    return pages, root, [(el, index[id(page)], at) for el, page, at in anchors if id(page) in index]


def _style_sheets(root) -> str:  # noqa: ANN001
    """The text of the document's <style> elements (the parser found them: no regex scans the raw HTML), at most _MAX_STYLE_CHARS."""
    parts: list[str] = []
    size = 0
    for el in root.iter("style"):
        text = el.text or ""
        parts.append(text[: _MAX_STYLE_CHARS - size])
        size += len(parts[-1])
        if size >= _MAX_STYLE_CHARS:
            break
    return "\n".join(parts)


def css_rules(sheet: str) -> list[tuple[str, str]]:
    """(selectors, declarations) of each rule in `sheet`, in one linear pass (rules nested in @media are found too)."""
    rules: list[tuple[str, str]] = []
    for chunk in sheet.split("}"):
        head, brace, body = chunk.rpartition("{")
        if brace:
            rules.append((head.rpartition("{")[2].rpartition(";")[2], body))
    return rules


def _class_rules(sheet: str) -> tuple[set[str], set[str], set[str]]:
    """Classes whose stylesheet rules break the page before, after, or hide the element ('.pb {page-break-after: always}')."""
    before: set[str] = set()
    after: set[str] = set()
    hidden: set[str] = set()
    for selectors, body in css_rules(sheet):
        breaks_before, breaks_after, hides = _BREAK_BEFORE.search(body), _BREAK_AFTER.search(body), _HIDDEN.search(body)
        if not (breaks_before or breaks_after or hides):
            continue
        names = {
            m[1] for part in selectors.split(",") if len(part) <= _MAX_SELECTOR_CHARS and (m := _CLASS_SELECTOR.fullmatch(part))
        }
        if breaks_before:
            before |= names
        if breaks_after:
            after |= names
        if hides:
            hidden |= names
    return before, after, hidden


def _has_class(classes: str, names: set[str]) -> bool:
    return any(c in names for c in classes.split())


def _parse(html: str):
    """lxml tree of `html`, or None when there is nothing a parser can read."""
    import lxml.html
    from lxml import etree

    source = _XML_DECL.sub("", html, count=1)  # lxml refuses str input that declares an encoding
    if not source.strip():
        return None
    parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(source, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


class _PageWriter:
    """Collects text into lines and pages; table cells gather into one ' | ' line per row."""

    def __init__(self) -> None:
        self.pages: list[list[str]] = [[]]
        self.frags: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.cell_depth = 0  # nested tables inside a cell stay inside that cell
        self.pre = 0

    def text(self, s: str | None) -> None:
        if not s:
            return
        if self.cell is not None:
            self.cell.append(s)
        elif self.pre and "\n" in s:
            first, *rest = s.split("\n")
            self.frags.append(first)
            for part in rest:
                self.newline()
                self.frags.append(part)
        else:
            self.frags.append(s)

    def newline(self) -> None:
        if self.cell is not None:
            self.cell.append(" ")
            return
        if self.frags:
            line = _WS.sub(" ", "".join(self.frags)).strip()
            self.frags = []
            if line:
                self.pages[-1].append(line)

    def page_break(self) -> None:
        if self.cell_depth:
            self.newline()
            return
        self.end_row()
        self.newline()
        self.pages.append([])

    def start_row(self) -> None:
        if self.cell_depth:
            self.newline()
            return
        self.end_row()
        self.newline()
        self.row = []

    def start_cell(self) -> None:
        self.cell_depth += 1
        if self.cell_depth == 1:
            if self.row is None:  # a cell outside any row
                self.newline()
                self.row = []
            self.cell = []
        else:
            self.newline()

    def end_cell(self) -> None:
        if self.cell_depth == 0:
            return
        self.cell_depth -= 1
        if self.cell_depth == 0 and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell))
            self.cell = None
        elif self.cell_depth:
            self.newline()

    def end_row(self) -> None:
        if self.cell_depth or self.row is None:
            return
        line = _join_cells(self.row)
        self.row = None
        if line:
            self.newline()
            self.pages[-1].append(line)

    def finish(self) -> list[str]:
        self.cell_depth = 0
        if self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell))
        self.cell = None
        self.end_row()
        self.newline()
        pages = ["\n".join(lines) for lines in self.pages if lines]
        return pages or [""]


def _join_cells(cells: list[str]) -> str:
    out: list[str] = []
    for raw in cells:
        cell = _WS.sub(" ", raw).strip()
        if not cell:
            continue
        cell = _CLOSE_GAP.sub(")", _OPEN_GAP.sub("(", _CURRENCY_GAP.sub(r"\1", cell)))
        if out and (out[-1] in _PREFIX_CELLS or _SUFFIX_CELL.match(cell)):
            out[-1] += cell
        else:
            out.append(cell)
    return " | ".join(out)
