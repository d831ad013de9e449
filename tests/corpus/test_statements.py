"""Statement rows read from text: column headers stacked one per line, a dollar sign printed after its neighbour's figure."""

from __future__ import annotations

from corpus.statements import parse_statement, split_cells
from corpus.text import PagedText


def test_headers_printed_one_per_line_make_one_header():
    # A balance sheet's continuation page: its column headers stacked, one date per line.
    lines = [
        "CONSOLIDATED BALANCE SHEETS (continued)",
        "(in millions)",
        "December 31, 2022",
        "December 31, 2021",
        "Long-term debt | 14,001 | 16,056",
        "Total liabilities | 31,000 | 30,000",
    ]
    facts = parse_statement(PagedText.from_pages(["\n".join(lines)]), 1, len(lines))
    assert [(f.label, f.year, f.printed, f.scale) for f in facts] == [
        ("Long-term debt", 2022, "14,001", 6),
        ("Long-term debt", 2021, "16,056", 6),
        ("Total liabilities", 2022, "31,000", 6),
        ("Total liabilities", 2021, "30,000", 6),
    ]


def test_a_new_header_after_rows_replaces_the_old_one():
    lines = ["(in millions)", "2022 | 2021", "Revenue | 10 | 9", "2021 | 2020", "Revenue | 9 | 8"]
    facts = parse_statement(PagedText.from_pages(["\n".join(lines)]), 1, len(lines))
    assert [(f.year, f.printed) for f in facts] == [(2022, "10"), (2021, "9"), (2021, "9"), (2020, "8")]


def test_a_dollar_sign_printed_after_a_figure_belongs_to_the_next():
    # NIKE_2021_10K p.59 as extracted: "Revenues | $44,538 $ | 37,403 $ | 39,117".
    assert split_cells("Revenues | $44,538 $ | 37,403 $ | 39,117") == ["Revenues", "$44,538", "$37,403", "$39,117"]
    assert split_cells("Net sales | $ | 1,234 | $ | 1,100") == ["Net sales", "$1,234", "$1,100"]
    assert split_cells("Total | (321) | (300)") == ["Total", "(321)", "(300)"]
