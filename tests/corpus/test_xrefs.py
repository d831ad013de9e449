"""Cross-references: each phrase form on synthetic text, and resolution against a real filing's notes."""

from __future__ import annotations

import pytest

from corpus.sections import Section, detect_sections, find_section
from corpus.text import PagedText
from corpus.xrefs import CrossRef, find_cross_references


def paged(*pages: list[str]) -> PagedText:
    return PagedText.from_pages(["\n".join(lines) for lines in pages])


def note(number: int, line: int) -> Section:
    return Section("note", f"Note {number}", f"Title {number}", str(number), line, line, 1, 1)


def item(key: str, line: int, end: int) -> Section:
    return Section("item", key, "Title", key.split()[-1], line, end, 1, 1)


NOTES = [note(n, 100 + n) for n in range(1, 13)]
TEN_K_ITEMS = [item(k, i * 10 + 1, i * 10 + 10) for i, k in enumerate(["Item 1", "Item 1A", "Item 7", "Item 8"])]


def refs_in(*lines: str, sections: list[Section] | None = None, form: str = "10-K") -> list[CrossRef]:
    text = paged(["Intro line.", *lines])
    return find_cross_references(text, NOTES + TEN_K_ITEMS if sections is None else sections, form)


def targets(refs: list[CrossRef]) -> list[tuple[str, str, bool]]:
    return [(r.target_kind, r.target_key, r.resolved) for r in refs]


@pytest.mark.parametrize(
    ("sentence", "phrase", "key"),
    [
        ("Leases are described. See Note 12 for details.", "See Note 12", "Note 12"),
        ("For debt terms, refer to Note 3.", "refer to Note 3", "Note 3"),
        ("Inventories (Note 4) rose.", "(Note 4)", "Note 4"),
        (
            "as discussed in Note 12 of the Notes to Consolidated Financial Statements, leases",
            "discussed in Note 12 of the Notes to Consolidated Financial Statements",
            "Note 12",
        ),
        ("Taxes are covered in NOTE 7.", "NOTE 7", "Note 7"),
        ("Segment data appears in Note 11B.", "Note 11B", "Note 11"),
    ],
)
def test_note_phrases(sentence, phrase, key):
    refs = refs_in(sentence)
    assert [(r.text, r.target_key, r.target_kind, r.resolved) for r in refs] == [(phrase, key, "note", True)]
    assert refs[0].line == 2 and refs[0].page == 1


def test_note_lists_and_ranges_give_one_reference_each():
    assert targets(refs_in("See Notes 3 and 4 for details.")) == [("note", "Note 3", True), ("note", "Note 4", True)]
    assert [r.target_key for r in refs_in("Refer to Notes 2, 5 and 9.")] == ["Note 2", "Note 5", "Note 9"]
    assert [r.target_key for r in refs_in("Refer to Note 10 and Note 12.")] == ["Note 10", "Note 12"]
    assert [r.target_key for r in refs_in("Notes 3 through 5 cover leases.")] == ["Note 3", "Note 4", "Note 5"]
    assert {r.text for r in refs_in("See Notes 3 and 4 for details.")} == {"See Notes 3 and 4"}


@pytest.mark.parametrize(
    ("sentence", "phrase", "key"),
    [
        ("Our results are discussed in Item 7.", "discussed in Item 7", "Item 7"),
        ("as set out in Part II, Item 7 of this report, revenue", "Part II, Item 7 of this report", "Item 7"),
        ("described in Item 1A. Risk Factors, and elsewhere", "described in Item 1A", "Item 1A"),
        ("See Item 8 of Part II for the statements.", "See Item 8", "Item 8"),
    ],
)
def test_item_phrases_in_a_10k(sentence, phrase, key):
    assert [(r.text, r.target_key, r.target_kind, r.resolved) for r in refs_in(sentence)] == [(phrase, key, "item", True)]


def test_item_lists_and_unknown_targets():
    assert targets(refs_in("See Items 7 and 7A of this report.")) == [("item", "Item 7", True), ("item", "Item 7A", False)]
    assert targets(refs_in("See Note 30 for more.")) == [("note", "Note 30", False)]


def test_ten_q_items_resolve_by_part():
    sections = [
        item("Part I Item 1", 2, 5),
        item("Part I Item 2", 6, 9),
        item("Part II Item 1", 10, 11),
        item("Part II Item 1A", 12, 20),
    ]
    text = paged(
        [
            "Intro.",
            "PART I",  # 2
            "Item 1. Financial Statements",
            "Risks are covered in Item 1A of this report.",  # 4: Part I has no 1A -> Part II
            "Text.",
            "Item 2. Management's Discussion",  # 6
            "See Item 1 for the statements.",  # 7: inside Part I -> Part I Item 1
            "Text.",
            "Text.",
            "Item 1. Legal Proceedings",  # 10
            "See Item 1A below and Part I, Item 2 above.",  # 11
            "Item 1A. Risk Factors",  # 12
            "Refer to Part I, Item 1A of our 2023 Form 10-K.",  # 13: another filing
        ]
    )
    refs = find_cross_references(text, sections, "10-Q")
    assert [(r.line, r.target_key, r.resolved, r.external) for r in refs] == [
        (4, "Part II Item 1A", True, False),
        (7, "Part I Item 1", True, False),
        (11, "Part II Item 1A", True, False),
        (11, "Part I Item 2", True, False),
        (13, "Part I Item 1A", False, True),
    ]


def test_references_into_another_filing_are_marked_external():
    refs = refs_in("Refer to Note 5 of JPMorgan Chase's 2021 Form 10-K for policies; see Note 6 of this Form 10-Q.", form="10-Q")
    assert [(r.target_key, r.resolved, r.external) for r in refs] == [("Note 5", False, True), ("Note 6", True, False)]


def test_headings_contents_and_lookalikes_are_not_references():
    text = paged(
        [
            "TABLE OF CONTENTS",
            "Pursuant to Part IV, Item 16, a summary of Form 10-K content follows.",
            "Item 1. Business 3",
            "Item 7. Management's Discussion 5",
            "Note 1. Basis of Presentation 9",
        ],
        ["Item 7. Management's Discussion and Analysis", "Revenue rose.", "NOTE 1 \u2014 BASIS OF PRESENTATION", "Text."],
        ["Our 4.5% Notes due 2025 and the 2030 Notes were issued.", "Notes to Consolidated Financial Statements"],
    )
    sections = [item("Item 7", 5, 8), note(1, 7)]
    assert find_cross_references(text, sections, "10-K") == []


def test_reference_wrapped_to_line_start_is_kept():
    refs = refs_in("Our pension obligations are described in", "Note 9 for further detail.")
    assert [(r.line, r.text, r.target_key) for r in refs] == [(3, "described in Note 9", "Note 9")]


def test_empty_document():
    assert find_cross_references(PagedText.from_pages([]), [], None) == []


@pytest.mark.financebench
def test_real_filing_see_note_resolves_to_its_note(filing_text):
    text = filing_text("3M_2018_10K")
    sections = detect_sections(text, "10-K")
    refs = find_cross_references(text, sections, "10-K")
    # Page 30 reads "See Note 6 for a detailed breakout of this line item."; Note 6 starts on page 80.
    see6 = [r for r in refs if r.page == 30 and r.text == "See Note 6"]
    assert len(see6) == 1 and see6[0].target_key == "Note 6" and see6[0].resolved
    target = find_section(sections, "Note 6")
    assert target is not None and target.start_page == 80
    notes = [r for r in refs if r.target_kind == "note"]
    assert len(notes) >= 80 and all(r.resolved for r in notes)
    heading_lines = {s.start_line for s in [target]}
    assert not any(r.line in heading_lines for r in refs)
    assert not any(r.page == 3 for r in refs)  # the contents page lists every note


def test_a_company_name_after_a_note_is_not_a_second_note():
    # 3M_2022_10K p.20: "As discussed in Note 16, 3M ..." pointed at Note 16 and at Note 3
    assert [r.target_key for r in refs_in("As discussed in Note 16, 3M recorded a charge.")] == ["Note 16"]
    assert [r.target_key for r in refs_in("See Notes 4, 5 and Note 12A.")] == ["Note 4", "Note 5", "Note 12"]


def test_one_reference_per_line_and_target():
    refs = refs_in("as more fully discussed in Note 16. As discussed in Note 16, 3M has")
    assert [(r.text, r.target_key) for r in refs] == [("discussed in Note 16", "Note 16")]


def test_real_filing_note_16_then_3m_points_at_note_16_only(filing_text):
    text = filing_text("3M_2022_10K")
    sections = detect_sections(text, "10-K")
    on_20 = [r for r in find_cross_references(text, sections, "10-K") if r.page == 20]
    assert on_20 and not any(r.target_key == "Note 3" and "Note 16" in r.text for r in on_20)
    lines = [r.line for r in on_20 if r.target_key == "Note 16"]
    assert len(lines) == len(set(lines))  # each line points at Note 16 once
