"""The series model on plain rows: fiscal periods from the filing's own calendar, restatements, units, renamed labels."""

from __future__ import annotations

from datetime import date
from itertools import count
from types import SimpleNamespace

import pytest

from corpus.fiscal import FilingPeriod, FiscalPeriod, column_period, dated_period, parse_fiscal_period
from corpus.series import clean_label, company_series, join_renamed, spelled

_ids = count(1)


def doc(doc_id, year, period="FY", end=None, form=None):
    form = form or ("10-Q" if period.startswith("Q") else "10-K")
    return SimpleNamespace(
        id=doc_id,
        fiscal_year=year,
        fiscal_period=period,
        period_end_date=end,
        form_type=form,
        accession=None,
        filing_date=None,
        company="Acme",
    )


def fact(
    doc_id,
    label,
    year,
    printed,
    value,
    *,
    section="Cash Flows",
    column="Years Ended",
    scale=6,
    line=10,
    unit=None,
    start=None,
    end=None,
):
    return SimpleNamespace(
        id=next(_ids),
        doc_id=doc_id,
        label=label,
        fiscal_year=year,
        printed=printed,
        value=value,
        section=section,
        period_label=f"{column} {year}".strip(),
        scale=scale,
        line=line,
        page=3,
        unit=unit,
        concept=None,
        dimensions={},
        source="table",
        period_start=start,
        period_end=end,
    )


def one(items, label):
    (item,) = [i for i in items if i.label == label]
    return {str(p.period): p for p in item.points.values()}, item


@pytest.mark.parametrize(
    ("filing", "year", "own", "column", "label", "balance", "expected"),
    [
        # A June fiscal year's 10-Q for the quarter ended November 30, 2022 is FY2023 Q2 (headers print calendar years).
        (FilingPeriod(2023, 2, date(2022, 11, 30)), 2022, 2022, 0, "Three Months Ended 2022", False, "FY2023 Q2"),
        (FilingPeriod(2023, 2, date(2022, 11, 30)), 2021, 2022, 1, "Three Months Ended 2021", False, "FY2022 Q2"),
        (FilingPeriod(2023, 2, date(2022, 11, 30)), 2022, 2022, 0, "Six Months Ended 2022", False, "FY2023 Q2 YTD"),
        # Its balance sheet: the quarter's end, then the prior fiscal year's end (May 31, 2022: the same header year).
        (FilingPeriod(2023, 2, date(2022, 11, 30)), 2022, 2022, 0, "2022", True, "FY2023 Q2 end"),
        (FilingPeriod(2023, 2, date(2022, 11, 30)), 2022, 2022, 1, "2022", True, "FY2022 end"),
        # MGM's 10-Q: June 30, 2023 and December 31, 2022 -- the comparative column is FY2022's end, not "FY2022 Q2".
        (FilingPeriod(2023, 2, date(2023, 6, 30)), 2022, 2023, 1, "2022", True, "FY2022 end"),
        (FilingPeriod(2018, None, date(2018, 12, 31)), 2016, 2018, 2, "Years Ended December 31 2016", False, "FY2016"),
        (FilingPeriod(2018, None, date(2018, 12, 31)), 2017, 2018, 1, "2017", True, "FY2017 end"),
        (FilingPeriod(2018, None, date(2018, 12, 31)), 2017, 2018, 1, "Three Months Ended 2017", False, None),
        (FilingPeriod(None, None, None), 2017, 2018, 1, "2017", False, None),
    ],
)
def test_a_columns_period_comes_from_the_filings_own_calendar(filing, year, own, column, label, balance, expected):
    period = column_period(filing, year, own, column, label, balance)
    assert (str(period) if period else None) == expected


def test_dated_facts_are_placed_against_the_filings_period_end():
    q2 = FilingPeriod(2023, 2, date(2023, 6, 2))  # Adobe's FY2023 Q2 10-Q
    assert str(dated_period(q2, date(2023, 3, 4), date(2023, 6, 2), False)) == "FY2023 Q2"
    assert str(dated_period(q2, date(2022, 12, 3), date(2023, 6, 2), False)) == "FY2023 Q2 YTD"
    assert str(dated_period(q2, date(2022, 3, 5), date(2022, 6, 3), False)) == "FY2022 Q2"
    assert str(dated_period(q2, None, date(2022, 12, 2), True)) == "FY2022 end"  # the prior year-end balance sheet column
    annual = FilingPeriod(2022, None, date(2022, 12, 31))
    assert str(dated_period(annual, date(2020, 1, 1), date(2020, 12, 31), False)) == "FY2020"
    assert str(dated_period(annual, None, date(2021, 12, 31), True)) == "FY2021 end"


def test_period_labels_read_back():
    for text in ("FY2018", "FY2023 Q2", "FY2023 Q2 YTD", "FY2022 end", "FY2023 Q2 end"):
        assert str(parse_fiscal_period(text)) == text
    assert parse_fiscal_period("2018") is None
    assert FiscalPeriod(2022, None, "FY").sort_key > FiscalPeriod(2022, 3, "Q").sort_key > FiscalPeriod(2021, None, "FY").sort_key


def test_a_restated_period_keeps_both_printings_and_rounding_is_no_restatement():
    docs = [
        doc("B_2020_10K", 2020, end=date(2020, 12, 31)),
        doc("B_2021_10K", 2021, end=date(2021, 12, 31)),
        doc("A_2015_10K", 2015, end=date(2015, 11, 27)),
        doc("A_2016_10K", 2016, end=date(2016, 12, 2)),
    ]
    rows = [
        fact("B_2020_10K", "Net cash provided by operating activities", 2020, "381,603", 381_603e3, scale=3),
        fact("B_2021_10K", "Net cash provided by operating activities", 2020, "173,110", 173_110e3, scale=3),
        fact("B_2021_10K", "Net cash provided by operating activities", 2021, "940,000", 940_000e3, scale=3),
        fact("A_2015_10K", "Total revenue......", 2015, "4,795,511", 4_795_511e3, section="Income Statement", scale=3),
        fact("A_2016_10K", "Total revenue", 2016, "5,854", 5_854e6, section="Income Statement"),
        fact(
            "A_2016_10K", "Total revenue", 2015, "4,796", 4_796e6, section="Income Statement"
        ),  # millions, rounded: the same value
    ]
    items = company_series(docs, rows)
    points, _ = one(items, "Net cash provided by operating activities")
    fy2020 = points["FY2020"]
    assert fy2020.restated and fy2020.first.printed == "381,603" and fy2020.latest.printed == "173,110"
    assert fy2020.chosen("latest").doc_id == "B_2021_10K" and fy2020.chosen("first").doc_id == "B_2020_10K"
    assert not points["FY2021"].restated
    revenue, item = one(items, "Total revenue")  # dot leaders gone: one line item across both filings
    assert len(revenue["FY2015"].reports) == 2 and not revenue["FY2015"].restated
    assert spelled(revenue["FY2015"].latest.value, item.unit, 6) == "4,796 million USD"


def test_renamed_labels_join_when_their_shared_periods_agree_and_units_stay_apart():
    docs = [doc("C_2019_10K", 2019, end=date(2019, 12, 31)), doc("C_2020_10K", 2020, end=date(2020, 12, 31))]
    rows = [
        fact("C_2019_10K", "Cost of goods sold", 2019, "1,234", 1234e6, section="Income Statement"),
        fact("C_2019_10K", "Cost of goods sold", 2018, "1,100", 1100e6, section="Income Statement"),
        fact("C_2019_10K", "Cost of goods sold", 2017, "1,000", 1000e6, section="Income Statement"),
        fact("C_2020_10K", "Cost of sales", 2020, "1,500", 1500e6, section="Income Statement"),
        fact("C_2020_10K", "Cost of sales", 2019, "1,234", 1234e6, section="Income Statement"),
        fact("C_2020_10K", "Cost of sales", 2018, "1,100", 1100e6, section="Income Statement"),
        fact("C_2020_10K", "Other costs", 2017, "1,000", 1000e6, section="Income Statement"),  # same filing as 'Cost of sales'
        fact("C_2020_10K", "Revenue", 2020, "9,000", 9000e6, section="Income Statement", unit="EUR"),
        fact("C_2020_10K", "Revenue", 2020, "9,900", 9900e6, section="Income Statement", unit="USD"),
    ]
    items = company_series(docs, rows)
    _, cost = one(items, "Cost of sales")
    joined = join_renamed(cost, items)
    assert {str(p) for p in joined.points} == {"FY2017", "FY2018", "FY2019", "FY2020"}
    assert joined.labels == ["Cost of sales", "Cost of goods sold"] and "'Cost of goods sold' joined" in joined.joined[0]
    assert "Other costs" not in joined.labels
    revenues = [i for i in items if i.label == "Revenue"]
    assert sorted(i.unit for i in revenues) == ["EUR", "USD"]  # two series, never summed


def test_one_equal_figure_joins_no_two_names_but_sign_words_do_and_keep_the_restatement():
    docs = [doc("E_2021_10K", 2021, end=date(2021, 12, 31)), doc("E_2022_10K", 2022, end=date(2022, 12, 31))]
    rows = [
        # Equity: the 2021 10-K's "Comprehensive income" happens to equal net earnings in one year the 2022 10-K shares.
        fact("E_2021_10K", "Comprehensive income", 2021, "2,339.8", 2339.8e6, section="Equity"),
        fact("E_2021_10K", "Comprehensive income", 2020, "1,900.0", 1900e6, section="Equity"),
        fact("E_2022_10K", "Net earnings attributable to E", 2022, "2,707.3", 2707.3e6, section="Equity"),
        fact("E_2022_10K", "Net earnings attributable to E", 2021, "2,339.8", 2339.8e6, section="Equity"),
        # Cash flows: the sign words change and the 2022 10-K restates FY2021 (the 2021 10-K printed 2,315).
        fact("E_2021_10K", "Net cash provided by (used in) financing activities", 2021, "2,315", 2315e6),
        fact("E_2021_10K", "Net cash provided by (used in) financing activities", 2020, "455", 455e6),
        fact("E_2022_10K", "Net cash provided by financing activities", 2022, "2,652", 2652e6),
        fact("E_2022_10K", "Net cash provided by financing activities", 2021, "3,677", 3677e6),
        fact("E_2022_10K", "Net cash provided by financing activities", 2020, "455", 455e6),
    ]
    items = company_series(docs, rows)
    _, earnings = one(items, "Net earnings attributable to E")
    assert join_renamed(earnings, items).labels == ["Net earnings attributable to E"]  # FY2020 differs, FY2021 alone agrees
    _, financing = one(items, "Net cash provided by financing activities")
    joined = join_renamed(financing, items)
    assert joined.members == [("net cash provided by used in financing activities", "Cash Flows", (), "USD")]
    assert "named alike but for the words of its sign (equal values for FY2020)" in joined.joined[0]
    fy2021 = joined.points[next(p for p in joined.points if str(p) == "FY2021")]
    assert fy2021.restated and fy2021.first.printed == "2,315" and fy2021.restating.printed == "3,677"


def test_the_restating_filing_is_the_first_that_prints_the_value_as_it_stands():
    docs = [doc(f"M_{y}_10K", y, end=date(y, 12, 31)) for y in (2017, 2018, 2019)]
    rows = [
        fact("M_2017_10K", "Operating income", 2017, "7,820", 7820e6, section="Income Statement"),
        fact("M_2018_10K", "Operating income", 2017, "7,692", 7692e6, section="Income Statement"),
        fact("M_2019_10K", "Operating income", 2017, "7,692", 7692e6, section="Income Statement"),
        fact("M_2018_10K", "Operating income", 2018, "7,207", 7207e6, section="Income Statement"),
        fact("M_2019_10K", "Operating income", 2019, "6,174", 6174e6, section="Income Statement"),
    ]
    points, _ = one(company_series(docs, rows), "Operating income")
    fy2017 = points["FY2017"]
    assert fy2017.restated and [r.doc_id for r in fy2017.changes()] == ["M_2017_10K", "M_2018_10K"]
    assert fy2017.restating.doc_id == "M_2018_10K" and fy2017.latest.doc_id == "M_2019_10K"
    assert fy2017.chosen("latest").doc_id == "M_2019_10K"  # the series' value is the latest printing


def test_a_label_a_statement_prints_on_two_rows_with_different_figures_is_no_line_item():
    docs = [doc("G_2021_10K", 2021, end=date(2021, 5, 30))]
    rows = [
        fact("G_2021_10K", "Comprehensive income", 2021, "2,339.8", 2339.8e6, section="Equity", line=40),  # retained earnings
        fact("G_2021_10K", "Comprehensive income", 2021, "38.0", 38e6, section="Equity", line=52),  # noncontrolling interests
        fact("G_2021_10K", "Net sales", 2021, "18,127.0", 18127e6, section="Income Statement", line=5),
    ]
    assert [i.label for i in company_series(docs, rows)] == ["Net sales"]


def test_unreadable_periods_are_left_out_not_guessed():
    docs = [doc("D_2022_10K", 2022, end=date(2022, 12, 31))]
    rows = [fact("D_2022_10K", "Net income", None, "100", 100e6, section="Income Statement", column="column 1 (period unknown)")]
    assert company_series(docs, rows) == []
    assert clean_label("Total revenue....................") == "Total revenue"


def test_selected_data_rows_join_the_statement_line_item_and_the_statement_wins():
    docs = [doc("A_2017_10K", 2017, end=date(2017, 12, 31)), doc("A_2018_10K", 2018, end=date(2018, 12, 31))]
    item6 = {"section": "Item 6", "column": "Years Ended December 31"}
    rows = [
        # The 2017 10-K: a five-year table (Item 6, printed first) and the income statement's three years.
        *(
            fact("A_2017_10K", "Net sales", y, f"{v:,}", v * 1e6, **item6)
            for y, v in ((2017, 31), (2016, 30), (2015, 29), (2014, 28), (2013, 27))
        ),
        fact("A_2017_10K", "Net sales", 2017, "31", 31e6, section="Income Statement"),
        fact("A_2017_10K", "Net sales", 2016, "30", 30e6, section="Income Statement"),
        fact("A_2017_10K", "Net sales", 2015, "29", 29e6, section="Income Statement"),
        fact("A_2017_10K", "Total assets", 2013, "90", 90e6, section="Item 6", column="At December 31"),
        fact("A_2017_10K", "Total assets", 2017, "99", 99e6, section="Balance Sheet", column=""),
        fact("A_2017_10K", "Cash dividends paid per share", 2013, "2.54", 2.54, section="Item 6", scale=0),
        # "Basic" on two rows of the income statement (per share and shares): a selected-data "Basic" row joins neither.
        fact("A_2017_10K", "Basic", 2017, "5.10", 5.1, section="Income Statement", scale=0, line=20),
        fact("A_2017_10K", "Basic", 2017, "600", 600e6, section="Income Statement", line=21),
        fact("A_2017_10K", "Basic", 2013, "4.00", 4.0, section="Item 6", scale=0),
        # The 2018 10-K's five-year table prints FY2014 otherwise: a restatement, marked as any other.
        fact("A_2018_10K", "Net sales", 2018, "32", 32e6, **item6),
        fact("A_2018_10K", "Net sales", 2014, "26", 26e6, **item6),
        fact("A_2018_10K", "Net sales", 2018, "32", 32e6, section="Income Statement"),
    ]
    items = company_series(docs, rows)
    points, item = one(items, "Net sales")
    assert item.section == "Income Statement" and sorted(points) == [f"FY{y}" for y in range(2013, 2019)]
    assert [(r.source, r.doc_id) for r in points["FY2016"].reports] == [("table", "A_2017_10K")]  # the statement wins
    assert [(r.source, r.doc_id) for r in points["FY2018"].reports] == [("table", "A_2018_10K")]
    assert points["FY2013"].chosen().source == "selected" and not points["FY2013"].restated
    assert points["FY2014"].restated and points["FY2014"].first.printed == "28" and points["FY2014"].latest.printed == "26"
    assets, _ = one(items, "Total assets")
    assert sorted(assets) == ["FY2013 end", "FY2017 end"]  # read as the balance sheet that prints the label
    assert not [i for i in items if "dividends" in i.label]  # no statement prints it: its period's kind is unknown
    assert not [i for i in items if i.label == "Basic"]  # two rows, two figures for FY2017: no one line item


def test_a_notes_rows_join_by_the_notes_title_as_year_end_balances_and_unclear_labels_stay_out():
    docs = [doc(f"V_{y}_10K", y, end=date(y, 12, 31)) for y in (2020, 2021, 2022)]
    note = {"column": "At December 31"}
    rows = [
        # the filings' own years come from their statements
        *(fact(f"V_{y}_10K", "Net income", y, "1", 1e6, section="Income Statement") for y in (2020, 2021, 2022)),
        fact("V_2020_10K", "Total debt", 2020, "$129,062", 129_062e6, section="Note 7", **note),
        fact("V_2020_10K", "Total debt", 2019, "$111,489", 111_489e6, section="Note 7", **note),
        fact("V_2021_10K", "Total debt", 2021, "$150,868", 150_868e6, section="Note 7", **note),
        fact("V_2021_10K", "Total debt", 2020, "$129,062", 129_062e6, section="Note 7", **note),
        # renumbered the next year: the title joins it
        fact("V_2022_10K", "Total debt", 2022, "$150,639", 150_639e6, section="Note 8", **note),
        # a maturities table headed with years to come: not periods of the filing
        fact("V_2022_10K", "Total debt", 2024, "$9,000", 9_000e6, section="Note 8", column=""),
        # "Total" on two rows of one note with different figures: no one line item
        fact("V_2021_10K", "Total", 2021, "10", 10e6, section="Note 3", column="", line=40),
        fact("V_2021_10K", "Total", 2021, "12", 12e6, section="Note 3", column="", line=48),
        # another note's "Total debt" of the same number in another filing is another line item
        fact("V_2022_10K", "Total debt", 2022, "$5", 5e6, section="Note 7", **note),
    ]
    titles = {("V_2020_10K", "Note 7"): "Debt", ("V_2021_10K", "Note 7"): "Debt", ("V_2022_10K", "Note 8"): "Debt"}
    titles[("V_2022_10K", "Note 7")] = "Leasing Arrangements"
    items = company_series(docs, rows, titles)
    debt = [i for i in items if i.label == "Total debt"]
    assert len(debt) == 2
    points = {str(p.period): p.chosen().printed for p in max(debt, key=lambda i: len(i.points)).points.values()}
    assert points == {"FY2019 end": "$111,489", "FY2020 end": "$129,062", "FY2021 end": "$150,868", "FY2022 end": "$150,639"}
    assert not [i for i in items if i.label == "Total"]
    # without titles a note is known by its number only: the 2022 "Note 7" (leases) would join, which the titles prevent
    by_number = [i for i in company_series(docs, rows) if i.label == "Total debt"]
    assert sorted(len(i.points) for i in by_number) == [1, 4]
