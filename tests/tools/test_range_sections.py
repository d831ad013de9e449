"""A range of lines is labelled by the section holding most of it, and names every section it spans."""

from __future__ import annotations

from corpus.models import Section
from tools.range_sections import range_location


def section(id_: int, key: str, start: int, end: int, parent: int | None = None, kind: str = "note", title: str = "") -> Section:
    return Section(
        id=id_,
        key=key,
        title=title,
        kind=kind,
        start_line=start,
        end_line=end,
        parent_id=parent,
        depth=0 if parent is None else 1,
        start_page=1,
        end_page=1,
        number=None,
        path=key,
        ordinal=id_,
        doc_id="X",
    )


SECTIONS = [
    section(1, "Item 7", 1, 99, kind="item", title="MD&A"),
    section(2, "Item 8", 100, 400, kind="item", title="Financial Statements"),
    section(3, "Income Statement", 102, 140, parent=2, kind="statement", title="Consolidated Statement of Income"),
    section(4, "Note 1", 141, 200, parent=2, title="Significant Accounting Policies"),
    section(5, "Note 2", 201, 260, parent=2, title="Revenue"),
]


def test_a_range_is_labelled_by_its_larger_part_and_names_each_section_it_spans():
    assert range_location(SECTIONS, 190, 230) == " (mostly in Item 8 > Note 2 Revenue; spans Note 1, Note 2)"
    assert (
        range_location(SECTIONS, 195, 202) == " (mostly in Item 8 > Note 1 Significant Accounting Policies; spans Note 1, Note 2)"
    )


def test_a_statement_page_opening_with_its_items_heading_is_the_statement():
    assert range_location(SECTIONS, 100, 130) == " (in Item 8 > Income Statement (Consolidated Statement of Income))"


def test_a_range_inside_one_section_and_outside_all():
    assert range_location(SECTIONS, 10, 20) == " (in Item 7 MD&A)"
    assert range_location(SECTIONS, 500, 510) == ""
    assert range_location([], 1, 5) == ""
    assert (
        range_location(SECTIONS, 90, 130)
        == " (mostly in Item 8 > Income Statement (Consolidated Statement of Income); spans Item 7, Income Statement)"
    )
