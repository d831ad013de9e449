"""Printed page numbers: read from the page's edge lines, trusted only when the neighbouring pages agree."""

from __future__ import annotations

from corpus.folios import page_label, printed_pages, printed_span
from corpus.text import PagedText


def pages(*bottoms: str) -> PagedText:
    return PagedText.from_pages([f"Table of Contents\nBody text of the page.\n{b}" if b else "Body text only." for b in bottoms])


def test_folios_that_follow_their_neighbours_are_read():
    text = pages("", "", "1", "2", "3", "F-1", "F-2")
    assert printed_pages(text) == [None, None, "1", "2", "3", "F-1", "F-2"]


def test_a_page_whose_folio_cannot_be_read_shows_the_pdf_page_only():
    text = pages("77", "78", "", "80", "2019", "82")  # a blank folio, and a year that is no folio
    folios = printed_pages(text)
    assert folios == ["77", "78", None, "80", None, "82"]
    assert page_label(3, folios[2]) == "p.3"
    assert page_label(81, "79") == "p.81, printed 79"
    assert page_label(5, "5") == "p.5"  # the same number is said once
    assert printed_span(folios, 1, 2) == " (printed 77-78)" and printed_span(folios, 2, 3) == ""


def test_a_lone_number_is_not_a_folio_and_empty_documents_have_none():
    assert printed_pages(pages("", "42", "")) == [None, None, None]
    assert printed_pages(PagedText.from_pages([])) == []


def test_real_filing_folios(filing_text):
    folios = printed_pages(filing_text("PEPSICO_2022_10K"))
    assert folios[61] == "60" and folios[60] == "59"  # PDF page 62 prints 60
    assert printed_pages(filing_text("JOHNSON_JOHNSON_2023Q2_EARNINGS"))[4] is None  # the release prints no page numbers
