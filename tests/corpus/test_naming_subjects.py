"""A name that contradicts the catalog, and the one-line subject of 8-Ks and earnings releases."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from corpus.naming import name_conflict
from corpus.subjects import subject
from corpus.text import PagedText


def doc(doc_id: str, form: str | None, year: int | None, period: str | None, end: date | None = None) -> SimpleNamespace:
    return SimpleNamespace(id=doc_id, form_type=form, fiscal_year=year, fiscal_period=period, period_end_date=end)


def test_a_name_whose_year_or_form_is_wrong_is_flagged_with_what_the_filing_is():
    assert name_conflict(doc("ADOBE_2022Q2_10Q", "10-Q", 2023, "Q2", date(2023, 6, 2))) == (
        "name says 2022Q2 10-Q; the filing is the 10-Q for fiscal Q2 2023, ended 2023-06-02"
    )
    assert name_conflict(doc("LOCKHEEDMARTIN_2023Q1_10Q", "earnings release", 2023, "Q1")) == (
        "name says 2023Q1 10-Q; the filing is an earnings release for fiscal Q1 2023"
    )
    assert name_conflict(doc("ACME_2022Q3_10Q", "10-Q", 2022, "Q2")) is not None  # the quarter alone


@pytest.mark.parametrize(
    "row",
    [
        doc("3M_2018_10K", "10-K", 2018, "FY", date(2018, 12, 31)),
        doc("AMCOR_2022_8K_dated-2022-07-01", "8-K", 2022, None),
        doc("my-upload", "10-K", 2020, "FY"),  # a name that claims nothing
        doc("ACME_2022_10K", None, None, None),  # a catalog that knows nothing
    ],
)
def test_names_that_agree_or_claim_nothing_are_not_flagged(row):
    assert name_conflict(row) is None


def paged(*lines: str) -> PagedText:
    return PagedText.from_pages(["\n".join(lines)])


def test_an_8k_subject_is_its_items_and_its_exhibits_headline():
    text = paged(
        "FORM 8-K",
        "Item 2.02 Results of Operations and Financial Condition",
        "On August 30, 2023, the company issued the attached press release.",
        "Item 9.01 Financial Statements and Exhibits",
        "Exhibit 99.1",
        "Johnson & Johnson Announces Updated Financials and 2023 Guidance Following Completion of the Kenvue",
        "Separation",
        "• Company expects increased 2023 sales",
    )
    assert subject(text, "8-K") == (
        "Item 2.02 Results of Operations and Financial Condition: Johnson & Johnson Announces Updated Financials "
        "and 2023 Guidance Following Completion of the Kenvue Separation"
    )


def test_an_other_events_8k_without_an_exhibit_says_its_first_sentence():
    text = paged("Item 8.01", "Other Events.", "On May 25, 2023, Acme Inc. completed the sale of notes. More text.", "Item 9.01")
    assert subject(text, "8-K") == "Item 8.01 Other Events: On May 25, 2023, Acme Inc. completed the sale of notes."


def test_a_release_subject_is_its_headline_or_its_today_announced_sentence():
    assert (
        subject(
            paged("Exhibit 99.1", "News Release", "Lockheed Martin Reports First Quarter 2023 Financial Results", "• Net sales"),
            "earnings release",
        )
        == "Lockheed Martin Reports First Quarter 2023 Financial Results"
    )
    text = paged(
        "FOR IMMEDIATE RELEASE",
        "• 2023 Second-Quarter reported sales growth of 6.3%",
        "New Brunswick, N.J. (July 20, 2023) – Johnson & Johnson (NYSE: JNJ) today announced results for second-",
        "quarter 2023. More.",
    )
    assert subject(text, "earnings release") == "Johnson & Johnson (NYSE: JNJ) today announced results for second-quarter 2023"


def test_other_forms_and_unreadable_filings_have_no_subject():
    assert subject(paged("Item 7. Management's Discussion"), "10-K") is None
    assert subject(paged("nothing here"), "8-K") is None
    assert subject(paged(), "earnings release") is None
