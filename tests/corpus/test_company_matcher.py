"""One company vocabulary: which catalog companies a filter value names and which ones a question mentions."""

from __future__ import annotations

from corpus.company_matcher import CompanyMatcher
from corpus.models import Company

COMPANIES = [
    Company(id=1, key="adobe", name="Adobe Inc.", cik="796343", tickers=["ADBE"], aliases=["Adobe Systems Incorporated"]),
    Company(id=2, key="block", name="Block, Inc.", cik="1512673", tickers=["SQ"], aliases=["Square, Inc."]),
    Company(id=3, key="americanexpress", name="American Express Company", cik=None, tickers=["AXP"], aliases=[]),
    Company(id=4, key="acmewidgets", name="ACME Widgets Holdings", cik=None, tickers=[], aliases=[]),
]


def ids(companies: list[Company]) -> list[int]:
    return [c.id for c in companies]


def test_a_filter_value_names_companies_by_key_name_alias_ticker_or_cik():
    m = CompanyMatcher(COMPANIES)
    assert ids(m.named_by("adobe systems")) == [1]  # a former name's key
    assert ids(m.named_by("Square")) == [2] and ids(m.named_by("SQ")) == [2] and ids(m.named_by("sq")) == [2]
    assert ids(m.named_by("0000796343")) == [1]  # the CIK, zero-padded
    assert ids(m.named_by("acme")) == [4]  # the start of a key
    assert ids(m.named_by("express")) == [3]  # a part of a name
    assert m.named_by("  ") == [] and m.named_by("Tesla") == []


def test_a_question_mentions_companies_by_name_former_name_nickname_or_capital_ticker():
    m = CompanyMatcher(COMPANIES)
    assert ids(m.mentioned_in("What was Adobe's FY2022 revenue?")) == [1]
    assert ids(m.mentioned_in("Did Square's bitcoin revenue grow?")) == [2]
    assert ids(m.mentioned_in("Does AMEX have an improving operating margin?")) == [3]  # a nickname of American Express
    assert sorted(ids(m.mentioned_in("AXP and ADBE capex"))) == [1, 3]
    assert m.mentioned_in("what did sq do?") == []  # a ticker counts only in capitals
    assert m.mentioned_in("What was Tesla's total revenue in FY2023?") == []


def test_a_name_starting_a_company_key_covers_it():
    m = CompanyMatcher(COMPANIES)
    assert ids(m.starting_with("ACME")) == [4]
    assert m.starting_with("Ac") == [] and m.starting_with("Tesla") == []
