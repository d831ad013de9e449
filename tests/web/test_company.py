"""The company page in Chromium: 3M's standard line items as sparklines, a full chart whose points open their pages, restatements marked."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import shot
from tests.web.test_pages import IMAGE_LOADED, RENDER_TIMEOUT_MS

YEARS = [f"FY{y}" for y in range(2015, 2023)]
MORE_3M = ["3M_2017_10K", "3M_2019_10K", "3M_2021_10K", "3M_2022_10K"]  # with the server's 3M_2018_10K: FY2015-FY2022 statements


@pytest.fixture(scope="module", autouse=True)
def more_3m_filings(server, web_data_dir, filings_settings):
    """3M's other 10-Ks in the live server's catalog for this module only (other UI tests count the server's filings)."""
    from corpus.catalog import Corpus
    from corpus.ingest import ingest_paths
    from tests.conftest import financebench_path

    corpus = Corpus.open(filings_settings.model_copy(update={"data_dir": web_data_dir}))
    try:
        report = ingest_paths(corpus, [financebench_path() / "pdfs" / f"{name}.pdf" for name in MORE_3M], workers=1)
        assert report.ok, report.summary()
    finally:
        corpus.close()
    yield
    for name in MORE_3M:
        httpx.delete(f"{server}/v1/documents/{name}", timeout=120).raise_for_status()


def open_company(page) -> None:
    page.goto("/#/documents")
    page.locator("#documents").get_by_role("link", name="3M Company").first.click()
    expect(page).to_have_url(re.compile(r"#/companies/3M%20Company$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("3M Company")


def test_sparklines_and_a_full_chart_with_its_data_table(page):
    open_company(page)
    sparks = page.locator("#sparks > li")
    expect(sparks).to_have_count(9)
    expect(sparks.filter(has_text="Revenue")).to_contain_text("10 periods, FY2013–FY2022")  # FY2013-14 from Item 6
    expect(page.locator("#sparks canvas.spark-canvas")).to_have_count(9)
    sparks.filter(has_text="Operating income").get_by_role("button").click()
    card = page.locator("#company-chart .chart-card")
    expect(card.locator("h3")).to_have_text("3M Company — Operating income")
    table = card.locator("table.series-table")
    expect(table.locator("tbody th")).to_have_text(YEARS)
    # 3M's 2018 10-K restated FY2016 and FY2017 operating income (7,223 and 7,820 as first reported in the 2017 10-K).
    restated = table.locator("tbody tr.restated")
    expect(restated).to_have_count(2)
    expect(restated.first).to_contain_text("restated; first reported 7,223 in 3M_2017_10K")
    # the restating filing is the first to print the new value (the 2018 10-K), not the latest (the 2019 10-K)
    expect(restated.nth(1)).to_contain_text("first reported 7,820 in 3M_2017_10K p.57; restated 7,692 in 3M_2018_10K p.56")
    expect(card.locator(".legend")).to_contain_text("restated")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#company-chart canvas'))")
    shot(page, "company")


def test_a_point_opens_its_page_with_the_figure_highlighted(page):
    open_company(page)
    page.get_by_label("Line item").fill("capital expenditure")
    page.get_by_label("Periods", exact=True).fill("FY2016-FY2022")
    page.get_by_role("button", name="Chart it").click()
    card = page.locator("#company-chart .chart-card")
    expect(card.locator("h3")).to_contain_text("Purchases of property, plant and equipment")
    expect(card.locator("tbody th")).to_have_text(YEARS[1:])
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#company-chart canvas'))")
    # Click the FY2018 point on the canvas itself: Chart.js knows where it drew it.
    x, y = page.evaluate(
        """() => { const c = document.querySelector('#company-chart canvas'); const p = Chart.getChart(c).getDatasetMeta(0).data[2];
                   const r = c.getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }"""
    )
    page.mouse.click(x, y)
    dialog = page.locator("#page-dialog")
    expect(dialog.locator("#page-title")).to_contain_text("page 60 of 160")  # 3M_2018_10K p.60: (1,577)
    page.wait_for_function(IMAGE_LOADED, timeout=RENDER_TIMEOUT_MS)
    expect(dialog.locator(".page-box").first).to_be_visible()
    shot(page, "company-point")
    dialog.get_by_role("button", name="Close").click()
    card.get_by_role("button", name="3M_2022_10K p.52").first.click()  # the table's source buttons open pages too
    expect(dialog.locator("#page-title")).to_contain_text("page 52")


def test_bad_input_is_said(page):
    open_company(page)
    page.get_by_label("Line item").fill("zebra stripes")
    page.get_by_role("button", name="Chart it").click()
    expect(page.locator("#company-chart [role=alert]")).to_contain_text(
        "No line item of 3M Company matches 'zebra stripes'; closest:"
    )
    page.goto("/#/companies/Tesla")
    expect(page.locator("#banner")).to_contain_text("No filings of 'Tesla' in the corpus")


def test_an_answer_with_a_chart_shows_it_under_the_answer(page, llm_script):
    from tests.fakes.fake_llm import Reply
    from tests.web.conftest import CAPEX_CITATION
    from tests.web.test_ui import ask

    points = [
        {
            "label": f"FY{y}",
            "value": v,
            "doc_id": "3M_2018_10K",
            "page": 60,
            "quote": f"Purchases of property, plant and equipment (PP&E) ({v:,})",
        }
        for y, v in ((2016, 1420), (2017, 1373), (2018, 1577))
    ]
    chart = {"title": "3M capital expenditure", "unit": "USD million", "kind": "bar", "points": points}
    llm_script(
        lambda body: Reply(
            tool_calls=[
                (
                    "answer",
                    {
                        "answer": "3M's capex rose from $1,420 million in FY2016 to $1,577 million in FY2018.",
                        "citations": [CAPEX_CITATION],
                        "chart": chart,
                    },
                )
            ]
        )
    )
    ask(page, "agentic", "How did 3M's capital expenditure change from FY2016 to FY2018?")
    card = page.locator("#answer-agentic .answer-chart")
    expect(card.locator("h3")).to_have_text("3M capital expenditure")
    expect(card.locator("tbody th")).to_have_text(["FY2016", "FY2017", "FY2018"])
    expect(card.locator("tbody td.num").nth(1)).to_have_text("(1,420)")
    card.get_by_role("button", name="3M_2018_10K p.60").nth(2).click()
    expect(page.locator("#page-dialog #page-title")).to_contain_text("page 60 of 160")
    page.locator("#page-dialog").get_by_role("button", name="Close").click()
    shot(page, "answer-chart")
