"""Question understanding: companies, years, quarters, forms, kind."""

from __future__ import annotations

from retrieval.index import DocEntry
from retrieval.query import company_of, index_matcher, understand


def entry(doc_id: str, company: str, ticker: str | None = None, year: int = 2022) -> DocEntry:
    return DocEntry(doc_id, "h", company, "10-K", year, "FY", None, ticker)


DOCS = [
    entry("3M_2018_10K", "3M Company", "MMM", 2018),
    entry("JPMORGAN_2021Q1_10Q", "JPMorgan Chase & Co.", "JPM", 2021),
    entry("JOHNSON_JOHNSON_2022_10K", "Johnson & Johnson"),
    entry("AMERICANEXPRESS_2022_10K", "American Express Company", "AXP"),
    entry("AMERICANWATERWORKS_2022_10K", "American Water Works Company, Inc.", "AWK"),
    entry("BLOCK_2020_10K", "Square, Inc.", "SQ", 2020),
    entry("PEPSICO_2022_10K", "PepsiCo, Inc.", "PEP"),
]


def test_company_keys_group_filings_by_file_name_prefix():
    assert company_of(DOCS[0]) == "3m" and company_of(DOCS[2]) == "johnson_johnson"
    assert company_of(DocEntry("annual-report", "h", "Acme Widgets, Inc.", None, None, None, None, None)) == "acme widgets"


def test_companies_are_found_by_name_ticker_and_file_prefix():
    m = index_matcher(DOCS)
    assert understand("What is the FY2018 capital expenditure amount for 3M?", m).companies == {"3m"}
    assert understand("Which of JPM's business segments had the lowest net revenue?", m).companies == {"jpmorgan"}
    assert understand("Does Johnson & Johnson have a dividend?", m).companies == {"johnson_johnson"}
    assert understand("American Express total revenue in 2022", m).companies == {"americanexpress"}
    assert understand("Does AMEX have an improving operating margin?", m).companies == {"americanexpress"}
    assert understand("American Water Works capex", m).companies == {"americanwaterworks"}
    assert understand("How did Block's bitcoin revenue change?", m).companies == {"block"}
    assert understand("PepsiCo's FY2022 net revenue", m).companies == {"pepsico"}
    assert understand("What is the average inventory turnover?", m).companies == set()


def test_years_quarters_forms_and_kind():
    m = index_matcher(DOCS)
    q = understand("What is 3M's FY2018 capital expenditure in USD millions per the 10-K?", m)
    assert q.years == {2018} and "10-K" in q.forms and q.kind == "exact"
    assert understand("Which region had the highest EBITDAR for MGM during FY2022?", m).forms == set()
    assert understand("FY22 revenue", m).years == {2022}
    assert understand("revenue in fiscal 2021 and fiscal year 2022", m).years == {2021, 2022}
    q = understand("JPM net revenue in Q1 2021", m)
    assert q.quarters == {1} and q.years == {2021} and "10-Q" in q.forms
    assert understand("second quarter results", m).quarters == {2}
    assert understand("Why did margins decline and what are the key risks?", m).kind == "conceptual"
    assert understand("quarterly dividends paid", m).forms == set()


def test_line_item_vocabulary_expands_queries():
    from retrieval.synonyms import expansion

    assert "purchases of property plant equipment" in expansion("What is the FY2018 capital expenditure amount?")
    assert "cost of sales" in expansion("COGS in 2022")
    assert expansion("Who is the new CEO?") == ""


def test_a_fiscal_year_without_a_quarter_asks_for_the_whole_year():
    m = index_matcher(DOCS)
    assert understand("Did wages as a percent of net sales increase in FY2023?", m).full_year
    assert understand("3M's fiscal 2018 capex", m).full_year
    assert not understand("Net income in Q2 of FY2023?", m).full_year  # a quarter
    assert not understand("At the AGM held on May 3, 2023, what was the vote?", m).full_year  # a date, not a fiscal year


def test_a_year_matches_the_fiscal_label_or_the_calendar_year_the_period_ends_in():
    from retrieval.searcher import HybridSearcher

    docs = {  # Ulta's "fiscal 2022" ends on 28 January 2023; FinanceBench calls it FY2023
        "ULTA_2023Q4_EARNINGS": DocEntry(
            "ULTA_2023Q4_EARNINGS", "h", "Ulta Beauty", "earnings release", 2022, "Q4", "2023-01-28", "ULTA"
        ),
        "ULTA_2023Q2_EARNINGS": DocEntry(
            "ULTA_2023Q2_EARNINGS", "h", "Ulta Beauty", "earnings release", 2023, "Q2", "2023-07-29", "ULTA"
        ),
        "ULTA_2021_10K": DocEntry("ULTA_2021_10K", "h", "Ulta Beauty", "10-K", 2021, "FY", "2022-01-29", "ULTA"),
    }
    m = index_matcher(docs.values())
    preferred = HybridSearcher._preferred_docs  # uses no searcher state
    whole_year = understand("Did Ulta Beauty's wages expense increase in FY2023?", m)
    assert preferred(None, docs, list(docs), whole_year) == ["ULTA_2023Q4_EARNINGS"]  # the release covering the whole year
    quarter = understand("Ulta Beauty's net sales in the second quarter of fiscal 2023", m)
    assert preferred(None, docs, list(docs), quarter) == ["ULTA_2023Q2_EARNINGS"]
    assert preferred(None, docs, list(docs), understand("Ulta Beauty stores in 2021", m)) == ["ULTA_2021_10K"]


def test_questions_naming_a_statement_search_it_by_its_printed_title():
    from retrieval.synonyms import expansion

    assert "statements of operations" in expansion("Based on the income statement, what is EPS?")
    assert "statements of operations" in expansion("primarily in the statement of income")
    assert "balance sheets" in expansion("from the statement of financial position")
    assert "statements of cash flows" in expansion("Using the cash flow statement, what is FCF?")
    assert expansion("What drove the change in margin?") == ""
