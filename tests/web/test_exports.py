"""The run page's export menu: a finished run downloads as Word, the XLSX evidence pack and a PDF with its cited page."""

from __future__ import annotations

import io

from playwright.sync_api import expect

from tests.web.conftest import CAPEX_ANSWER, shot
from tests.web.test_ui import ask


def download(page, label: str):
    with page.expect_download(timeout=120_000) as info:
        page.locator("#export-menu").get_by_role("button", name=label).click()
    return info.value


def test_a_finished_run_downloads_as_word_evidence_pack_and_pdf(page):
    import docx
    import openpyxl
    import pymupdf

    ask(page, "agentic", "Export check: what was 3M's FY2018 capital expenditure?")
    expect(page.locator("#answer-agentic")).to_contain_text(CAPEX_ANSWER, timeout=30_000)
    menu = page.locator("#export-menu")
    expect(menu).to_be_visible()
    shot(page, "run-export-menu")

    word = download(page, "Word")
    assert word.suggested_filename.endswith(".docx")
    doc = docx.Document(word.path())
    assert any("$1,577 million" in p.text for p in doc.paragraphs)
    assert "3M_2018_10K p.60" in "\n".join(p.text for p in doc.paragraphs)  # the Sources list (and the footnote)

    evidence = download(page, "Evidence (XLSX)")
    assert evidence.suggested_filename.endswith(".xlsx")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(evidence.path().read_bytes()), read_only=True)["figures"].iter_rows(values_only=True)
    )
    col = {name: i for i, name in enumerate(rows[0])}
    capex = next(r for r in rows[1:] if r[col["figure as stated"]] == "$1,577 million")
    assert capex[col["page"]] == 60 and capex[col["company"]] == "3M Company" and capex[col["check"]] == "checked: on the page"

    page.locator("#export-menu .export-pages").check()
    pdf = download(page, "PDF")
    with pymupdf.open(pdf.path()) as memo:
        assert "Page 1 of" in memo[0].get_text() and len(memo[-1].get_images()) == 1  # the cited page, appended
    assert page.web_errors == []

    page.set_viewport_size({"width": 390, "height": 844})
    box = menu.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, "the menu wraps within a phone's width"
    shot(page, "run-export-menu-phone")
