"""A PDF page as printed: rendered to PNG, and its glyphs with their boxes in the image's pixels (PyMuPDF)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus.errors import CorpusError


class PageNotRendered(CorpusError):
    """The page cannot be rendered (corrupt file, page out of range); the message says why."""


class PageOutOfRange(PageNotRendered):
    def __init__(self, page: int, page_count: int) -> None:
        super().__init__(f"there is no page {page}: the PDF has pages 1-{page_count}")
        self.page, self.page_count = page, page_count

    def __reduce__(self):  # noqa: ANN204 - raised in a render process, re-raised in the server
        return (type(self), (self.page, self.page_count))


@dataclass(frozen=True)
class Glyph:
    """One character as printed: its text, its box in image pixels (x0, y0, x1, y1) and the line it sits on."""

    char: str
    x0: float
    y0: float
    x1: float
    y1: float
    line: int


@dataclass(frozen=True)
class PageGlyphs:
    width: int  # the rendered image's size in pixels, the space the boxes are in
    height: int
    page_count: int
    glyphs: list[Glyph]


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    width: int
    height: int
    page_count: int


def zoom_for(width_pt: float, height_pt: float, dpi: int, max_side_px: int, max_pixels: int) -> float:
    """Scale from PDF points to pixels: `dpi`, reduced so that a huge page stays within the pixel bounds."""
    zoom = dpi / 72
    width_pt, height_pt = max(width_pt, 1.0), max(height_pt, 1.0)
    zoom = min(zoom, max_side_px / max(width_pt, height_pt))
    zoom = min(zoom, (max_pixels / (width_pt * height_pt)) ** 0.5)
    return max(zoom, 0.05)


def _open_page(path: Path, page: int):  # noqa: ANN202 - returns (pymupdf.Document, pymupdf.Page)
    import pymupdf

    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # pymupdf raises FileDataError, RuntimeError, ...
        raise PageNotRendered(f"the original file is not a readable PDF ({exc})") from exc
    if doc.needs_pass:
        doc.close()
        raise PageNotRendered("the original PDF is encrypted")
    if not 1 <= page <= doc.page_count:
        count = doc.page_count
        doc.close()
        raise PageOutOfRange(page, count)
    return doc, doc[page - 1]


def render_page(path: Path, page: int, *, dpi: int, max_side_px: int, max_pixels: int) -> RenderedPage:
    """PNG of 1-based `page` of the PDF at `path`, as a viewer shows it (rotation applied)."""
    import pymupdf

    doc, pg = _open_page(path, page)
    with doc:
        zoom = zoom_for(pg.rect.width, pg.rect.height, dpi, max_side_px, max_pixels)
        try:
            pix = pg.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False, annots=True)
            png = pix.tobytes("png")
        except Exception as exc:
            raise PageNotRendered(f"page {page} of the PDF cannot be rendered ({exc})") from exc
        return RenderedPage(png, pix.width, pix.height, doc.page_count)


def page_glyphs(path: Path, page: int, *, dpi: int, max_side_px: int, max_pixels: int, max_glyphs: int = 200_000) -> PageGlyphs:
    """The characters of 1-based `page` with their boxes, in the pixel space of render_page's image."""
    import pymupdf

    doc, pg = _open_page(path, page)
    with doc:
        zoom = zoom_for(pg.rect.width, pg.rect.height, dpi, max_side_px, max_pixels)
        # Text comes in unrotated page space; the image shows the page rotated, then scaled.
        to_image = pg.rotation_matrix * pymupdf.Matrix(zoom, zoom)
        size = (pg.rect * pymupdf.Matrix(zoom, zoom)).irect  # what get_pixmap makes of the page
        try:
            raw = pg.get_text("rawdict", flags=pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP)
        except Exception as exc:
            raise PageNotRendered(f"the text of page {page} cannot be read from the PDF ({exc})") from exc
        glyphs: list[Glyph] = []
        line_id = 0
        for block in raw.get("blocks", []):
            for line in block.get("lines", []):
                line_id += 1
                for span in line.get("spans", []):
                    for ch in span.get("chars", []):
                        if len(glyphs) >= max_glyphs:
                            break
                        r = pymupdf.Rect(ch["bbox"]) * to_image
                        glyphs.append(Glyph(ch["c"], round(r.x0, 1), round(r.y0, 1), round(r.x1, 1), round(r.y1, 1), line_id))
        return PageGlyphs(size.width, size.height, doc.page_count, glyphs)
