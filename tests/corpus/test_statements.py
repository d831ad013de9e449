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


def _facts(lines: list[str]) -> list[tuple]:
    facts = parse_statement(PagedText.from_pages(["\n".join(lines)]), 1, len(lines))
    return [(f.label, f.year, f.printed) for f in facts]


def test_an_empty_cell_is_a_blank_column_and_the_figures_keep_their_years():
    assert split_cells("Dividends paid | | (1,158) | (4,630)") == ["Dividends paid", "", "(1,158)", "(4,630)"]
    assert split_cells("Treasury shares issued | 1,233 | 195 |") == ["Treasury shares issued", "1,233", "195", ""]
    assert split_cells("Other | | | (15)") == ["Other", "", "", "(15)"]
    # BOEING_2021_10K p.63 as extracted, shortened
    lines = [
        "Consolidated Statements of Cash Flows",
        "(Dollars in millions)",
        "Years ended December 31, | 2021 | 2020 | 2019",
        "Net loss | ($4,290) | ($11,941) | ($636)",
        "Dividends paid | | (1,158) | (4,630)",
        "Common shares repurchased | | | (2,651)",
        "Treasury shares issued for 401(k) contribution | 1,233 | 195 |",
    ]
    assert _facts(lines)[3:] == [
        ("Dividends paid", 2020, "(1,158)"),
        ("Dividends paid", 2019, "(4,630)"),
        ("Common shares repurchased", 2019, "(2,651)"),
        ("Treasury shares issued for 401(k) contribution", 2021, "1,233"),
        ("Treasury shares issued for 401(k) contribution", 2020, "195"),
    ]


def test_blank_columns_the_header_names_no_year_for_leave_the_figures_to_the_years():
    # VERIZON_2021_10K p.76 (Note 7): the interest-rate column of the rows above is blank in the totals
    lines = ["(dollars in millions)", "At December 31, | Rates % | 2021 | 2020", "Total debt | | $150,868 | $129,062"]
    assert _facts(lines) == [("Total debt", 2021, "$150,868"), ("Total debt", 2020, "$129,062")]
    # a blank column among as many figures as years, where the header names more columns than years: unknown, as before
    lines = ["(in millions)", "2022 | 2021", "Notes | $9 | | $336 | 1.2%"]
    assert [year for _l, year, _p in _facts(lines)] == [None, None, None]


def test_a_figure_after_blanks_under_a_repeated_header_is_not_guessed():
    # a 10-Q of a June fiscal year: both balance sheet columns are headed 2023; the series tells them apart by position
    lines = [
        "(in millions)",
        "September 30, 2023 | June 30, 2023",
        "Cash | 10 | 12",
        "Assets held for sale | | 5",
        "Goodwill | 7 |",
    ]
    assert _facts(lines) == [
        ("Cash", 2023, "10"),
        ("Cash", 2023, "12"),
        ("Assets held for sale", None, "5"),
        ("Goodwill", 2023, "7"),
    ]


def test_real_statement_rows_with_blank_years_are_read_in_their_columns(filing_text):
    text = filing_text("BOEING_2021_10K")
    start, end = text.page_span(63)
    facts = parse_statement(text, start, end)
    dividends = [(f.year, f.printed, f.value) for f in facts if f.label == "Dividends paid"]
    assert dividends == [(2020, "(1,158)", -1158e6), (2019, "(4,630)", -4630e6)]
    assert [(f.year, f.printed) for f in facts if f.label == "Purchase of distribution rights"] == [(2019, "(127)")]
    blanks = [f for f in facts if "| |" in text.lines[f.line - 1] or text.lines[f.line - 1].endswith(" |")]
    assert len(blanks) >= 15 and all(f.year in (2019, 2020, 2021) for f in blanks)  # every row with a blank has its years


def test_a_notes_tables_are_read_where_years_head_their_columns():
    # VERIZON_2021_10K p.76 (Note 7. Debt) as extracted, shortened, and tables of the kinds a note holds after it
    lines = [
        "Note 7. Debt",
        "Outstanding long-term debt obligations as of December 31, 2021 and 2020 are as follows:",
        "(dollars in millions)",
        "At December 31, | Maturities | Rates % | 2021 | 2020",
        "Verizon Communications | < 5 Years | 0.75 - 5.82 | $18,406 | $17,936",
        "< 5 Years | Floating | (1) | 4,086 | 2,917",
        "Finance lease obligations (average rate of 2.2% and 2.5% in 2021",  # a wrapped label, not a header of 2021
        "and 2020, respectively) | | 1,325 | 1,284",
        "Total debt | | $150,868 | $129,062",
        "Maturities of long-term debt (secured and unsecured) outstanding, including current maturities, at December 31,",
        "Years | (dollars in millions)",
        "Thereafter | 111,725",
        "The fair values of the assets held by the plans by asset class are as follows, running on as text does here:",
        "Asset Class | 2021 | 2020 | 2021 | 2020",
        "U.S. equities | $1,369 | $1,568 | $— | $—",
        "Years Ended December 31, | 2021 | 2020",
        "Interest expense | 3,485 | 4,247",
    ]
    facts = parse_statement(PagedText.from_pages(["\n".join(lines)]), 1, len(lines), note=True)
    assert [(f.label, f.year, f.printed, f.period_label) for f in facts] == [
        ("Verizon Communications < 5 Years 0.75 - 5.82", 2021, "$18,406", "At December 31 2021"),
        ("Verizon Communications < 5 Years 0.75 - 5.82", 2020, "$17,936", "At December 31 2020"),
        ("and 2020, respectively)", 2021, "1,325", "At December 31 2021"),  # the row's own line of its wrapped label
        ("and 2020, respectively)", 2020, "1,284", "At December 31 2020"),
        ("Total debt", 2021, "$150,868", "At December 31 2021"),
        ("Total debt", 2020, "$129,062", "At December 31 2020"),
        ("Interest expense", 2021, "3,485", "Years Ended December 31 2021"),
        ("Interest expense", 2020, "4,247", "Years Ended December 31 2020"),
    ]


def test_real_debt_note_total_is_read(filing_text):
    from corpus.sections import detect_sections
    from corpus.statements import statement_facts

    text = filing_text("VERIZON_2021_10K")
    sections = detect_sections(text, "10-K")
    facts = statement_facts(text, sections, [])
    total = [(f.page, f.year, f.printed, f.period_label) for f in facts if f.label == "Total debt"]
    assert total == [(76, 2021, "$150,868", "At December 31 2021"), (76, 2020, "$129,062", "At December 31 2020")]
    # the maturities table under it heads its rows, not its columns, with years: none of its figures is read as a year's
    assert not [f for f in facts if f.page == 76 and f.printed in ("$7,069", "111,725")]


def test_a_notes_lead_in_dates_its_columns_and_its_scale_is_the_statements():
    # BOEING_2017_10K p.85 as extracted, shortened: no unit line in the note, the date in the line leading to the table
    lines = [
        "Note 13 – Debt",
        "Debt at December 31 consisted of the following:",
        "2017 | 2016",
        "Commercial paper | 600 |",
        "Total debt | $11,117 | $9,952",
        "During the year ended December 31, 2017, we repaid notes, as the text running under the table says at length.",
        "2017 | 2016",
        "Repayments | 100 | 90",  # the text above mentions a year ended, it does not lead in to the table: not read
        "Interest paid in the years ended December 31 was as follows, in the words a note leads in to its table with:",
        "2017 | 2016",
        "Interest paid | 360 | 306",
        # PEPSICO_2022_10K p.85: a bare year header over balances says neither a year's flow nor a year-end: not read
        "Deferred tax liabilities and assets are comprised of the following, as the note's text says before the table:",
        "2017 | 2016",
        "Property, plant and equipment | 2,126 | 2,036",
    ]
    text = PagedText.from_pages(["\n".join(lines)])
    facts = parse_statement(text, 1, len(lines), note=True, scale=6)
    assert [(f.label, f.printed, f.value, f.period_label) for f in facts] == [
        ("Commercial paper", "600", 600e6, "At December 31 2017"),
        ("Total debt", "$11,117", 11_117e6, "At December 31 2017"),
        ("Total debt", "$9,952", 9_952e6, "At December 31 2016"),
        ("Interest paid", "360", 360e6, "Years Ended December 31 2017"),
        ("Interest paid", "306", 306e6, "Years Ended December 31 2016"),
    ]
    assert parse_statement(text, 1, len(lines), note=True, scale=None) == []  # no scale known: nothing read


def test_real_debt_note_without_a_unit_line_is_read_in_the_statements_millions(filing_text):
    from corpus.sections import detect_sections
    from corpus.statements import statement_facts

    text = filing_text("BOEING_2017_10K")
    facts = statement_facts(text, detect_sections(text, "10-K"), [])
    total = [(f.page, f.value, f.period_label) for f in facts if f.label == "Total debt" and f.page == 85]
    assert total[:2] == [(85, 11_117e6, "At December 31 2017"), (85, 9_952e6, "At December 31 2016")]
