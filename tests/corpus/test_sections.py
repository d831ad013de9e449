"""Section detection on small synthetic filings, and on real FinanceBench filings with hand-checked pages."""

from __future__ import annotations

import pytest

from corpus.sections import Section, detect_sections, find_section, iter_sections, section_at, section_path
from corpus.text import PagedText


def paged(*pages: list[str]) -> PagedText:
    return PagedText.from_pages(["\n".join(lines) for lines in pages])


def table(rows: int = 8) -> list[str]:
    """A block of figures as PyMuPDF prints a financial statement: one cell per line."""
    out: list[str] = []
    for i in range(rows):
        out += [f"Line item {i}", f"{1000 + 37 * i:,}", f"({200 + i})"]
    return out


def keyed(sections: list[Section]) -> dict[str, Section]:
    return {s.key: s for s, _parent, _depth in iter_sections(sections)}


COVER = ["UNITED STATES SECURITIES AND EXCHANGE COMMISSION", "FORM 10-K", "For the fiscal year ended December 31, 2023"]
TOC = [
    "TABLE OF CONTENTS",
    "PART I",
    "Item 1.",
    "Business",
    "3",
    "Item 1A.",
    "Risk Factors",
    "4",
    "PART II",
    "Item 7.",
    "Management's Discussion and Analysis of Financial Condition and Results of Operations",
    "5",
    "Item 7A.",
    "Quantitative and Qualitative Disclosures About Market Risk",
    "6",
    "Item 8.",
    "Financial Statements and Supplementary Data",
    "7",
    "Note 1. Summary of Significant Accounting Policies 11",
    "Note 2. Leases 11",
    "Note 3. Debt 12",
]


def ten_k() -> PagedText:
    return paged(
        COVER,  # 1
        TOC,  # 2
        [
            "PART I",
            "ITEM 1. BUSINESS",
            "We make widgets. Our results are discussed in",
            "Item 7 of this report. For the risks of our business, see",
            "Item 1A - Risk Factors.",
            "We sell in many countries.",
            "3",
        ],  # 3
        ["ITEM 1A", "", "Risk Factors", "Our business faces risks.", "Item 1A. Risk Factors continues to matter.", "4"],  # 4
        [
            "PART II",
            "Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations",
            "Revenue grew. See Note 2 for leases.",
            "5",
        ],  # 5
        [
            "Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations",
            "More discussion of results.",
            "Item 7A. Quantitative and Qualitative Disclosures About Market Risk",
            "We are exposed to interest rates.",
            "6",
        ],  # 6
        [
            "Item 8. Financial Statements and Supplementary Data",
            "Index to Consolidated Financial Statements",
            "Consolidated Balance Sheets",
            "8",
            "Consolidated Statements of Operations",
            "9",
            "Consolidated Statements of Cash Flows",
            "10",
            "Report of Independent Registered Public Accounting Firm",
            "We have audited the consolidated balance sheets and the related consolidated statements of operations.",
            "7",
        ],  # 7
        ["Acme Corp.", "Consolidated Balance Sheets", "(in millions)", *table(), "8"],  # 8
        ["Consolidated Statements of Operations", "(in millions, except per share data)", *table(), "9"],  # 9
        ["Consolidated Statements of Cash Flows", *table(), "10"],  # 10
        [
            "Notes to Consolidated Financial Statements",
            "Note 1. Summary of Significant Accounting Policies",
            "Basis of presentation text.",
            "Note 2 \u2014 LEASES",
            "We lease offices. Refer to",
            "Note 3 for debt.",
            "11",
        ],  # 11
        ["NOTE 2 \u2014 LEASES (continued)", "More lease text.", "Note 3: Debt", "We borrowed money.", "12"],  # 12
        [
            "Item 9. Changes in and Disagreements With Accountants on Accounting and Financial Disclosure",
            "None.",
            "Item 9A. Controls and Procedures",
            "Controls are effective.",
            "13",
        ],  # 13
        [
            "FORM 10-K CROSS-REFERENCE INDEX",
            "Item 1. Business 3",
            "Item 1A. Risk Factors 4",
            "Item 7. Management's Discussion and Analysis 5",
            "Item 8. Financial Statements and Supplementary Data 7",
        ],  # 14
    )


def test_items_skip_table_of_contents_and_cross_reference_index():
    sections = detect_sections(ten_k(), "10-K")
    items = [(s.key, s.start_page) for s in sections]
    assert items == [
        ("Item 1", 3),
        ("Item 1A", 4),
        ("Item 7", 5),
        ("Item 7A", 6),
        ("Item 8", 7),
        ("Item 9", 13),
        ("Item 9A", 13),
    ]


def test_contents_page_with_page_numbers_apart_from_entries_is_skipped():
    # Hyperlinked contents: every entry without its page number, the numbers listed together at the end.
    names = [
        ("1", "Business"),
        ("1A", "Risk Factors"),
        ("1B", "Unresolved Staff Comments"),
        ("2", "Properties"),
        ("3", "Legal Proceedings"),
        ("4", "Mine Safety Disclosures"),
        ("5", "Market for Registrant's Common Equity"),
        ("7", "Management's Discussion and Analysis of Financial Condition and Results of Operations"),
        ("7A", "Quantitative and Qualitative Disclosures About Market Risk"),
        ("8", "Financial Statements and Supplementary Data"),
    ]
    contents = ["TABLE OF CONTENTS"] + [line for n, title in names for line in (f"Item {n}.", title)]
    contents += [str(3 + i) for i in range(len(names))]
    body = [[f"ITEM {n}. {title.upper()}", "Text of the item."] for n, title in names]
    sections = detect_sections(paged(COVER, contents, *body), "10-K")
    assert [(s.key, s.start_page) for s in sections] == [(f"Item {n}", 3 + i) for i, (n, _t) in enumerate(names)]


def test_multi_line_heading_takes_title_from_next_line():
    items = keyed(detect_sections(ten_k(), "10-K"))
    assert items["Item 1A"].title == "Risk Factors"
    assert items["Item 1A"].number == "1A"
    assert items["Item 7"].title.startswith("Management's Discussion")


def test_mentions_and_running_heads_are_not_headings():
    text = ten_k()
    items = keyed(detect_sections(text, "10-K"))
    # "Item 7 of this report." and "Item 1A - Risk Factors." open lines inside sentences on page 3,
    # "Item 1A. Risk Factors continues" is a later lookalike on page 4, the Item 7 running head repeats on page 6.
    assert items["Item 1A"].start_line == text.page_span(4)[0]
    assert items["Item 7"].start_line == text.page_span(5)[0] + 1
    assert items["Item 1"].end_page == 3
    assert [s.key for s in detect_sections(text, "10-K")].count("Item 7") == 1


def test_items_keep_increasing_order():
    text = paged(
        COVER,
        ["Item 1. Business", "We make widgets."],
        ["Item 1A. Risk Factors", "Risks."],
        ["Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations", "Text."],
        ["Item 1. Business", "A heading-like line out of order, as in an appendix that reprints it."],
        ["Item 8. Financial Statements and Supplementary Data", "Text."],
    )
    sections = detect_sections(text, "10-K")
    assert [(s.key, s.start_page) for s in sections] == [("Item 1", 2), ("Item 1A", 3), ("Item 7", 4), ("Item 8", 6)]


def test_item_heading_variants():
    text = paged(
        COVER,
        ["ITEMS 1 AND 2. BUSINESS AND PROPERTIES", "Text."],
        ["Item 1A: Risk Factors", "Text."],
        ["ITEM 3 - LEGAL PROCEEDINGS", "None."],
        [
            "PART II, ITEM 7 \u2014 MANAGEMENT\u2019S DISCUSSION AND ANALYSIS OF FINANCIAL CONDITION AND",
            "RESULTS OF OPERATIONS",
            "Text.",
        ],
        ["Item 8.", "Financial Statements and Supplementary Data", "Text."],
    )
    sections = detect_sections(text, "10-K")
    assert [(s.key, s.start_page) for s in sections] == [
        ("Item 1", 2),
        ("Item 1A", 3),
        ("Item 3", 4),
        ("Item 7", 5),
        ("Item 8", 6),
    ]
    assert keyed(sections)["Item 7"].title.endswith("RESULTS OF OPERATIONS")
    assert keyed(sections)["Item 1"].title == "BUSINESS AND PROPERTIES"


def test_statements_and_notes_nest_under_item_8_with_spans():
    text = ten_k()
    sections = detect_sections(text, "10-K")
    item8 = keyed(sections)["Item 8"]
    children = [(c.kind, c.key, c.start_page) for c in item8.children]
    assert children == [
        ("statement", "Balance Sheet", 8),
        ("statement", "Income Statement", 9),
        ("statement", "Cash Flows", 10),
        ("note", "Note 1", 11),
        ("note", "Note 2", 11),
        ("note", "Note 3", 12),
    ]
    by_key = {c.key: c for c in item8.children}
    # Statements end where the next statement or the first note starts.
    assert by_key["Balance Sheet"].end_line == by_key["Income Statement"].start_line - 1
    assert by_key["Cash Flows"].end_line == by_key["Note 1"].start_line - 1
    # Notes end at the next note; the last one at the end of Item 8.
    assert by_key["Note 2"].end_line == by_key["Note 3"].start_line - 1
    assert by_key["Note 3"].end_line == item8.end_line
    assert item8.end_line == keyed(sections)["Item 9"].start_line - 1
    assert by_key["Note 2"].title == "LEASES"
    assert by_key["Note 3"].title == "Debt"


def test_statement_index_and_auditor_report_are_not_statements():
    by_key = keyed(detect_sections(ten_k(), "10-K"))
    assert by_key["Balance Sheet"].start_page == 8  # not the index on page 7
    assert by_key["Balance Sheet"].title == "Consolidated Balance Sheets"
    assert "Equity" not in by_key


def test_last_item_runs_to_end_of_document():
    text = ten_k()
    sections = detect_sections(text, "10-K")
    assert sections[-1].key == "Item 9A"
    assert sections[-1].end_line == text.line_count
    assert sections[-1].end_page == text.page_count


def test_notes_numbered_without_the_word_note():
    text = paged(
        COVER,
        ["Item 8. Financial Statements and Supplementary Data", "Text."],
        ["Consolidated Statements of Earnings", *table()],
        [
            "Notes to Consolidated Financial Statements",
            "1. Summary of Significant Accounting Policies",
            "Policies text. Useful lives:",
            "2 - 13 years",
            "2.",
            "Leases",
            "Lease text with a table:",
            "12",
            "1,234",
        ],
        ["Notes to Consolidated Financial Statements (continued)", "3 INCOME TAXES", "Tax text.", "4. Segments", "Text."],
        ["Item 9. Changes in and Disagreements With Accountants on Accounting and Financial Disclosure", "None."],
        ["Exhibit 31.1", "I, Jane Doe, certify that:", "1. I have reviewed this Annual Report on Form 10-K;"],
    )
    item8 = keyed(detect_sections(text, "10-K"))["Item 8"]
    notes = [(c.key, c.title, c.start_page) for c in item8.children if c.kind == "note"]
    assert notes == [
        ("Note 1", "Summary of Significant Accounting Policies", 4),
        ("Note 2", "Leases", 4),
        ("Note 3", "INCOME TAXES", 5),
        ("Note 4", "Segments", 5),
    ]


def test_note_table_of_contents_and_continued_heads_are_skipped():
    text = paged(
        COVER,
        ["Item 8. Financial Statements and Supplementary Data"],
        ["Note 1 Basis of Presentation 3", "Note 2 Revenue 4", "Note 3 Leases 5", "Note 4 Debt 6"],
        ["Consolidated Balance Sheets", *table()],
        ["NOTE 1 \u2014 BASIS OF PRESENTATION", "Text.", "NOTE 2 \u2014 REVENUE", "Text."],
        ["NOTE 2 \u2014 REVENUE (Continued)", "Text.", "NOTE 3 \u2014 LEASES", "NOTE 4 \u2014 DEBT", "Text."],
    )
    notes = [(s.key, s.start_page) for s, _p, _d in iter_sections(detect_sections(text, "10-K")) if s.kind == "note"]
    assert notes == [("Note 1", 5), ("Note 2", 5), ("Note 3", 6), ("Note 4", 6)]


def ten_q() -> PagedText:
    return paged(
        ["FORM 10-Q", "For the quarterly period ended March 31, 2024"],
        [
            "PART I \u2014 FINANCIAL INFORMATION",
            "Item 1. Financial Statements",
            "Condensed Consolidated Statements of Income (Unaudited)",
            *table(),
        ],
        ["Condensed Consolidated Balance Sheets", *table()],
        ["Note 1 - Basis of Presentation", "Text.", "Note 2 - Revenue", "Text."],
        ["Item 2. Management's Discussion and Analysis of Financial Condition and Results of Operations", "Text."],
        ["Item 3. Quantitative and Qualitative Disclosures About Market Risk", "Text.", "Item 4. Controls and Procedures"],
        ["PART II \u2014 OTHER INFORMATION", "Item 1. Legal Proceedings", "See Note 2.", "Item 1A. Risk Factors", "None."],
        ["Item 2. Unregistered Sales of Equity Securities and Use of Proceeds", "None.", "Item 6. Exhibits"],
    )


def test_ten_q_items_carry_their_part():
    sections = detect_sections(ten_q(), "10-Q")
    assert [(s.key, s.start_page) for s in sections] == [
        ("Part I Item 1", 2),
        ("Part I Item 2", 5),
        ("Part I Item 3", 6),
        ("Part I Item 4", 6),
        ("Part II Item 1", 7),
        ("Part II Item 1A", 7),
        ("Part II Item 2", 8),
        ("Part II Item 6", 8),
    ]
    first = sections[0]
    assert [c.key for c in first.children] == ["Income Statement", "Balance Sheet", "Note 1", "Note 2"]
    assert first.children[-1].end_line == sections[1].start_line - 1


def test_form_is_guessed_from_the_cover():
    assert [s.key for s in detect_sections(ten_q())] == [s.key for s in detect_sections(ten_q(), "10-Q")]
    assert detect_sections(ten_k())[0].key == "Item 1"


def test_unstructured_documents_give_empty_list():
    assert detect_sections(PagedText.from_pages([]), None) == []
    assert detect_sections(PagedText.from_pages(["", ""]), "8-K") == []
    release = paged(["Acme Reports Record Quarter", "Revenue rose 10%.", "Item 2.02 Results of Operations"])
    assert detect_sections(release, "8-K") == []
    assert detect_sections(release, "earnings release") == []


def test_walk_path_and_lookup_helpers():
    sections = detect_sections(ten_k(), "10-K")
    walked = [(s.key, parent.key if parent else None, depth) for s, parent, depth in iter_sections(sections)]
    assert walked[:3] == [("Item 1", None, 0), ("Item 1A", None, 0), ("Item 7", None, 0)]
    assert ("Note 2", "Item 8", 1) in walked
    assert section_path(sections, "Note 2") == "Item 8 > Note 2 LEASES"
    assert section_path(sections, "Note 99") is None
    note3 = find_section(sections, "Note 3")
    assert note3 is not None and section_at(sections, note3.start_line + 1) is note3


def test_spans_tile_the_document_without_overlap():
    sections = detect_sections(ten_k(), "10-K")
    for level in [sections] + [s.children for s, _p, _d in iter_sections(sections)]:
        for a, b in zip(level, level[1:]):
            assert a.end_line < b.start_line
    for s, parent, _d in iter_sections(sections):
        assert s.start_line <= s.end_line
        if parent:
            assert parent.start_line <= s.start_line and s.end_line <= parent.end_line


# Start pages checked by hand in the PDFs (page index + 1): the heading is printed there, followed by its
# text, and the page is not a table of contents.
TEN_K_PAGES = [
    ("3M_2018_10K", {"Item 1A": 10, "Item 7": 15, "Item 8": 52, "Note 1": 61, "Note 11": 87, "Note 20": 127}),
    ("ADOBE_2016_10K", {"Item 1A": 20, "Item 7": 37, "Item 8": 60, "Note 1": 66, "Note 10": 87, "Note 18": 101}),
    ("AMAZON_2019_10K", {"Item 1A": 6, "Item 7": 19, "Item 8": 34, "Note 1": 42, "Note 6": 57, "Note 11": 70}),
    ("AMERICANEXPRESS_2022_10K", {"Item 1A": 25, "Item 7": 43, "Item 8": 91, "Note 1": 101, "Note 13": 134, "Note 25": 156}),
    ("BOEING_2019_10K", {"Item 1A": 7, "Item 7": 21, "Item 8": 52, "Note 1": 60, "Note 13": 86, "Note 24": 120}),
    ("COCACOLA_2017_10K", {"Item 1A": 12, "Item 7": 30, "Item 8": 73, "Note 1": 79, "Note 11": 111, "Note 20": 146}),
    ("CVSHEALTH_2019_10K", {"Item 1A": 31, "Item 7": 60, "Item 8": 92, "Note 1": 100, "Note 9": 144, "Note 17": 165}),
    ("JOHNSON_JOHNSON_2022_10K", {"Item 1A": 14, "Item 7": 27, "Item 8": 45, "Note 1": 52, "Note 11": 76, "Note 20": 108}),
    ("LOCKHEEDMARTIN_2019_10K", {"Item 1A": 9, "Item 7": 27, "Item 8": 56, "Note 1": 64, "Note 9": 80, "Note 17": 98}),
    ("MICROSOFT_2023_10K", {"Item 1A": 23, "Item 7": 40, "Item 8": 58, "Note 1": 63, "Note 10": 80, "Note 19": 93}),
    ("NETFLIX_2017_10K", {"Item 1A": 5, "Item 7": 21, "Item 8": 33, "Note 1": 47, "Note 7": 56, "Note 12": 63}),
    ("NIKE_2021_10K", {"Item 1A": 12, "Item 7": 30, "Item 8": 55, "Note 1": 65, "Note 11": 79, "Note 21": 95}),
    ("PEPSICO_2022_10K", {"Item 1A": 13, "Item 7": 31, "Item 8": 118, "Note 1": 68, "Note 8": 97, "Note 14": 110}),
    ("PFIZER_2021_10K", {"Item 1A": 19, "Item 7": 32, "Item 8": 55, "Note 1": 63, "Note 9": 88, "Note 17": 107}),
    ("WALMART_2020_10K", {"Item 1A": 14, "Item 7": 31, "Item 8": 47, "Note 1": 58, "Note 8": 72, "Note 15": 83}),
]
TEN_Q_PAGES = [
    ("ADOBE_2022Q2_10Q", {"Part I Item 1": 3, "Part I Item 2": 25, "Part II Item 1A": 39, "Note 1": 9}),
    ("AMCOR_2023Q2_10Q", {"Part I Item 1": 5, "Part I Item 2": 33, "Part II Item 1A": 51, "Note 16": 32}),
    ("Pfizer_2023Q2_10Q", {"Part I Item 1": 8, "Part I Item 2": 41, "Part II Item 1A": 64, "Note 7": 20}),
]
STATEMENT_PAGES = [
    ("3M_2018_10K", {"Income Statement": 56, "Balance Sheet": 58}),  # "Consolidated Balance Shee t" in the text layer
    ("AMD_2015_10K", {"Balance Sheet": 58}),  # figures mostly under 1,000
    ("NIKE_2021_10K", {"Comprehensive Income": 60, "Equity": 63}),  # title over two lines
    ("PEPSICO_2022_10K", {"Income Statement": 62, "Balance Sheet": 66}),  # printed inside Item 7
]


def _form(doc: str) -> str:
    return "10-Q" if "10Q" in doc else "10-K"


REAL_CASES = [
    pytest.param(doc, expected, id=f"{doc}-{group}")
    for group, table_ in (("sections", TEN_K_PAGES + TEN_Q_PAGES), ("statements", STATEMENT_PAGES))
    for doc, expected in table_
]


@pytest.mark.financebench
@pytest.mark.parametrize(("doc", "expected"), REAL_CASES)
def test_real_filing_start_pages(filing_text, doc, expected):
    sections = keyed(detect_sections(filing_text(doc), _form(doc)))
    found = {key: sections[key].start_page if key in sections else None for key in expected}
    assert found == expected


@pytest.mark.financebench
@pytest.mark.parametrize("doc", [d for d, _ in TEN_K_PAGES[:6]] + [d for d, _ in TEN_Q_PAGES])
def test_real_filing_structure_is_consistent(filing_text, doc):
    text = filing_text(doc)
    sections = detect_sections(text, _form(doc))
    order = [s.start_line for s in sections]
    assert order == sorted(order) and len({s.key for s in sections}) == len(sections)
    notes = [int(s.number) for s, _p, _d in iter_sections(sections) if s.kind == "note"]
    assert notes == list(range(1, len(notes) + 1)) and len(notes) >= 10
    statements = {s.key for s, _p, _d in iter_sections(sections) if s.kind == "statement"}
    assert {"Balance Sheet", "Income Statement", "Cash Flows"} <= statements
    for s, parent, _d in iter_sections(sections):
        assert 1 <= s.start_line <= s.end_line <= text.line_count
        assert s.start_page == text.page_of_line(s.start_line)
        if parent:
            assert parent.start_line <= s.start_line and s.end_line <= parent.end_line
        for a, b in zip(s.children, s.children[1:]):
            assert a.end_line < b.start_line


def test_titles_rejoin_glyphs_split_off_by_the_pdf_text_layer():
    from corpus.headings import clean_title

    assert clean_title("Busines s") == "Business"
    assert clean_title("Selected Financial Dat a") == "Selected Financial Data"
    assert clean_title("Market for Registrant’ s Common Equity") == "Market for Registrant’s Common Equity"
    assert clean_title("Description of a Plan") == "Description of a Plan"
    assert clean_title("Class B Shares") == "Class B Shares"


def test_real_outline_titles_have_no_split_glyphs(filing_text):
    # 3M_2018_10K's headings split their last glyphs wider than body text does ("Incom e", "Balance Shee t")
    titles = {s.key: s.title for s, _p, _d in iter_sections(detect_sections(filing_text("3M_2018_10K"), "10-K"))}
    assert titles["Income Statement"] == "Consolidated Statement of Income"
    assert titles["Balance Sheet"] == "Consolidated Balance Sheet"
    assert titles["Equity"] == "Consolidated Statement of Changes in Equity"
    assert titles["Item 16"] == "Form 10-K Summary"
