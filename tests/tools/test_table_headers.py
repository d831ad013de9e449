"""A table row found by grep comes with its table's title, unit line, column headers and sub-heading."""

from __future__ import annotations

from tools.table_headers import row_group, table_context

STATEMENT = [
    "Table of Contents",
    "Consolidated Statement of Income",
    "PepsiCo, Inc. and Subsidiaries",
    "Fiscal years ended December 31, 2022, December 25, 2021 and December 26, 2020",
    "(in millions except per share amounts)",
    "2022 | 2021 | 2020",
    "Net Revenue | $86,392 | $79,474 | $70,372",
    "Operating expenses",
    "Cost of sales | 40,576 | 37,075 | 31,797",
]
SEGMENTS = [
    "Summary operating results for each of our business segments were as follows (in millions):",
    "Quarters Ended | Six Months Ended",
    "June 26, 2022 | June 27, 2021 | June 26, 2022 | June 27, 2021",
    "Net sales",
    "Aeronautics | $5,862 | $6,666 | $12,263 | $13,053",
    "Operating profit",
    "Aeronautics | $612 | $572 | $1,291 | $1,265",
]


def test_a_statement_row_gets_title_unit_and_columns():
    assert (
        table_context(STATEMENT, 9)
        == "table: Consolidated Statement of Income; in millions except per share amounts; columns: 2022 | 2021 | 2020"
    )
    assert row_group(STATEMENT, 9) == "Operating expenses" and row_group(STATEMENT, 7) is None


def test_a_two_line_header_and_sub_headings():
    note = table_context(SEGMENTS, 7)
    assert note == (
        "table: Summary operating results for each of our business segments were as follows; in millions; "
        "columns: Quarters Ended | Six Months Ended / June 26, 2022 | June 27, 2021 | June 26, 2022 | June 27, 2021"
    )
    assert row_group(SEGMENTS, 5) == "Net sales" and row_group(SEGMENTS, 7) == "Operating profit"


def test_prose_rows_without_header_and_narrative_get_nothing():
    assert table_context(STATEMENT, 2) is None  # not a row
    prose = [
        "Revenue grew strongly in all regions this year, as we explain at some length in this paragraph here.",
        "Total | 1,234 | 1,111",
    ]
    assert table_context(prose, 2) is None  # no header row above it
    assert table_context(["2022 | 2021", "Total | 5 | 6"], 2) == "table; columns: 2022 | 2021"
