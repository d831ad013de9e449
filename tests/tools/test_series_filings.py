"""Series and facts on real filings: the complaints a capable model filed against facts, each checked on the page."""

from __future__ import annotations

import csv
import zipfile

import pytest
from typer.testing import CliRunner

from agent.answer import AnswerCitation
from agent.citations import check_citation
from corpus.catalog import Corpus
from tests.tools.test_facts import cite_lines
from tools import REGISTRY, ToolContext
from tools.company_series import SeriesError
from tools.series_table import lookup, standard_tables

pytestmark = [pytest.mark.financebench, pytest.mark.slow]


@pytest.fixture(scope="module")
def corpus(series_settings):
    corpus = Corpus.open(series_settings)
    yield corpus
    corpus.close()


def facts(corpus, **arguments):
    call = REGISTRY.call("facts", arguments, ToolContext(corpus))
    assert call.ok, call.text
    return call


def test_a_period_asked_is_the_period_shown_in_the_unit_stated_once(corpus):
    call = facts(
        corpus, query="net cash provided by operating activities", company="Adobe", period="FY2015", statement="Cash Flows"
    )
    item = call.result.items[0]
    assert [str(p.period) for p in item.points] == ["FY2015"]
    assert "FY2015: 1,469,502 (= 1,469,502 thousand USD)" in call.text  # ADOBE_2015_10K p.63, in thousands
    assert "| in USD thousand" in call.text  # one unit, stated once: most of these filings print thousands
    assert "FY2016" not in call.text and "FY2022" not in call.text
    mixed = facts(
        corpus, query="net cash provided by operating activities", company="Adobe", period="all", statement="Cash Flows"
    )
    assert "FY2023 Q2 YTD: 3,832 (= 3,832,000 thousand USD; printed in millions)" in mixed.text  # the 10-Q prints millions


def test_no_silent_cap_and_annual_periods_first(corpus, monkeypatch):
    call = facts(corpus, query="net cash provided by operating activities", company="Adobe", statement="Cash Flows")
    shown = [str(p.period) for p in call.result.items[0].points]
    assert shown == ["FY2017", "FY2016", "FY2015", "FY2014", "FY2013", "FY2023 Q2 YTD", "FY2022 Q2 YTD"]  # years first
    monkeypatch.setattr("tools.facts.FIRST_ITEM_PERIODS", 3)
    capped = facts(corpus, query="net cash provided by operating activities", company="Adobe", statement="Cash Flows")
    assert (
        "4 more periods (FY2014, FY2013, FY2023 Q2 YTD, FY2022 Q2 YTD); narrow with period=, e.g. period='FY2014'" in capped.text
    )
    every = facts(
        corpus, query="net cash provided by operating activities", company="Adobe", statement="Cash Flows", period="all"
    )
    assert not every.result.items[0].more and len(every.result.items[0].points) == 7


def test_fiscal_quarters_follow_the_filing_and_the_year_end_column_is_the_year_end(corpus):
    adobe = facts(corpus, query="total revenue", company="Adobe", period="FY2023 Q2")
    assert "FY2023 Q2: 4,816" in adobe.text  # the quarter ended June 2, 2023 (whatever the file's name says)
    assert "ADOBE_2022Q2_10Q covers FY2023 Q2" in adobe.text
    mgm = facts(corpus, query="total current assets", company="MGM Resorts", period="FY2022")
    assert "FY2022 end: 8,154,692" in mgm.text and "FY2022 Q2" not in mgm.text
    assert 'cite: doc_id="MGMRESORTS_2022_10K"' in mgm.text  # the period's own filing, not the newest that repeats it


def test_the_restating_filing_is_the_first_that_prints_the_new_value(corpus):
    call = facts(corpus, query="operating income", company="3M", period="FY2015-FY2022", statement="Income Statement")
    # 3M_2017_10K p.57 prints 7,820; the 2018 10-K p.56 prints 7,692 first, the 2019 10-K p.56 again (the value's page).
    assert "FY2017: 7,692 (= 7,692 million USD) — Years Ended December 31 2017 — 3M_2019_10K p.56" in call.text
    assert (
        "restated: first reported 7,820 in 3M_2017_10K p.57; restated 7,692 in 3M_2018_10K p.56 (printed again in 3M_2019_10K p.56)"
        in call.text
    )
    first = facts(corpus, query="operating income", company="3M", period="FY2017", statement="Income Statement", basis="first")
    assert "FY2017: 7,820" in first.text and "basis='first' shows the first printing" in first.text


def test_a_renamed_line_is_one_series_with_its_restatements_and_no_coincidence_joins(corpus):
    call = facts(
        corpus, query="net cash provided by operating activities", company="Block", period="FY2013-FY2021", statement="Cash Flows"
    )
    financing = [i for i in call.result.items if "financing" in i.label]
    assert len(financing) == 1  # "provided by (used in)" in the 2019-2020 10-Ks, "provided by" in the 2017 and 2021 10-Ks
    assert "'Net cash provided by (used in) financing activities' joined" in call.text
    # BLOCK_2020_10K p.90 prints 2,315,195 for FY2020; BLOCK_2021_10K p.89 prints 3,676,735.
    assert "restated: first reported 2,315,195 in BLOCK_2020_10K p.90; restated 3,676,735 in BLOCK_2021_10K p.89" in call.text
    assert len({i.series.key for i in call.result.items}) == len(call.result.items)
    gis = facts(corpus, query="net earnings attributable to General Mills", company="General Mills", period="FY2014-FY2023")
    # GENERALMILLS_2021_10K p.49 prints "Comprehensive income" under retained earnings (2,339.8) and under noncontrolling
    # interests (38.0): no one line item, never joined to net earnings by an equal figure.
    assert "Comprehensive income' joined" not in gis.text and 'quote="Comprehensive income 2,339.8"' not in gis.text
    assert (
        "FY2021: $2,825.0"
        in facts(
            corpus, query="comprehensive income attributable to General Mills", company="General Mills", period="FY2021"
        ).text
    )


def test_leader_dots_are_cut_and_selected_data_is_cited_as_such(corpus):
    found = REGISTRY.call("grep", {"pattern": "^Total revenue \\|", "company": "Adobe"}, ToolContext(corpus))
    assert found.ok and "p.60 l." in found.text and "Total revenue | 4,795,511 | 4,147,065 | 4,055,240" in found.text
    sales = facts(corpus, query="net sales", company="3M", period="FY2013")
    assert (
        "FY2013: $30,871 (= 30,871 million USD) — Years Ended December 31 2013 — Item 6 Selected Financial Data, 3M_2017_10K p.16"
        in sales.text
    )
    table = lookup(corpus, "3M", "net sales", "FY2013")
    assert "3M_2017_10K p.16 (Item 6 Selected Financial Data)" in table.render()


def test_a_restatement_is_shown_with_both_printings(corpus):
    call = facts(corpus, query="net cash provided by operating activities", company="Block", period="FY2020")
    assert "FY2020: 173,110" in call.text  # BLOCK_2021_10K p.88
    assert "restated: first reported 381,603 in BLOCK_2020_10K p.90; restated 173,110 in BLOCK_2021_10K p.88" in call.text
    first = facts(corpus, query="net cash provided by operating activities", company="Block", period="FY2020", basis="first")
    assert "FY2020: 381,603" in first.text


def test_every_cite_line_is_for_its_period_and_verifies(corpus):
    call = facts(corpus, query="capital expenditure", company="3M", period="FY2015-FY2022")
    cites = cite_lines(call.text)
    assert len(cites) >= 8
    for cite in cites[:8]:
        checked = check_citation(
            AnswerCitation(doc_id=cite.doc_id, page=cite.page, quote=cite.quote), lambda d: corpus.store.read(d)
        )
        assert checked.verified, (cite, checked.problem)
    assert 'doc_id="3M_2018_10K", page=60, quote="Purchases of property, plant and equipment (PP&E) (1,577)"' in call.text


def test_filler_rows_are_cut_and_a_miss_names_the_closest(corpus):
    call = facts(corpus, query="capital expenditure", company="3M", period="FY2018")
    labels = [i.label for i in call.result.items]
    assert "Purchases of property, plant and equipment" in labels[0] and "Additional paid-in capital" not in labels
    margin = facts(corpus, query="operating income", company="3M", period="FY2018")
    assert any(i.role == "top line" and i.label == "Net sales" for i in margin.result.items)  # margins need the top line
    miss = REGISTRY.call("facts", {"query": "zebra stripes", "company": "3M"}, ToolContext(corpus))
    assert not miss.ok and "No line item in" in miss.text and "Try one of these words" in miss.text


def test_lookup_errors_name_what_exists(corpus):
    with pytest.raises(SeriesError, match="No filings of 'Tesla' in the corpus; closest companies:"):
        lookup(corpus, "Tesla", "revenue")
    with pytest.raises(SeriesError, match=r"has no figures for FY1999; the periods it has: FY2015-FY2022"):
        lookup(corpus, "3M", "capital expenditure", "FY1999")
    with pytest.raises(SeriesError, match="is not a fiscal period"):
        lookup(corpus, "3M", "capital expenditure", "lately")
    with pytest.raises(SeriesError, match="item is empty"):
        lookup(corpus, "3M", "  ")


def test_the_standard_items_of_a_company(corpus):
    rows = {key: table for key, _name, table, _missing in standard_tables(corpus, "3M")}
    assert [str(p.period) for p in rows["revenue"].points] == [f"FY{y}" for y in range(2013, 2023)]  # Item 6 adds FY2013-14
    assert rows["capex"].points[-1].chosen("latest").printed == "(1,749)"  # FY2022, 3M_2022_10K
    assert str(rows["total_assets"].points[-1].period) == "FY2022 end"


def test_ten_years_of_3m_from_its_selected_financial_data(corpus):
    """FY2013-FY2014 come from the 2017 10-K's Item 6 five-year table (p.16), read on the page; the statements win after."""
    for item, first in (("net sales", "$30,871"), ("net income attributable to 3M", "4,659"), ("total assets", "$33,304")):
        table = lookup(corpus, "3M", item, "all")
        years = sorted(p.period.year for p in table.points)
        assert years == list(range(2013, 2023)), (item, years)
        oldest = min(table.points, key=lambda p: p.period.year).chosen("latest")
        assert (oldest.doc_id, oldest.page, oldest.printed, oldest.source) == ("3M_2017_10K", 16, first, "selected")
    sales = {p.period.year: p.chosen("latest") for p in lookup(corpus, "3M", "net sales", "all").points}
    assert (sales[2016].doc_id, sales[2016].page, sales[2016].source) == ("3M_2017_10K", 57, "table")  # the statement wins
    assets = lookup(corpus, "3M", "total assets", "all")
    assert str(min(assets.points, key=lambda p: p.period.year).period) == "FY2013 end"  # "At December 31:" rows are balances


def test_a_row_printed_with_blank_years_keeps_its_periods(corpus):
    """BOEING_2021_10K p.63: "Dividends paid | | (1,158) | (4,630)", nothing paid in 2021; it was "period unknown" before."""
    table = lookup(corpus, "Boeing", "dividends paid", "all", statement="Cash Flows")
    points = {str(p.period): p.chosen("latest") for p in table.points}
    assert sorted(points) == ["FY2015", "FY2016", "FY2017", "FY2019", "FY2020"]
    assert (points["FY2020"].printed, points["FY2020"].doc_id, points["FY2020"].page) == ("(1,158)", "BOEING_2021_10K", 63)
    assert (points["FY2019"].printed, points["FY2019"].doc_id) == ("(4,630)", "BOEING_2021_10K")
    assert "FY2021" not in points  # a blank is no figure, not a zero


def test_a_debt_notes_total_is_a_series_of_year_ends(corpus):
    """Verizon's Note 7 "Debt": "At December 31, | Maturities | Rates % | 2021 | 2020" over "Total debt | | $150,868 | $129,062"."""
    table = lookup(corpus, "Verizon", "total debt", "all")
    assert (table.series.label, table.series.section) == ("Total debt", "Note 7")
    got = {str(p.period): (p.chosen("latest").printed, p.chosen("latest").doc_id, p.chosen("latest").page) for p in table.points}
    assert got == {
        "FY2019 end": ("$111,489", "VERIZON_2020_10K", 77),
        "FY2020 end": ("$129,062", "VERIZON_2020_10K", 77),
        "FY2021 end": ("$150,868", "VERIZON_2021_10K", 76),
        "FY2022 end": ("$150,639", "VERIZON_2022_10K", 77),
    }
    assert table.unit_label == "USD million"
    # the note's "Total debt" is the one asked, not the "Total long-term debt, ..." the query's synonyms fill out; where a
    # statement prints the words asked, the statements' ranking stands
    assert lookup(corpus, "Verizon", "long-term debt", "all").series.section == "Balance Sheet"
    # Boeing's debt note is Note 13 in the 2017 10-K and Note 15 in the 2021 10-K: one series by its title, in millions
    boeing = {p.period.year: p.chosen("latest") for p in lookup(corpus, "Boeing", "total debt", "all").points}
    assert (boeing[2017].printed, boeing[2017].value, boeing[2021].printed) == ("$11,117", 11_117e6, "$58,102")


def test_the_cli_prints_the_series_and_writes_csv_and_xlsx(corpus, tmp_path, monkeypatch):
    from api.cli import app

    monkeypatch.setenv("SLEUTH_DATA_DIR", str(corpus.settings.data_dir))
    out = CliRunner().invoke(
        app,
        [
            "series",
            "3M",
            "capital expenditure",
            "--period",
            "FY2014-FY2022",
            "--csv",
            str(tmp_path / "s.csv"),
            "--xlsx",
            str(tmp_path / "s.xlsx"),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "FY2018" in out.output and "(1,577)  3M_2018_10K p.60" in out.output
    rows = list(csv.DictReader((tmp_path / "s.csv").open(encoding="utf-8")))
    assert [r["period"] for r in rows] == [f"FY{y}" for y in range(2015, 2023)]
    assert rows[3]["value_as_printed"] == "(1,577)" and rows[3]["page"] == "60" and float(rows[3]["value"]) == -1.577e9
    with zipfile.ZipFile(tmp_path / "s.xlsx") as book:  # a real workbook: its strings and the first sheet's rows
        sheet = book.read("xl/worksheets/sheet1.xml").decode()  # constant_memory writes strings inline
    assert "(1,577)" in sheet and "3M_2018_10K" in sheet and sheet.count("<row ") == 9
    bad = CliRunner().invoke(app, ["series", "Tesla", "revenue"])
    assert bad.exit_code == 1 and "No filings of 'Tesla'" in bad.output
