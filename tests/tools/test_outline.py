"""outline: header, section tree with pages, lines and sizes, filings without sections, unknown doc_ids."""

from __future__ import annotations

import pytest

from tests.tools.test_read import RELEASE, TEN_K, TEN_Q, build_filings
from tools import REGISTRY
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.outline import OutlineResult, display_title, outline
from tools.read import read
from tools.tokens import count_tokens


@pytest.fixture(scope="module")
def filings(tmp_path_factory):
    corpus = build_filings(tmp_path_factory.mktemp("outline_filings"))
    yield corpus
    corpus.close()


@pytest.fixture
def context(filings) -> ToolContext:
    return ToolContext(filings)


def run(context: ToolContext, doc_id: str) -> OutlineResult:
    with use_context(context):
        return outline(doc_id)


def test_ten_k_outline_as_the_model_sees_it(context):
    assert run(context, TEN_K).render() == "\n".join(
        [
            "ACME_2022_10K: Acme Widgets, Inc., 10-K, FY2022 (ended 2022-12-31); 9 pages, 110 lines, ~1,511 tokens",
            "Sections (key: title | pages | lines | ~tokens); read one with read(doc_id='ACME_2022_10K', section='<key>'):",
            "Item 1: Business | page 2 | lines 10-12 | ~32",
            "Item 1A: Risk Factors | pages 3-4 | lines 13-54 | ~1,038",
            "Item 7: Management's Discussion and Analysis | page 4 | lines 55-58 | ~61",
            "Item 8: Financial Statements and Supplementary Data | pages 5-8 | lines 59-107 | ~286",
            "  Balance Sheet: CONSOLIDATED BALANCE SHEETS | page 5 | lines 60-72 | ~57",
            "  Cash Flows: CONSOLIDATED STATEMENTS OF CASH FLOWS | pages 6-7 | lines 73-101 | ~149",
            "  Note 1: Summary of Significant Accounting Policies | page 7 | lines 102-103 | ~30",
            "  Note 2: Revenue | page 7 | lines 104-105 | ~33",
            "  Note 3: Leases | page 8 | lines 106-107 | ~19",
            "Item 9: Changes in and Disagreements with Accountants | pages 8-9 | lines 108-110 | ~32",
            "Pages in no detected section (cover, contents, or headings not recognized): 1; read them with read(pages=...).",
        ]
    )


def test_ten_q_keys_carry_their_part(context):
    result = run(context, TEN_Q)
    assert [s.key for s in result.sections] == [
        "Part I Item 1",
        "Part I Item 2",
        "Part I Item 3",
        "Part I Item 4",
        "Part II Item 1",
        "Part II Item 1A",
        "Part II Item 2",
        "Part II Item 6",
    ]
    assert "FY2023 Q1 (ended 2023-03-31); 6 pages" in result.render()
    assert (
        "Part I Item 2: Management's Discussion and Analysis of Financial Condition and Results of Operations | page 3 | lines 11-12"
        in result.render()
    )


def test_every_key_reads_its_span_and_sizes_match_what_read_returns(context):
    for doc_id in (TEN_K, TEN_Q):
        for entry in run(context, doc_id).sections:
            with use_context(context):
                result = read(doc_id, section=entry.key, max_tokens=5000)
            assert f"lines {entry.start_line}-{entry.end_line}" in result.header
            assert not result.truncated
            # The outline's ~tokens is what read() prints for the section, markers and numbers included.
            pages_without_text = sum(1 for p in range(entry.start_page, entry.end_page + 1) if f"page {p} ===" not in result.body)
            assert entry.tokens - pages_without_text * 7 <= count_tokens(result.body) + 1 <= entry.tokens + 1, entry.key


def test_section_at_page_and_uncovered_pages(context):
    result = run(context, TEN_K)
    assert result.section_at_page(8).key == "Note 3"
    assert result.section_at_page(5).key == "Balance Sheet"
    assert result.section_at_page(9).key == "Item 9"
    assert result.section_at_page(1) is None
    assert result.uncovered_pages() == [(1, 1)]
    assert result.citations() == []


def test_a_filing_without_sections_says_how_to_read_it(context):
    text = run(context, RELEASE).render()
    # one company, one name: the release's "Acme Widgets" is the 10-K's "Acme Widgets, Inc."
    assert text.startswith("ACME_2023Q1_EARNINGS: Acme Widgets, Inc., earnings release, FY2023 Q1; 2 pages, 5 lines")
    assert "No sections detected" in text
    assert f"read(doc_id='{RELEASE}', pages='1-2')" in text and f"doc_ids=['{RELEASE}']" in text


def test_unknown_doc_id_names_the_closest_and_how_to_find_ids(context):
    with use_context(context), pytest.raises(ToolError) as caught:
        outline("ACME_2020_10K")  # a year the corpus does not hold: no guess
    message = str(caught.value)
    assert message.startswith("No document with doc_id 'ACME_2020_10K'. Closest doc_ids: ACME_2022_10K")
    assert "list_documents(" in message and "glob(" in message


def test_a_near_miss_doc_id_reads_the_one_filing_it_can_mean(context):
    result = run(context, "ACME_2022_10-K")
    assert result.doc_id == "ACME_2022_10K"
    assert "note: there is no doc_id 'ACME_2022_10-K'; this is ACME_2022_10K" in result.render()


def test_through_the_registry(context):
    call = REGISTRY.call("outline", {"doc_id": TEN_K}, context)
    assert call.ok and call.text == call.result.render() and call.citations == []
    call = REGISTRY.call("outline", {"doc_id": "NOPE"}, context)
    assert not call.ok and call.text.startswith("Error: No document with doc_id 'NOPE'.")
    schema = next(s["function"] for s in REGISTRY.schemas() if s["function"]["name"] == "outline")
    assert schema["parameters"]["required"] == ["doc_id"]
    assert schema["parameters"]["properties"]["doc_id"]["description"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Consolidated Balance Shee t", "Consolidated Balance Sheet"),
        ("Consolidated Statement of Cash Flow s", "Consolidated Statement of Cash Flows"),
        ("Consolidated Statement of Incom e", "Consolidated Statement of Income"),
        ("Statement of Changes in Equit y", "Statement of Changes in Equity"),
        ("Leases  and   Other", "Leases and Other"),
        ("Cash Flows of a Plan vs actual", "Cash Flows of a Plan vs actual"),
        ("Loans to us by banks", "Loans to us by banks"),
        ("U.S. Plans", "U.S. Plans"),
    ],
)
def test_display_title_glues_split_words_only(raw, shown):
    assert display_title(raw) == shown
