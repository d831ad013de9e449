import time
from datetime import date

import pytest

from corpus.extract import extract
from corpus.metadata import (
    FORM_TYPES,
    DocMetadata,
    detect_metadata,
    fiscal_year_for,
    metadata_from_filename,
    metadata_from_text,
)
from corpus.text import PagedText


def paged(*pages: str) -> PagedText:
    return PagedText.from_pages(list(pages))


TEN_K_2018 = """UNITED STATES
SECURITIES AND EXCHANGE COMMISSION
Washington, D.C. 20549
FORM 10-K
☒ ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE
SECURITIES EXCHANGE ACT OF 1934
For the fiscal year ended December 31, 2018
Commission file number 1-3285

3M COMPANY
State of Incorporation: Delaware
I.R.S. Employer Identification No. 41-0417775
Securities registered pursuant to section 12(b) of the act:
Title of each class
Name of each exchange on which registered
Common Stock, Par Value $.01 Per Share
New York Stock Exchange, Inc."""

TEN_K_RETAILER = """UNITED STATES
SECURITIES AND EXCHANGE COMMISSION
Washington, D.C. 20549
FORM 10-K
(Mark One)
x ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the fiscal year ended January 28, 2023
OR
¨ TRANSITION REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the transition period from to
Commission file number 1-9595
______________________________________________________________
BEST BUY CO., INC.
(Exact name of registrant as specified in its charter)
Minnesota
41-0907483
Securities registered pursuant to Section 12(b) of the Act:
Title of each class
Trading Symbol
Name of exchange on which registered
Common Stock, $0.10 par value per share
BBY
New York Stock Exchange
Securities registered pursuant to Section 12(g) of the Act: None."""

TEN_K_52_WEEK = """FORM 10-K
ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the fiscal year ended January 2, 2022
Commission file number 1-3215
JOHNSON & JOHNSON
(Exact name of registrant as specified in its charter)"""

TEN_Q = """UNITED STATES
SECURITIES AND EXCHANGE COMMISSION
FORM 10-Q
☒
QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT
OF 1934
For the quarterly period ended June 2, 2023
Commission File Number: 0-15175
ADOBE INC.
(Exact name of registrant as specified in its charter)
Securities registered pursuant to Section 12(b) of the Act:
Title of each class | Trading Symbol | Name of each exchange on which registered
Common Stock, $0.0001 par value per share | ADBE | NASDAQ
Indicate by check mark whether the registrant (1) has filed all reports"""

TEN_Q_TOC = """ADOBE INC.
FORM 10-Q
TABLE OF CONTENTS
Condensed Consolidated Balance Sheets
June 2, 2023 and December 2, 2022
Condensed Consolidated Statements of Income
Three and Six Months Ended June 2, 2023 and June 3, 2022"""

TEN_Q_SPLIT_DATE = """FORM 10-Q
Quarterly report pursuant to Section 13 or 15(d) of
the Securities Exchange Act of 1934
For the quarterly period ended
Commission file
March 31, 2022
number 1-5805
JPMorgan Chase & Co.
(Exact name of registrant as specified in its charter)
Consolidated balance sheets (unaudited) at March 31, 2022 and December 31, 2021"""

TEN_Q_BARE = """FORM 10-Q
☒ QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the Quarterly Period Ended December 31, 2022
Commission File Number 001-38932
AMCOR PLC
(Exact name of Registrant as specified in its charter)"""

EIGHT_K = """UNITED STATES
SECURITIES AND EXCHANGE COMMISSION
Washington, D.C. 20549
FORM 8-K
CURRENT
REPORT
Pursuant to Section 13 or 15(d)
of
the Securities Exchange Act of 1934
Date of Report (Date of earliest event
reported): July 1, 2022 (June 30,
2022)

AMCOR
PLC
(Exact
name of registrant as specified in its charter)
Jersey
001-38932
Central Index Key: 1748790
Trading
Symbol(s)
Securities registered pursuant to Section 12(b) of the Act:
Ordinary Shares, par value $0.01 per share
AMCR
New York Stock Exchange"""

EARNINGS = """Best Buy Reports Fourth Quarter Results
Comparable Sales Declined 9.3%
Expects FY24 Non-GAAP Diluted EPS of $5.70 to $6.50
MINNEAPOLIS, March 2, 2023 -- Best Buy Co., Inc. (NYSE: BBY) today announced results for the 13-week fourth
quarter ended January 28, 2023 ("Q4 FY23"), as compared to the 13-week fourth quarter ended January 29, 2022
("Q4 FY22")."""

EARNINGS_NO_DATE = """FOR IMMEDIATE RELEASE
• 2023 First-Quarter reported sales growth of 5.6% to $24.7 Billion
New Brunswick, N.J. (April 18, 2023) – Johnson & Johnson (NYSE: JNJ) today announced results for first-quarter
2023. Please refer to the Annual Report on Form 10-K for the fiscal year ended January 1, 2023."""

EARNINGS_COSTCO = """NEWS RELEASE
Costco Wholesale Corporation Reports First Quarter
Fiscal Year 2023 Operating Results
ISSAQUAH, Wash., Dec. 08, 2022 (GLOBE NEWSWIRE) -- Costco Wholesale Corporation ("Costco" or the "Company")
(Nasdaq: COST) today announced its operating results for the first quarter (twelve weeks) of fiscal 2023, ended
November 20, 2022."""


def test_ten_k_cover_without_exact_name_line():
    meta = metadata_from_text(paged(TEN_K_2018, "Table of Contents"))
    assert meta.company == "3M Company"
    assert meta.form_type == "10-K"
    assert meta.period_end_date == date(2018, 12, 31)
    assert (meta.fiscal_year, meta.fiscal_period) == (2018, "FY")
    assert meta.ticker is None and meta.cik is None  # pre-2019 covers list no trading symbol
    assert meta.sources["company"] == "cover"


def test_retailer_year_ending_in_january_is_named_by_its_end_year():
    meta = metadata_from_text(paged(TEN_K_RETAILER))
    assert meta.company == "Best Buy Co., Inc."
    assert meta.ticker == "BBY"
    assert meta.period_end_date == date(2023, 1, 28)
    assert meta.fiscal_year == 2023  # BESTBUY_2023_10K: the file names count the year the fiscal year ends in


def test_52_53_week_year_ending_in_early_january_belongs_to_the_year_before():
    meta = metadata_from_text(paged(TEN_K_52_WEEK))
    assert meta.company == "Johnson & Johnson"
    assert meta.period_end_date == date(2022, 1, 2)
    assert meta.fiscal_year == 2021
    assert fiscal_year_for(date(2023, 1, 1)) == 2022
    assert fiscal_year_for(date(2018, 2, 3)) == 2018
    assert fiscal_year_for(date(2023, 6, 30)) == 2023


def test_ten_q_quarter_from_year_to_date_columns_and_fiscal_year_from_year_end():
    meta = metadata_from_text(paged(TEN_Q, TEN_Q_TOC))
    assert meta.form_type == "10-Q"
    assert meta.company == "Adobe Inc."
    assert meta.ticker == "ADBE"  # from an HTML-style 'a | b | c' row
    assert meta.period_end_date == date(2023, 6, 2)
    assert meta.fiscal_period == "Q2"
    assert meta.fiscal_year == 2023  # second quarter of the year ending about December 1, 2023


def test_ten_q_with_date_on_a_later_line_and_quarter_from_balance_sheet_dates():
    meta = metadata_from_text(paged(TEN_Q_SPLIT_DATE))
    assert meta.company == "JPMorgan Chase & Co."
    assert meta.period_end_date == date(2022, 3, 31)
    assert (meta.fiscal_year, meta.fiscal_period) == (2022, "Q1")


def test_ten_q_without_quarter_on_cover_takes_quarter_from_file_name():
    cover = metadata_from_text(paged(TEN_Q_BARE))
    assert (cover.fiscal_period, cover.fiscal_year) == (None, None)
    meta = detect_metadata(paged(TEN_Q_BARE), "AMCOR_2023Q2_10Q.pdf")
    assert meta.period_end_date == date(2022, 12, 31)
    assert meta.fiscal_period == "Q2" and meta.sources["fiscal_period"] == "filename"
    assert meta.fiscal_year == 2023  # Q2 ending December 2022 belongs to the year ending June 2023
    assert meta.company == "Amcor PLC" and meta.sources["company"] == "cover"


def test_eight_k_report_date_company_on_two_lines_and_cik():
    meta = metadata_from_text(paged(EIGHT_K))
    assert meta.form_type == "8-K"
    assert meta.filing_date == date(2022, 7, 1)
    assert meta.company == "Amcor PLC"
    assert meta.cik == "0001748790"
    assert meta.ticker == "AMCR"
    assert (meta.fiscal_year, meta.fiscal_period, meta.period_end_date) == (None, None, None)


def test_earnings_release():
    meta = metadata_from_text(paged(EARNINGS))
    assert meta.form_type == "earnings release"
    assert meta.company == "Best Buy Co., Inc."
    assert meta.ticker == "BBY"
    assert meta.period_end_date == date(2023, 1, 28)
    assert (meta.fiscal_year, meta.fiscal_period) == (2023, "Q4")


def test_earnings_release_without_period_end_uses_the_headline_year():
    meta = metadata_from_text(paged(EARNINGS_NO_DATE))
    assert meta.form_type == "earnings release"
    assert meta.company == "Johnson & Johnson"
    assert meta.ticker == "JNJ"
    assert meta.period_end_date is None  # the 10-K's year end is not this release's period
    assert (meta.fiscal_year, meta.fiscal_period) == (2023, "Q1")


def test_earnings_release_with_name_before_a_parenthetical_and_nasdaq_ticker():
    meta = metadata_from_text(paged(EARNINGS_COSTCO))
    assert meta.company == "Costco Wholesale Corporation"
    assert meta.ticker == "COST"
    assert meta.period_end_date == date(2022, 11, 20)
    assert (meta.fiscal_year, meta.fiscal_period) == (2023, "Q1")


def test_annual_report_wrapping_a_ten_k():
    meta = metadata_from_text(paged("2023 Annual Report", TEN_K_RETAILER))
    assert meta.form_type == "annual report"
    assert meta.fiscal_year == 2023


def test_small_caps_and_spacing_are_tidied():
    cover = "FORM 10-K\nMGM R ESORTS I NTERNATIONAL\n(Exact name of Registrant as specified in its charter)"
    assert metadata_from_text(paged(cover)).company == "MGM Resorts International"
    cover = "FORM 10-K\nNIKE, Inc .\n(Exact name of Registrant as specified in its charter)"
    assert metadata_from_text(paged(cover)).company == "NIKE, Inc."
    cover = "FORM 10-K\nAMAZON.COM, INC.\n(Exact name of registrant as specified in its charter)"
    assert metadata_from_text(paged(cover)).company == "Amazon.com, Inc."


def test_ticker_from_exchange_mentions_and_other_sec_forms():
    text = paged("3M Company (NYSE: MMM) reported strong results for the fourth quarter 2018.")
    assert metadata_from_text(text).ticker == "MMM"
    text = paged("Adobe (NASDAQ: ADBE) today announced results for its second quarter of fiscal 2023.")
    assert metadata_from_text(text).ticker == "ADBE"
    text = paged("Shares trade on NYSE: KO under that symbol.")
    assert metadata_from_text(text).ticker == "KO"
    text = paged("UNITED STATES\nSECURITIES AND EXCHANGE COMMISSION\nSCHEDULE 14A\nProxy Statement Pursuant to Section 14(a)")
    assert metadata_from_text(text).form_type == "other"


def test_html_cover_end_to_end(tmp_path):
    doc = """<?xml version="1.0" encoding="utf-8"?><html xmlns:ix="http://www.xbrl.org/2013/inlineXBRL"><body>
    <div style="display:none"><ix:header>FORM 8-K hidden facts</ix:header></div>
    <p style="text-align:center">UNITED STATES<br/>SECURITIES AND EXCHANGE COMMISSION</p>
    <p style="text-align:center"><b>FORM 10-Q</b></p>
    <table><tr><td>&#9746;</td><td>QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE ACT</td></tr></table>
    <p>For the quarterly period ended <ix:nonNumeric name="dei:DocumentPeriodEndDate">July&#160;1, 2023</ix:nonNumeric></p>
    <p><span style="font-size:14pt">Apple Inc.</span></p><p>(Exact name of Registrant as specified in its charter)</p>
    <p>Securities registered pursuant to Section 12(b) of the Act:</p>
    <table><tr><td>Title of each class</td><td>Trading symbol(s)</td><td>Name of each exchange on which registered</td></tr>
    <tr><td>Common Stock, $0.00001 par value per share</td><td>AAPL</td><td>The Nasdaq Stock Market LLC</td></tr></table>
    <hr style="page-break-after:always"/>
    <p>Condensed Consolidated Statements of Operations, Three and Nine Months Ended July 1, 2023</p>
    </body></html>"""
    path = tmp_path / "aapl-20230701.htm"
    path.write_text(doc, encoding="utf-8")
    meta = detect_metadata(PagedText.from_pages(extract(path).pages), path.name)
    assert (meta.company, meta.ticker, meta.form_type) == ("Apple Inc.", "AAPL", "10-Q")
    assert (meta.period_end_date, meta.fiscal_period, meta.fiscal_year) == (date(2023, 7, 1), "Q3", 2023)
    assert set(meta.sources.values()) == {"cover"}


def test_unknown_text_gives_empty_metadata():
    assert metadata_from_text(paged("Minutes of the garden club", "Nothing here")) == DocMetadata()
    assert metadata_from_text(PagedText.from_pages([])) == DocMetadata()
    assert metadata_from_text(paged("")) == DocMetadata()


@pytest.mark.serial
def test_cover_reading_is_fast_even_for_a_huge_single_page():
    huge = TEN_K_RETAILER + "\n" + "Revenue | $1,577 | (12)\n" * 200_000  # an HTML filing without page breaks
    text = paged(huge, "page 2")
    started = time.perf_counter()
    meta = metadata_from_text(text)
    assert time.perf_counter() - started < 1.0  # the cover is read from the first lines only (~ms), not the 5 MB page
    assert meta.ticker == "BBY"


@pytest.mark.parametrize(
    ("name", "company", "year", "period", "form", "filed"),
    [
        ("3M_2018_10K.pdf", "3M", 2018, "FY", "10-K", None),
        ("AMCOR_2023Q2_10Q.pdf", "AMCOR", 2023, "Q2", "10-Q", None),
        ("JOHNSON_JOHNSON_2023_8K_dated-2023-08-30.pdf", "JOHNSON JOHNSON", 2023, None, "8-K", date(2023, 8, 30)),
        ("FOOTLOCKER_2022_8K_dated_2022-08-19.pdf", "FOOTLOCKER", 2022, None, "8-K", date(2022, 8, 19)),
        ("AMCOR_2022_8K_2022-04-26.pdf", "AMCOR", 2022, None, "8-K", date(2022, 4, 26)),
        ("GENERALMILLS_2023_annualreport.pdf", "GENERALMILLS", 2023, "FY", "annual report", None),
        ("BESTBUY_2024Q2_EARNINGS.pdf", "BESTBUY", 2024, "Q2", "earnings release", None),
        ("Pfizer_2023Q2_10Q", "Pfizer", 2023, "Q2", "10-Q", None),
        ("FOOTLOCKER_2022_10Q.pdf", "FOOTLOCKER", 2022, None, "10-Q", None),
        ("/data/filings/ACME_FY2021_10-K.htm", "ACME", 2021, "FY", "10-K", None),
        ("ACME_2021_PROXY.pdf", "ACME", 2021, None, "other", None),
    ],
)
def test_file_name_conventions(name, company, year, period, form, filed):
    meta = metadata_from_filename(name)
    got = (meta.company, meta.fiscal_year, meta.fiscal_period, meta.form_type, meta.filing_date)
    assert got == (company, year, period, form, filed)
    assert set(meta.sources.values()) == {"filename"}
    assert meta.form_type in FORM_TYPES


def test_edgar_primary_document_name():
    meta = metadata_from_filename("aapl-20230701.htm")
    assert (meta.ticker, meta.period_end_date, meta.company, meta.form_type) == ("AAPL", date(2023, 7, 1), None, None)


ODD_NAMES = ["", ".pdf", "___", "report.pdf", "2023.pdf", "X_2023_8K_dated-2023-13-45.pdf", "a b c", "Q9_20231_10K", "ü_2020_10K"]


@pytest.mark.parametrize("name", [*ODD_NAMES, "abc-20231345.htm"])
def test_odd_file_names_never_raise(name):
    meta = metadata_from_filename(name)
    assert meta.form_type is None or meta.form_type in FORM_TYPES
    assert meta.filing_date is None


def test_cover_values_win_and_sources_say_where_each_came_from():
    meta = detect_metadata(paged(TEN_K_RETAILER), "BESTBUY_2022_10K.pdf")
    assert meta.fiscal_year == 2023 and meta.sources["fiscal_year"] == "cover"
    assert meta.company == "Best Buy Co., Inc." and meta.sources["company"] == "cover"
    meta = detect_metadata(paged("Nothing to see"), "FOOTLOCKER_2023_10K.pdf")
    assert (meta.company, meta.form_type, meta.fiscal_year) == ("FOOTLOCKER", "10-K", 2023)
    assert set(meta.sources.values()) == {"filename"}
    assert set(meta.sources) == {"company", "form_type", "fiscal_year", "fiscal_period"}


# Checked by reading each filing's cover page.
REAL_FILINGS = [
    # doc name, form type, fiscal year, fiscal period, period end, company on the cover
    ("3M_2018_10K", "10-K", 2018, "FY", date(2018, 12, 31), "3M Company"),
    # the file name's 2022 is wrong: the quarter ended June 2, 2023, in Adobe's fiscal 2023
    ("ADOBE_2022Q2_10Q", "10-Q", 2023, "Q2", date(2023, 6, 2), "Adobe Inc."),
    ("AMCOR_2022_8K_dated-2022-04-26", "8-K", None, None, None, "Amcor PLC"),
    ("BESTBUY_2023_10K", "10-K", 2023, "FY", date(2023, 1, 28), "Best Buy Co., Inc."),
    ("BESTBUY_2023Q4_EARNINGS", "earnings release", 2023, "Q4", date(2023, 1, 28), "Best Buy Co., Inc."),
    ("COCACOLA_2017_10K", "10-K", 2017, "FY", date(2017, 12, 31), "The Coca-Cola Company"),
    ("COSTCO_2023Q1_EARNINGS", "earnings release", 2023, "Q1", date(2022, 11, 20), "Costco Wholesale Corporation"),
    ("GENERALMILLS_2023_annualreport", "annual report", 2023, "FY", date(2023, 5, 28), "General Mills, Inc."),
    ("JOHNSON_JOHNSON_2021_10K", "10-K", 2021, "FY", date(2022, 1, 2), "Johnson & Johnson"),
    ("JPMORGAN_2022Q1_10Q", "10-Q", 2022, "Q1", date(2022, 3, 31), "JPMorgan Chase & Co."),
    # a press release despite its name
    ("LOCKHEEDMARTIN_2023Q2_10Q", "earnings release", 2023, "Q2", date(2023, 6, 25), "Lockheed Martin Corporation"),
    ("MGMRESORTS_2018_10K", "10-K", 2018, "FY", date(2018, 12, 31), "MGM Resorts International"),
    ("MICROSOFT_2023_10K", "10-K", 2023, "FY", date(2023, 6, 30), "Microsoft Corporation"),
    ("PEPSICO_2023Q1_EARNINGS", "earnings release", 2023, "Q1", None, "PepsiCo, Inc."),
    # the release's own words, "Fourth Quarter Fiscal 2022", over the file name's 2023 and the January 2023 period end
    ("ULTABEAUTY_2023Q4_EARNINGS", "earnings release", 2022, "Q4", date(2023, 1, 28), "Ulta Beauty, Inc."),
    ("ULTABEAUTY_2023Q2_EARNINGS", "earnings release", 2023, "Q2", date(2023, 7, 29), "Ulta Beauty, Inc."),
]


@pytest.mark.financebench
@pytest.mark.parametrize(
    ("doc", "form", "year", "period", "period_end", "company"),
    REAL_FILINGS,
    ids=[r[0] for r in REAL_FILINGS],
)
def test_real_filing_covers(filing_text, doc, form, year, period, period_end, company):
    meta = metadata_from_text(filing_text(doc))
    assert meta.form_type == form
    assert meta.fiscal_year == year
    assert meta.fiscal_period == period
    assert meta.period_end_date == period_end
    assert meta.company == company


@pytest.mark.financebench
def test_real_filings_fill_gaps_from_file_names(filing_text):
    meta = detect_metadata(filing_text("PEPSICO_2023_8K_dated-2023-05-05"), "PEPSICO_2023_8K_dated-2023-05-05.pdf")
    assert meta.filing_date == date(2023, 5, 3) and meta.sources["filing_date"] == "cover"  # date of report, not the file's date
    assert meta.fiscal_year == 2023 and meta.sources["fiscal_year"] == "filename"
    assert meta.ticker == "PEP"
    meta = detect_metadata(filing_text("FOOTLOCKER_2023_10K"), "FOOTLOCKER_2023_10K.pdf")
    assert meta.company == "FOOTLOCKER" and meta.sources["company"] == "filename"  # the cover shows a logo, not a name
    assert (meta.fiscal_year, meta.ticker) == (2023, "FL")
    meta = detect_metadata(filing_text("Pfizer_2023Q2_10Q"), "Pfizer_2023Q2_10Q.pdf")
    assert (meta.fiscal_year, meta.fiscal_period, meta.period_end_date) == (2023, "Q2", date(2023, 7, 2))
