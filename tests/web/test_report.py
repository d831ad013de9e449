"""A report from the UI: choose Report, edit the plan, approve it, watch the sections fill in, read the memo (phone width too)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.fakes.report_script import ReportModel
from tests.web.conftest import shot
from tests.web.test_exports import download
from tests.web.test_ui import ask


def test_a_report_is_planned_edited_approved_and_written(page, llm_script):
    llm_script(ReportModel(failing="Acquisitions"))
    ask(page, "report", "A memo on 3M's capital allocation, FY2016-FY2018")
    form = page.locator("#plan-form")
    expect(form).to_be_visible(timeout=20_000)
    expect(page.locator("#run-status")).to_contain_text("planned")
    expect(form.locator(".plan-section")).to_have_count(3)
    shot(page, "report-plan")
    page.locator("#plan-title").fill("3M: how it spent its cash, FY2016-FY2018")
    form.locator(".plan-section").nth(2).get_by_role("button", name="Remove section").click()
    page.get_by_role("button", name="Approve and research").click()

    sections = page.locator("#report-sections")
    expect(sections.locator("li")).to_have_count(2)
    expect(sections).to_contain_text("Capital expenditures", timeout=30_000)
    memo = page.locator("#memo")
    expect(memo).to_contain_text("3M: how it spent its cash, FY2016-FY2018", timeout=30_000)
    expect(memo).to_contain_text("Executive summary")
    expect(memo.locator("button.cite").first).to_be_visible()
    expect(memo.locator("table.report-table")).to_have_count(1)
    expect(sections).not_to_contain_text("Acquisitions")  # removed from the plan: never researched
    shot(page, "report-memo")
    _downloads_hold_every_footnote(page)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(memo.locator("button.cite").first).to_be_visible()
    shot(page, "report-memo-phone")
    page.reload()  # a finished report replays: sections and memo from the stored run
    expect(page.locator("#memo")).to_contain_text("Executive summary", timeout=15_000)
    expect(page.locator("#report-sections li")).to_have_count(2)
    page.get_by_label("Revise a section").fill("Revise the shareholder returns: dividends for FY2016 and FY2017 too")
    page.get_by_role("button", name="Plan the revision").click()  # the next turn of the report's thread
    expect(page.locator("#plan-form")).to_be_visible(timeout=20_000)
    assert page.web_errors == []


def _downloads_hold_every_footnote(page) -> None:
    """The memo downloads as Word (real footnotes), PDF (Sources) and the evidence pack (every figure row has a page)."""
    import io

    import docx
    import openpyxl
    import pymupdf

    expect(page.locator("#export-menu")).to_be_visible()
    word = docx.Document(download(page, "Word").path())
    text = "\n".join(p.text for p in word.paragraphs)
    assert "3M: how it spent its cash, FY2016-FY2018" in text and "3M_2018_10K p." in text
    assert b"w:footnoteReference" in word.part.blob
    with pymupdf.open(download(page, "PDF").path()) as pdf:
        printed = "".join(p.get_text() for p in pdf)
    assert "Page 1 of" in printed and "Sources" in printed
    sheet = openpyxl.load_workbook(io.BytesIO(download(page, "Evidence (XLSX)").path().read_bytes()), read_only=True)["figures"]
    rows = list(sheet.iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(rows[0])}
    assert len(rows) > 1 and all(r[col["page"]] for r in rows[1:] if r[col["doc_id"]]), rows[:3]
