"""The Documents page's EDGAR fetch in headless Chromium: a ticker and a year in, the filings in the table, bad input said."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.corpus.test_edgar import BUCKLE_8K, SHARED_EDGAR
from tests.web.conftest import shot


def test_fetch_from_edgar_on_the_documents_page(page, server):
    import pytest

    if not (SHARED_EDGAR / "BUCKLE_2024-11-22_8K.htm").is_file():
        pytest.skip(f"EDGAR filings not found at {SHARED_EDGAR}")
    page.goto("/#/documents")
    table = page.locator("#documents tbody tr")
    expect(page.locator("#doc-count")).to_contain_text(" filings")  # the table is drawn
    before = table.count()
    try:
        fetch_bke(page, table, before)
    finally:  # leave the catalog as the other web tests expect it
        for doc_id in (f"BKE_2024-11-22_8K_{BUCKLE_8K}", f"BKE_2024-11-22_8K_{BUCKLE_8K}_EX99-1"):
            page.request.delete(f"{server}/v1/documents/{doc_id}")
    assert page.web_errors == []


def fetch_bke(page, table, before: int) -> None:
    card = page.locator("#fetch-form")
    card.get_by_label("Ticker or CIK").fill("AMZM")
    card.get_by_label("Years (period of report)").fill("2023")
    card.get_by_role("button", name="Fetch and ingest").click()
    expect(page.locator("#fetch-result")).to_contain_text("unknown ticker 'AMZM'", timeout=30_000)
    expect(page.locator("#fetch-result")).to_contain_text("AMZN (AMAZON COM INC)")

    card.get_by_label("Ticker or CIK").fill("BKE")
    card.get_by_label("Years (period of report)").fill("2024")
    for form, on in (("10-K", False), ("10-Q", False), ("8-K", True)):
        card.get_by_label(form, exact=True).set_checked(on)
    card.get_by_role("button", name="Fetch and ingest").click()
    log = page.locator("#fetch-log")
    expect(log).to_contain_text("BUCKLE INC (CIK 0000885245, BKE)", timeout=30_000)
    expect(log).to_contain_text("2 filings on EDGAR, 0 already in the catalog, 2 to fetch")
    expect(page.locator("#fetch-result")).to_contain_text("Fetched: BUCKLE INC", timeout=90_000)
    expect(page.locator("#fetch-result")).to_contain_text("404")  # the fake lacks one of the two 8-Ks: said, not hidden
    expect(table).to_have_count(before + 2)
    expect(page.locator("#documents")).to_contain_text(f"BKE_2024-11-22_8K_{BUCKLE_8K}_EX99-1")
    shot(page, "edgar-fetch")
