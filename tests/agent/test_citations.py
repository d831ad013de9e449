"""Citation checking against page text: quotes, figures, split words, ellipses, wrong pages; inline [DOC p.N] markers."""

from __future__ import annotations

from agent.answer import AnswerCitation
from agent.citations import check_citation, figures, inline_citations
from corpus.text import PagedText

PAGES = [
    "ACME WIDGETS, INC.\nAnnual Report",
    "Consolidated Statement of Cash Flows\nPurchases of property, plant and equipment\n(1,577)\n(1,373)\nDividends paid\n(3,193)",
    "Note 12. Long-Term Debt\nThe Balance Shee t shows total debt of $13.4 billion.\nRevenue grew 3.5% to $32,765 million.",
]
TEXT = PagedText.from_pages(PAGES)


def text_of(doc_id: str) -> PagedText | None:
    return TEXT if doc_id == "ACME_2018_10K" else None


def check(page: int, quote: str, doc_id: str = "ACME_2018_10K", **kwargs) -> AnswerCitation:
    return check_citation(AnswerCitation(doc_id=doc_id, page=page, quote=quote), text_of, **kwargs)


def test_quote_found_on_the_page_gets_its_lines():
    c = check(2, "Purchases of property, plant and equipment (1,577)")
    assert c.verified is True and c.problem is None
    first, _ = TEXT.page_span(2)
    assert c.lines == f"{first + 1}-{first + 2}"


def test_quote_tolerates_split_words_wrapped_lines_dashes_and_ellipses():
    assert check(3, "The Balance Sheet shows total debt").verified
    assert check(3, "Note 12 — Long-Term Debt".replace("—", ".")).verified
    assert check(2, "Purchases of property ... (1,577)").verified


def test_figures_alone_verify_a_paraphrased_quote():
    assert check(3, "revenue of 32,765 (up 3.5%)").verified
    assert figures("$1,577.0 million, (12), -3.5% and 2018") == ["1577.0", "12", "3.5", "2018"]


def test_wrong_page_names_the_page_that_holds_it():
    c = check(3, "Purchases of property, plant and equipment (1,577)")
    assert c.verified is False
    assert c.problem == "ACME_2018_10K p.3 does not contain the quoted figures; found on p.2"


def test_text_quote_not_anywhere():
    c = check(2, "Goodwill impairment charges")
    assert c.verified is False and c.problem == "ACME_2018_10K p.2 does not contain the quoted text"


def test_missing_page_and_document():
    assert check(9, "x").problem == "ACME_2018_10K has no page 9 (it has 3)"
    assert check(1, "x", doc_id="NOPE_2018_10K").problem == "no document 'NOPE_2018_10K' in the corpus"


def test_no_quote_only_checks_the_page_exists():
    c = check(2, "")
    assert c.verified is None and c.problem is None


def test_inline_markers_become_citations_checked_by_their_figures():
    text = "Capex was $1,577 million [ACME_2018_10K p.2]. Debt was $13.4 billion (ACME_2018_10K, page 3). See [FOO p.1]."
    cites = inline_citations(text, lambda d: d == "ACME_2018_10K")
    assert [(c.doc_id, c.page) for c in cites] == [("ACME_2018_10K", 2), ("ACME_2018_10K", 3)]
    assert cites[0].quote == "Capex was $1,577 million ."
    assert all(check_citation(c, text_of, figures_only=True).verified for c in cites)
    wrong = inline_citations("Dividends were $3,193 million [ACME_2018_10K p.3].", lambda d: True)[0]
    checked = check_citation(wrong, text_of, figures_only=True)
    assert checked.verified is False and checked.problem == "ACME_2018_10K p.3 contains none of the figures 3193; found on p.2"


def test_figures_that_tell_nothing_do_not_verify_a_page():
    assert figures("3M grew in 2018; see Note 12", telling=True) == []
    assert figures("2,018 units, 12.5% and 7%", telling=True) == ["2018", "12.5", "7"]
    invented = inline_citations("Capex was $9,999 million in 2018 for 3M [ACME_2018_10K p.2].", lambda d: True)[0]
    assert check_citation(invented, text_of, figures_only=True).verified is False


def test_a_bag_of_page_words_is_not_a_quote():
    assert check(2, "Dividends paid for purchases of equipment").verified is False
    assert check(2, "Purchases of property, plant and equipmnt").verified is True  # a typo in one word still matches
