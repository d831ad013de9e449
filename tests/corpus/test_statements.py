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


def test_a_selected_data_table_reads_its_footnoted_years_per_share_rows_and_year_end_balances():
    # 3M_2019_10K p.15 as extracted, shortened: footnote marks on the header years, a per-share group, year-end rows.
    lines = [
        "Item 6. Selected Financial Data.",
        "(Dollars in millions, except per share amounts) | 2019* | 2018** | 2017",
        "Years ended December 31:",
        "Net sales | $32,136 | $32,765 | $31,657",
        "Per share of 3M common stock:",
        "Net income attributable to 3M — basic | 7.92 | 9.09 | 8.13",
        "At December 31:",
        "Total assets | $44,659 | $36,500 | $37,987",
    ]
    facts = parse_statement(PagedText.from_pages(["\n".join(lines)]), 1, len(lines), selected=True)
    got = [(f.label, f.year, f.printed, f.value, f.scale, f.period_label) for f in facts]
    assert got[0] == ("Net sales", 2019, "$32,136", 32_136e6, 6, "Years Ended December 31 2019")
    assert got[3] == ("Net income attributable to 3M — basic (per share)", 2019, "7.92", 7.92, 0, "Years Ended December 31 2019")
    assert got[6] == ("Total assets", 2019, "$44,659", 44_659e6, 6, "At December 31 2019")
    assert [f.year for f in facts] == [2019, 2018, 2017] * 3
    # Read as a statement (no `selected`), the per-share group heading changes nothing, as before.
    plain = parse_statement(PagedText.from_pages(["\n".join(lines)]), 1, len(lines))
    assert plain[3].label == "Net income attributable to 3M — basic"
