"""The redline view in Chromium: 3M's FY2018 and FY2019 10-K risk factors compared from the company and document pages,
changes opening their pages, a filing without the section answered with what each has, and the view at phone width."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import shot

LATER = "3M_2019_10K"  # beside the server's 3M_2018_10K
PFAS = "The Company faces liabilities related to certain fluorochemicals"  # a risk factor 3M added in its FY2019 10-K


@pytest.fixture(scope="module", autouse=True)
def later_3m_filing(server, web_data_dir, filings_settings):
    """3M's FY2019 10-K in the live server's catalog for this module only (other UI tests count the server's filings)."""
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths
    from tests.conftest import financebench_path

    corpus = Corpus.open(filings_settings.model_copy(update={"data_dir": web_data_dir}))
    try:
        report = ingest_paths(corpus, [financebench_path() / "pdfs" / f"{LATER}.pdf"], workers=1)
        assert report.ok, report.summary()
    finally:
        corpus.close()
    yield
    httpx.delete(f"{server}/v1/documents/{LATER}", timeout=120).raise_for_status()


def test_risk_factors_redlined_from_the_company_page(page):
    page.goto("/#/companies/3M%20Company")
    page.locator("#redline-link").click()
    expect(page).to_have_url(re.compile(r"#/redline/3M%20Company$"))
    expect(page.locator("#r-a")).to_have_value("3M_2018_10K")
    expect(page.locator("#r-b")).to_have_value(LATER)
    expect(page.locator("#r-section")).to_have_value("Item 1A")
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"#/redline/3M%20Company\?a=3M_2018_10K&b=3M_2019_10K&section=Item\+1A&show=all$"))
    summary = page.locator("#redline-summary")
    expect(summary.locator("h2")).to_have_text("Item 1A Risk Factors")
    expect(summary.locator(".redline-counts")).to_contain_text(re.compile(r"\d+ added · \d+ removed · \d+ changed"))
    added = page.locator("#redline-changes > li.added").filter(has_text=PFAS)
    expect(added).to_have_count(1)
    expect(added.locator("ins")).to_contain_text(PFAS)
    changed = page.locator("#redline-changes > li.changed").first
    expect(changed.locator("del").first).to_be_visible()
    expect(changed.locator("ins").first).to_be_visible()
    added.get_by_role("button", name="B p.10").click()
    expect(page.locator("#page-dialog #page-title")).to_contain_text("3M Company 10-K FY2019 — page 10 of")
    page.keyboard.press("Escape")
    shot(page, "redline")
    assert page.web_errors == []


def test_from_the_document_page_with_a_filter_and_a_missing_section(page):
    page.goto(f"/#/documents/{LATER}")
    page.locator("#redline-link").click()
    expect(page.locator("#r-a")).to_have_value("3M_2018_10K")
    expect(page.locator("#r-b")).to_have_value(LATER)
    page.locator("#r-show").select_option("added")
    page.get_by_role("button", name="Compare").click()
    items = page.locator("#redline-changes > li")
    expect(items.first).to_be_visible()
    assert set(items.evaluate_all("els => els.map(e => e.dataset.kind)")) == {"added"}
    page.locator("#r-section").fill("Item 1C")  # cybersecurity: neither 10-K of that era has it
    page.get_by_role("button", name="Compare").click()
    problem = page.locator("#redline-result .problem")
    expect(problem).to_contain_text("is not in both filings")
    expect(problem).to_contain_text("3M_2018_10K has: Item 1 Business")
    assert page.web_errors and all(e.startswith("HTTP 404 for GET") and "/redline/" in e for e in page.web_errors)


def test_the_redline_fits_a_phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/#/redline/3M%20Company?a=3M_2018_10K&b=3M_2019_10K&section=Item%201A&show=all")
    expect(page.locator("#redline-changes > li").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    expect(page.get_by_role("button", name="Compare")).to_be_visible()
    shot(page, "phone-redline", full_page=False)
    assert page.web_errors == []
