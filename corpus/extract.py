"""Turn a file on disk into cleaned page texts, whatever its format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.clean import clean_page
from corpus.errors import ExtractionError, UnsupportedFormat
from corpus.pdf import LAYOUT_VERSION, pdf_page_text

PDF_SUFFIXES = {".pdf"}
HTML_SUFFIXES = {".htm", ".html", ".xhtml"}
TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
XBRL_SUFFIXES = {".xml"}  # XBRL instance documents (facts only: stored as one line per fact)
SUPPORTED_SUFFIXES = PDF_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES | XBRL_SUFFIXES
MAX_XBRL_BYTES = 64 * 1024 * 1024
_XBRL_ROOT = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?xbrl[\s>]")

# A text page gets a break here when the file has no form feeds (about 3,000 words).
TEXT_PAGE_CHARS = 18_000
# Fewer text characters than this per page on average means a scan without a text layer.
MIN_CHARS_PER_PAGE = 5
# Share of control/undecodable characters above which a "text" file is really binary
# (stray control characters, as some filings have, are cleaned away instead).
MAX_NOISE_SHARE = 0.10


# Part of what makes an ingested document unchanged: a new extraction re-extracts on re-ingest.
EXTRACTION_VERSION = f"pdf:{LAYOUT_VERSION}"


@dataclass(frozen=True)
class Extracted:
    """Cleaned page texts of one file, with the format they came from."""

    pages: list[str]
    format: str  # pdf | html | txt | md | xbrl
    tree: Any = None  # the parsed HTML (lxml), for inline XBRL facts; never leaves the worker process
    anchors: list = field(default_factory=list)  # visible ix:nonFraction elements: (element, page index, line index)
    xbrl: Any = None  # corpus.xbrl.XbrlDocument of an XBRL instance


def detect_format(path: Path, head: bytes) -> str:
    """Format by content first (a PDF renamed .txt is still a PDF), then by suffix."""
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    suffix = path.suffix.lower()
    sniff = head[:2048].lstrip().lower()
    if suffix in XBRL_SUFFIXES or (sniff.startswith(b"<?xml") and _XBRL_ROOT.search(head) and b"<html" not in sniff):
        if _XBRL_ROOT.search(head):
            return "xbrl"
        raise UnsupportedFormat(
            path, "an XML file that is not an XBRL instance (no <xbrl> root); Sleuth reads XBRL instances, PDF, HTML, TXT, MD"
        )
    if suffix in HTML_SUFFIXES or sniff.startswith((b"<!doctype html", b"<html", b"<?xml")):
        return "html"
    if suffix in MARKDOWN_SUFFIXES:
        return "md"
    if suffix in TEXT_SUFFIXES:
        return "txt"
    raise UnsupportedFormat(path, f"unsupported file type '{suffix or 'no suffix'}' (Sleuth reads PDF, HTML, TXT, MD)")


# Most pages one file may have, unless the caller says otherwise (SLEUTH_CORPUS_INGEST_MAX_PAGES).
MAX_PAGES = 10_000


def _too_many_pages(count: int, max_pages: int) -> str:
    return f"{count:,} pages, over the limit of {max_pages:,} pages per file (SLEUTH_CORPUS_INGEST_MAX_PAGES); split the file or raise the limit"


def extract(path: Path, max_pages: int = MAX_PAGES) -> Extracted:
    """Extract and clean the pages of `path`; raise ExtractionError with a reason a user can act on."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ExtractionError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if not head:
        raise ExtractionError(path, "file is empty")
    fmt = detect_format(path, head)
    if fmt == "pdf":
        pages = _pdf_pages(path, max_pages)
    elif fmt == "html":
        from corpus.html import html_document

        pages, tree, anchors = html_document(_read_text(path))
        if not anchors:
            tree = None  # no inline XBRL: nothing needs the tree
        return _cleaned(path, fmt, pages, tree, anchors, max_pages=max_pages)
    elif fmt == "xbrl":
        return _xbrl(path)
    else:
        pages = _text_pages(_read_text(path))
    return _cleaned(path, fmt, pages, max_pages=max_pages)


def _cleaned(
    path: Path, fmt: str, pages: list[str], tree: Any = None, anchors: list | None = None, *, max_pages: int | None = None
) -> Extracted:
    if max_pages is not None and len(pages) > max_pages:
        raise ExtractionError(path, _too_many_pages(len(pages), max_pages))
    pages = [clean_page(p) for p in pages]
    if sum(len(p.strip()) for p in pages) < MIN_CHARS_PER_PAGE * len(pages):
        if fmt == "pdf":
            raise ExtractionError(
                path,
                f"image-only PDF: no text layer on any of its {len(pages)} pages (run OCR, e.g. ocrmypdf, then ingest again)",
            )
        raise ExtractionError(path, "no text in file")
    return Extracted(pages=pages, format=fmt, tree=tree, anchors=anchors or [])


def _xbrl(path: Path) -> Extracted:
    from corpus.xbrl import instance_pages, parse_instance

    if path.stat().st_size > MAX_XBRL_BYTES:
        raise ExtractionError(
            path, f"XBRL instance larger than {MAX_XBRL_BYTES // 2**20} MB; split it or ingest the filing's HTML"
        )
    try:
        doc = parse_instance(path.read_bytes())
    except ValueError as exc:
        raise ExtractionError(path, f"unreadable XBRL instance: {exc}") from exc
    if not doc.facts:
        raise ExtractionError(path, "XBRL instance without numeric facts" + (f" ({doc.warnings[0]})" if doc.warnings else ""))
    pages = [clean_page(p) for p in instance_pages(doc)]
    return Extracted(pages=pages, format="xbrl", xbrl=doc)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    sample = text[:8192]
    noise = sum(1 for ch in sample if (ch < " " and ch not in "\n\r\t\f") or ch == "\ufffd")
    if sample and noise > MAX_NOISE_SHARE * len(sample):
        raise ExtractionError(path, "looks binary, not text; convert it to PDF, HTML or TXT")
    return text


def _text_pages(text: str) -> list[str]:
    """Form feeds are page breaks; without them, long text is cut at paragraph breaks."""
    if "\f" in text:
        return text.split("\f")
    pages: list[str] = []
    current: list[str] = []
    size = 0
    for para in text.split("\n\n"):
        if current and size + len(para) > TEXT_PAGE_CHARS:
            pages.append("\n\n".join(current))
            current, size = [], 0
        current.append(para)
        size += len(para) + 2
    pages.append("\n\n".join(current))
    return pages


def _pdf_pages(path: Path, max_pages: int) -> list[str]:
    import pymupdf

    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # pymupdf raises its own FileDataError, RuntimeError...
        detail = str(exc).replace(str(path), path.name)  # the server's folders are not the user's business
        raise ExtractionError(path, f"corrupt or unreadable PDF ({detail})") from exc
    with doc:
        if doc.needs_pass:
            raise ExtractionError(path, "encrypted PDF needs a password; decrypt it (e.g. qpdf --decrypt) and ingest again")
        if doc.page_count == 0:
            raise ExtractionError(path, "PDF has no pages")
        if doc.page_count > max_pages:
            raise ExtractionError(path, f"PDF has {_too_many_pages(doc.page_count, max_pages)}")
        pages: list[str] = []
        for number in range(doc.page_count):
            try:
                page = doc[number]
            except Exception as exc:
                raise ExtractionError(path, f"corrupt PDF: page {number + 1} cannot be read ({exc})") from exc
            pages.append(_pdf_page(path, page, number))
    return pages


def _pdf_page(path: Path, page, number: int) -> str:  # noqa: ANN001 - a pymupdf.Page
    """Row-faithful text of one page; PyMuPDF's plain text if the layout trips over the page."""
    try:
        return pdf_page_text(page)
    except Exception:  # noqa: BLE001 - a geometry surprise must not lose the page: plain text instead
        pass
    try:
        return page.get_text("text", sort=False)
    except Exception as exc:
        raise ExtractionError(path, f"corrupt PDF: page {number + 1} cannot be read ({exc})") from exc
