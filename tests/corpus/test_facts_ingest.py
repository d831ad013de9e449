"""Facts at ingest: inline XBRL (placed on pages and rows), XBRL instances, statement rows of filings without XBRL, bad XBRL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from corpus.catalog import Corpus
from corpus.extract import extract
from corpus.factrows import analyze_facts
from corpus.ingest import ingest_paths
from corpus.models import Company, Document, Fact
from corpus.settings import CorpusSettings
from corpus.statements import parse_statement, parse_value, split_cells
from corpus.text import PagedText
from tests.corpus.samples import ingest_folder
from tests.corpus.xbrl_samples import inline_10k, instance


def facts_of(corpus, doc_id: str) -> list[Fact]:
    with corpus.sessions() as session:
        return list(session.scalars(select(Fact).where(Fact.doc_id == doc_id).order_by(Fact.id)))


@pytest.fixture
def inline_corpus(tmp_path):
    folder = tmp_path / "filings"
    folder.mkdir()
    (folder / "ACME_2023_10K.htm").write_text(inline_10k(2023, ("610", "577"), ("5,000", "4,200")), encoding="ascii")
    corpus = ingest_folder(folder, tmp_path / "data")
    yield corpus
    corpus.close()


def test_every_inline_fact_is_parsed_with_context_unit_scale_and_sign(tmp_path):
    path = tmp_path / "ACME_2023_10K.htm"
    path.write_text(inline_10k(2023, ("610", "577"), ("5,000", "4,200")), encoding="ascii")
    extracted = extract(path)
    text = PagedText.from_pages(extracted.pages)
    facts, dei, notes = analyze_facts(extracted, text)
    assert len(facts) == path.read_text().count("<ix:nonFraction") == 13
    by = {(f.concept, f.context_id): f for f in facts}
    capex = by[("us-gaap:PaymentsToAcquirePropertyPlantAndEquipment", "d-cur")]
    assert capex.value == 610e6 and capex.unit == "USD" and capex.scale == 6 and not capex.negated
    assert capex.label == "Purchases of property and equipment" and capex.agrees
    assert (capex.start, capex.end) == (
        date(2023, 1, 1),
        date(2023, 12, 31),
    ) and capex.period_label == "Year Ended December 31, 2023"
    assert text.lines[capex.line - 1].startswith("Purchases of property and equipment | $(610) | (577)")
    assert capex.page == text.page_of_line(capex.line) == 2
    other = by[("us-gaap:PaymentsForProceedsFromOtherInvestingActivities", "d-cur")]
    assert other.value == -12e6 and other.negated  # sign="-": printed unsigned, the value is negative
    assert by[("us-gaap:InterestExpense", "d-cur")].value == 0.0  # ixt:fixed-zero prints a dash
    segment = by[("us-gaap:Revenues", "d-cur-seg")]
    assert segment.dimensions == {"us-gaap:StatementBusinessSegmentsAxis": "acme:WidgetsMember"} and segment.label == "Widgets"
    hidden = by[("us-gaap:EntityNumberOfEmployees", "i-cur")]
    assert hidden.hidden and hidden.page is None and hidden.value == 1234 and hidden.unit == "pure"
    assert all(f.agrees for f in facts if not f.hidden)
    assert dei["documenttype"] == "10-K" and dei["documentfiscalyearfocus"] == "2023" and notes == []


def test_bad_inline_xbrl_is_reported_and_the_rest_kept(tmp_path):
    extra = (
        "<table>"
        + "<tr><td>Orphan</td><td>"
        + '<ix:nonFraction unitRef="usd" contextRef="nowhere" name="us-gaap:Foo" scale="6">5</ix:nonFraction>'
        + "</td></tr><tr><td>No unit</td><td>"
        + '<ix:nonFraction unitRef="eur" contextRef="d-cur" name="us-gaap:Bar" scale="6">9</ix:nonFraction>'
        + "</td></tr><tr><td>Total net sales again</td><td>"
        + '<ix:nonFraction unitRef="usd" contextRef="d-cur" name="us-gaap:Revenues" decimals="-6" scale="6">5,100</ix:nonFraction>'
        + "</td></tr></table>"
    )
    path = tmp_path / "ACME_2023_10K.htm"
    path.write_text(inline_10k(2023, ("610", "577"), ("5,000", "4,200"), extra=extra), encoding="ascii")
    extracted = extract(path)
    facts, _dei, notes = analyze_facts(extracted, PagedText.from_pages(extracted.pages))
    assert len(facts) == 15  # the orphan is dropped
    assert notes and notes[0].startswith("3 XBRL problems")
    bar = next(f for f in facts if f.concept == "us-gaap:Bar")
    assert bar.unit == "eur" and bar.value == 9e6


def test_ingest_stores_facts_and_takes_the_period_from_the_tagged_cover(inline_corpus):
    doc = inline_corpus.get("ACME_2023_10K")
    assert (doc.form_type, doc.fiscal_year, doc.fiscal_period, doc.cik) == ("10-K", 2023, "FY", "0000123456")
    assert doc.metadata_sources["fiscal_year"] == "xbrl"
    rows = facts_of(inline_corpus, "ACME_2023_10K")
    assert len(rows) == 13
    capex = next(r for r in rows if r.concept == "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment" and r.fiscal_year == 2022)
    assert capex.section == "Cash Flows" and capex.printed == "577" and capex.value == 577e6 and capex.page == 2
    inline_corpus.remove("ACME_2023_10K")
    assert facts_of(inline_corpus, "ACME_2023_10K") == []


def test_an_xbrl_instance_becomes_a_facts_only_document(tmp_path):
    folder = tmp_path / "filings"
    folder.mkdir()
    (folder / "ACME_FY2022_instance.xml").write_text(instance(), encoding="utf-8")
    (folder / "notes.xml").write_text("<?xml version='1.0'?><notes><n>not xbrl</n></notes>", encoding="utf-8")
    (folder / "broken.xml").write_text('<?xml version="1.0"?><xbrl><context id="a">', encoding="utf-8")
    corpus = Corpus.open(CorpusSettings(data_dir=tmp_path / "data", ingest_workers=1))
    report = ingest_paths(corpus, [folder], workers=1)
    outcome = {Path(r.path).name: (r.status, r.reason) for r in report.results}
    assert outcome["ACME_FY2022_instance.xml"][0] == "added"
    assert outcome["notes.xml"] == (
        "skipped",
        "an XML file that is not an XBRL instance (no <xbrl> root); Sleuth reads XBRL instances, PDF, HTML, TXT, MD",
    )
    assert outcome["broken.xml"][0] == "failed" and outcome["broken.xml"][1].startswith("unreadable XBRL instance: malformed XML")
    try:
        doc = corpus.get("ACME_FY2022_instance")
        assert (doc.format, doc.form_type, doc.fiscal_year, doc.company) == ("xbrl", "10-K", 2022, "Acme Widgets, Inc.")
        rows = facts_of(corpus, "ACME_FY2022_instance")
        assert {r.concept for r in rows} == {
            "us-gaap:Revenues",
            "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment",
            "us-gaap:InventoryNet",
        }
        capex = next(r for r in rows if r.concept.endswith("Equipment"))
        text = corpus.store.read("ACME_FY2022_instance")
        assert capex.label == "Payments To Acquire Property Plant And Equipment" and capex.value == 610e6
        assert text.lines[capex.line - 1].startswith(
            "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment | Year Ended December 31, 2022 | - | 610,000,000"
        )
        assert text.page_of_line(capex.line) == capex.page
        assert {d.id for d in corpus.list()} == {"ACME_FY2022_instance"}
    finally:
        corpus.close()


def test_statement_rows_without_xbrl_get_periods_units_and_signs():
    page = "\n".join(
        [
            "CONSOLIDATED STATEMENTS OF CASH FLOWS",
            "(Millions)",
            "Years ended December 31",
            "2018 | 2017 | 2016",
            "Net cash provided by operating activities | $ 6,439 | $ 6,240 | $ 6,662",
            "Purchases of property, plant and equipment (PP&E) | (1,577) | (1,373) | (1,420)",
            "Proceeds from sale of businesses | — | 23 | (4)",
            "Earnings per share — diluted | 8.89 | 7.93 | 8.16",
        ]
    )
    text = PagedText.from_pages(["cover", page])
    facts = parse_statement(text, 2, text.line_count)
    capex = [f for f in facts if f.label.startswith("Purchases")]
    assert [(f.year, f.value, f.printed, f.negated) for f in capex] == [
        (2018, -1577e6, "(1,577)", True),
        (2017, -1373e6, "(1,373)", True),
        (2016, -1420e6, "(1,420)", True),
    ]
    assert capex[0].page == 2 and capex[0].period_label == "Years Ended December 31 2018"
    proceeds = [f.value for f in facts if f.label.startswith("Proceeds")]
    assert proceeds == [0.0, 23e6, -4e6]
    eps = [f for f in facts if f.label.startswith("Earnings per share")]
    assert eps[0].value == 8.89 and eps[0].scale == 0  # per-share rows are not in millions


def test_rows_whose_header_years_cannot_be_read_are_kept_with_the_period_unknown():
    page = "BALANCE SHEET\n(in thousands)\nAs of | this year | last year\nInventories | 1,200 | 1,100"
    facts = parse_statement(PagedText.from_pages([page]), 1, 4)
    assert [(f.year, f.value) for f in facts] == [(None, 1.2e6), (None, 1.1e6)]
    assert facts[0].period_label.startswith("column 1 (period unknown")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("(1,577)", (-1577.0, True)),
        ("$1,577", (1577.0, False)),
        ("—", (0.0, False)),
        ("-", (0.0, False)),
        ("12.5%", (12.5, False)),
        ("Total", None),
        ("$(12)", (-12.0, True)),
    ],
)
def test_parse_value(cell, expected):
    assert parse_value(cell) == expected


def test_split_cells_handles_pipes_spaces_and_trailing_figures():
    assert split_cells("Net sales | $ | 1,200 | ) ") == ["Net sales", "$1,200)"]
    assert split_cells("Net sales     1,200     1,100") == ["Net sales", "1,200", "1,100"]
    assert split_cells("Net sales 1,200 (1,100) —") == ["Net sales", "1,200", "(1,100)", "—"]


def test_one_company_one_name_across_renames_and_spellings(tmp_path):
    folder = tmp_path / "filings"
    folder.mkdir()
    (folder / "ADOBE_2017_10K.htm").write_text(
        inline_10k(2017, ("1", "2"), ("3", "4"), company="Adobe Systems Incorporated"), encoding="ascii"
    )
    (folder / "ADOBE_2022_10K.htm").write_text(inline_10k(2022, ("1", "2"), ("3", "4"), company="Adobe Inc."), encoding="ascii")
    (folder / "FOOTLOCKER_2022_10K.htm").write_text(
        inline_10k(2022, ("1", "2"), ("3", "4"), company="FOOT LOCKER, INC.").replace("0000123456", "0000850209"),
        encoding="ascii",
    )
    (folder / "FOOT_LOCKER_2023_10K.htm").write_text(
        inline_10k(2023, ("1", "2"), ("3", "4"), company="Foot Locker, Inc.").replace("0000123456", "0000850209"),
        encoding="ascii",
    )
    corpus = ingest_folder(folder, tmp_path / "data")
    try:
        with corpus.sessions() as session:
            companies = {c.name: c for c in session.scalars(select(Company))}
            docs = {d.id: d.company for d in session.scalars(select(Document))}
        assert set(companies) == {"Adobe Inc.", "Foot Locker, Inc."}
        assert "Adobe Systems Incorporated" in companies["Adobe Inc."].aliases
        assert set(docs.values()) == {"Adobe Inc.", "Foot Locker, Inc."}
        assert {d.id for d in corpus.list(company="Adobe Systems")} == {"ADOBE_2017_10K", "ADOBE_2022_10K"}
        assert {d.id for d in corpus.list(company="footlocker")} == {"FOOTLOCKER_2022_10K", "FOOT_LOCKER_2023_10K"}
        assert {d.id for d in corpus.list(company="0000850209")} == {"FOOTLOCKER_2022_10K", "FOOT_LOCKER_2023_10K"}
    finally:
        corpus.close()


def test_a_release_is_dated_by_the_fiscal_quarter_it_names():
    from corpus.metadata import metadata_from_text

    release = (
        "FOR IMMEDIATE RELEASE\nThe Buckle, Inc. Reports November 2024 Net Sales and Third Quarter Results\n"
        "KEARNEY, Neb. -- The Buckle, Inc. (NYSE: BKE) announced today that net income for the fiscal quarter ended "
        "November 2, 2024 was $44.2 million. Net income for the third quarter of fiscal 2024 was $44.2 million, "
        "compared to $52.1 million for the third quarter of fiscal 2023."
    )
    meta = metadata_from_text(PagedText.from_pages([release]))
    # Buckle's fiscal 2024 ends February 1, 2025: the period end alone would make this FY2025 Q3.
    assert (meta.form_type, meta.fiscal_year, meta.fiscal_period) == ("earnings release", 2024, "Q3")


def test_quarter_and_year_to_date_columns_keep_their_own_span():
    page = (
        "CONDENSED CONSOLIDATED STATEMENTS OF INCOME\n(in millions)\nThree Months Ended | Six Months Ended\n"
        "2023 | 2022 | 2023 | 2022\nNet sales | 1,000 | 900 | 2,100 | 1,800"
    )
    facts = parse_statement(PagedText.from_pages([page]), 1, 5)
    assert [(f.period_label, f.value) for f in facts] == [
        ("Three Months Ended 2023", 1e9),
        ("Three Months Ended 2022", 9e8),
        ("Six Months Ended 2023", 2.1e9),
        ("Six Months Ended 2022", 1.8e9),
    ]
