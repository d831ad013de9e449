"""Question understanding: companies, years, quarters, forms, kind."""

from __future__ import annotations

from retrieval.index import DocEntry
from retrieval.query import CompanyMatcher, company_key, understand


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
    assert company_key(DOCS[0]) == "3m" and company_key(DOCS[2]) == "johnson_johnson"
    assert company_key(DocEntry("annual-report", "h", "Acme Widgets, Inc.", None, None, None, None, None)) == "acme widgets"


def test_companies_are_found_by_name_ticker_and_file_prefix():
    m = CompanyMatcher(DOCS)
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
    m = CompanyMatcher(DOCS)
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
