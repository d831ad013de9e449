"""The citation dialog in Chromium: the cited page as printed, the cited figure highlighted over it, prev/next, text view."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import financebench_path
from tests.web.conftest import CAPEX_CITATION, shot
from tests.web.test_ui import ask

ZOOM = 144 / 72  # the API's default page image resolution (SLEUTH_API_PAGE_DPI=144)
RENDER_TIMEOUT_MS = 30_000  # the first render starts the render process: seconds on a loaded 2-core machine
IMAGE_LOADED = "() => { const i = document.querySelector('#page-img'); return i && i.complete && i.naturalWidth > 0; }"


def _figure_rect_in_pixels() -> tuple[float, float, float, float]:
    """Where PyMuPDF itself finds the cited figure on 3M's p.60, in page-image pixels: an independent reference."""
    import pymupdf

    with pymupdf.open(financebench_path() / "pdfs" / f"{CAPEX_CITATION['doc_id']}.pdf") as doc:
        page = doc[CAPEX_CITATION["page"] - 1]
        label = page.search_for("Purchases of property, plant and equipment (PP&E)")[0]
        row = [r for r in page.search_for("(1,577)") if abs(r.y0 - label.y0) < 3][0]  # the figure on the label's row
        r = row * page.rotation_matrix * pymupdf.Matrix(ZOOM, ZOOM)
        return r.x0, r.y0, r.x1, r.y1


def _assert_figure_covered(page) -> None:
    """One highlight, mapped back to image pixels, covers PyMuPDF's own box of the cited figure (and only its line)."""
    geometry = page.evaluate(
        """() => {
            const img = document.querySelector('#page-img').getBoundingClientRect();
            const scale = document.querySelector('#page-img').naturalWidth / img.width;
            return [...document.querySelectorAll('.page-box')].map((m) => {
                const r = m.getBoundingClientRect();
                return [(r.left - img.left) * scale, (r.top - img.top) * scale, (r.right - img.left) * scale, (r.bottom - img.top) * scale];
            });
        }"""
    )
    fx0, fy0, fx1, fy1 = _figure_rect_in_pixels()
    covering = [b for b in geometry if b[0] <= fx0 + 2 and b[1] <= fy0 + 2 and b[2] >= fx1 - 2 and b[3] >= fy1 - 2]
    assert covering, f"no highlight covers the figure at {(fx0, fy0, fx1, fy1)}: {geometry}"
    assert all((b[2] - b[0]) < 900 and (b[3] - b[1]) < 80 for b in covering), "a highlight marks the figure's line, not the page"


def test_a_citation_opens_the_page_as_printed_with_the_figure_highlighted(page):
    ask(page, "agentic")
    chip = page.locator("#answer-agentic .chip").first
    expect(chip).to_have_text("✓ 3M Company · 10-K · FY2018 · p.60")
    chip.click()
    dialog = page.locator("#page-dialog")
    expect(dialog.locator("#page-title")).to_contain_text("page 60 of 160")
    image = dialog.locator("#page-img")
    expect(image).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    page.wait_for_function(IMAGE_LOADED, timeout=RENDER_TIMEOUT_MS)
    marks = dialog.locator(".page-box")
    expect(marks.first).to_be_visible()
    assert marks.count() >= 2, "the row label and its figure are highlighted"

    _assert_figure_covered(page)
    expect(dialog.locator("#page-note")).to_be_hidden()
    dialog.locator(".page-box").first.scroll_into_view_if_needed()
    shot(page, "citation-page-image", full_page=False)

    dialog.get_by_role("button", name="Text view").click()  # the text the agent read, the cited lines marked
    expect(dialog.locator("#page-lines")).to_be_visible()
    expect(dialog.locator("li.hit").first).to_contain_text("Purchases of property, plant and equipment")
    expect(image).to_be_hidden()
    dialog.get_by_role("button", name="Page image").click()
    expect(image).to_be_visible()

    dialog.get_by_role("button", name="Next page").click()
    expect(dialog.locator("#page-title")).to_contain_text("page 61 of 160")
    expect(dialog.locator("#page-note")).to_contain_text("not found on this page (cited: page 60)", timeout=RENDER_TIMEOUT_MS)
    expect(dialog.locator(".page-box")).to_have_count(0)
    page.wait_for_function(IMAGE_LOADED, timeout=RENDER_TIMEOUT_MS)
    dialog.get_by_role("button", name="Previous page").click()
    expect(dialog.locator("#page-title")).to_contain_text("page 60 of 160")
    expect(dialog.locator(".page-box").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.web_errors == []


def test_the_page_dialog_fits_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    ask(page, "agentic")
    page.locator("#answer-agentic .chip").first.click()
    dialog = page.locator("#page-dialog")
    expect(dialog.locator(".page-box").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    page.wait_for_function(IMAGE_LOADED, timeout=RENDER_TIMEOUT_MS)
    _assert_figure_covered(page)  # on a phone the page is shown larger than the screen, scrolled to the highlight
    fits = page.evaluate(
        "() => { const d = document.querySelector('#page-dialog'); return d.scrollWidth <= d.clientWidth + 1 && d.getBoundingClientRect().right <= window.innerWidth; }"
    )
    assert fits, "the dialog (title, toggle, prev/next, close) stays within a 390 px screen"
    for name in ("Text view", "Previous page", "Next page", "Close"):
        expect(dialog.get_by_role("button", name=name)).to_be_in_viewport()
    shot(page, "phone-citation", full_page=False)
    assert page.web_errors == []
