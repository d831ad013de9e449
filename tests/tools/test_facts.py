"""The facts tool: line items ranked for a query, periods lined up across filings, citations the checker verifies."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from agent.answer import AnswerCitation
from agent.citations import check_citation
from tests.corpus.samples import ingest_folder
from tests.corpus.xbrl_samples import inline_10k
from tools import REGISTRY, ToolContext
from tools.factrank import Period, parse_period


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("facts_corpus")
    folder = root / "filings"
    folder.mkdir()
    (folder / "ACME_2023_10K.htm").write_text(inline_10k(2023, ("610", "577"), ("5,000", "4,200")), encoding="ascii")
    (folder / "ACME_2022_10K.htm").write_text(inline_10k(2022, ("575", "400"), ("4,200", "3,900")), encoding="ascii")
    (folder / "OLDCO_2016_10K.txt").write_text(
        "FORM 10-K\nANNUAL REPORT\nFor the fiscal year ended December 31, 2016\nOLDCO INC.\n\f"
        "Item 8. Financial Statements\nCONSOLIDATED STATEMENTS OF CASH FLOWS\n(in millions)\n2016 | 2015\n"
        + "".join(f"Other flow {i} | $1,{i:03d} | {i}\n" for i in range(1, 15))
        + "Purchases of property, plant and equipment | (321) | (300)\nNet cash provided by operating activities | 2,000 | 1,900\n",
        encoding="utf-8",
    )
    corpus = ingest_folder(folder, root / "data")
    yield corpus
    corpus.close()


def call(corpus, **arguments):
    return REGISTRY.call("facts", arguments, ToolContext(corpus))


def test_the_capex_row_ranks_first_with_every_period_and_its_page(corpus):
    result = call(corpus, query="capital expenditure", doc_id="ACME_2023_10K")
    assert result.ok, result.text
    top = result.result.items[0]
    assert top.label == "Purchases of property and equipment" and top.section == "Cash Flows"
    assert "FY2023: 610 (= 610 million USD) — Year Ended December 31, 2023 — ACME_2023_10K p.2 line" in result.text
    assert "FY2022: 577" in result.text
    assert result.citations and result.citations[0].doc_id == "ACME_2023_10K" and result.citations[0].page == 2


def test_a_quote_built_from_the_output_passes_the_citation_check(corpus):
    result = call(corpus, query="capital expenditure", doc_id="ACME_2023_10K", period="FY2023")
    row = result.result.items[0].by_period()[0][1]
    citation = AnswerCitation(doc_id=row.doc_id, page=row.page, quote=f"{row.label} ({row.printed})")
    checked = check_citation(citation, lambda d: corpus.store.read(d))
    assert checked.verified, checked.problem


CITE = re.compile(r'^  cite: doc_id="([^"]+)", page=(\d+), quote="(.*)"$', re.MULTILINE)


def cite_lines(text: str) -> list[AnswerCitation]:
    """The ready-made citations of a facts result (its `cite:` lines)."""
    return [AnswerCitation(doc_id=d, page=int(p), quote=q) for d, p, q in CITE.findall(text)]


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("capital expenditure", "ACME_2023_10K"),
        ("revenue", "ACME_2022_10K"),
        ("operating activities", "OLDCO_2016_10K"),
        ("property", "OLDCO_2016_10K"),
    ],
)
def test_every_cite_line_passes_the_citation_check(corpus, query, doc_id):
    result = call(corpus, query=query, doc_id=doc_id)
    cites = cite_lines(result.text)
    shown = [p for item in result.result.items for p in item.points if p.chosen(item.basis).page]
    assert len(cites) == len(shown) >= 1  # one per period shown that is printed on a page
    for cite in cites:
        checked = check_citation(cite, lambda d: corpus.store.read(d))
        assert checked.verified, (cite.quote, checked.problem)


def test_periods_line_up_across_a_companys_filings(corpus):
    # FY2022 is the 2023 10-K's comparative column (577) and the 2022 10-K's own year (575): a restatement.
    # The series uses the latest printing by default (like XBRL frames) and says what was first reported, where.
    result = call(corpus, query="capital expenditure", company="Acme", period="FY2022")
    assert result.ok, result.text
    periods = dict(result.result.items[0].by_period())
    assert periods["FY2022"].doc_id == "ACME_2023_10K" and periods["FY2022"].printed == "577"
    assert "restated: first reported 575 in ACME_2022_10K p.2; restated 577 in ACME_2023_10K p.2" in result.text
    assert "FY2023:" not in result.text and "FY2021:" not in result.text  # the period asked, and only it
    first = call(corpus, query="capital expenditure", company="Acme", period="FY2022", basis="first")
    periods = dict(first.result.items[0].by_period())
    assert periods["FY2022"].doc_id == "ACME_2022_10K" and periods["FY2022"].printed == "575"
    assert periods["FY2023"].doc_id == "ACME_2023_10K" and periods["FY2021"].doc_id == "ACME_2022_10K"
    every = call(corpus, query="capital expenditure", company="Acme")
    assert every.text.index("FY2023:") < every.text.index("FY2022:") < every.text.index("FY2021:")  # newest first, none dropped


def test_statement_rows_of_a_filing_without_xbrl(corpus):
    result = call(corpus, query="capex", doc_id="OLDCO_2016_10K", period="2016")
    assert result.ok, result.text
    item = result.result.items[0]
    assert item.label == "Purchases of property, plant and equipment"
    assert "FY2016: (321) (= -321 million USD)" in result.text and "OLDCO_2016_10K p.2" in result.text


def test_statement_filter_and_segments(corpus):
    result = call(corpus, query="revenue", doc_id="ACME_2023_10K", statement="income statement")
    labels = [i.label for i in result.result.items]
    assert labels[0] == "Total net sales" and "Widgets" in labels  # the segment row ranks below the total
    assert "[StatementBusinessSegmentsAxis=WidgetsMember]" in result.text


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"query": "goodwill impairment", "doc_id": "ACME_2023_10K"},
            "No line item in ACME_2023_10K matches 'goodwill impairment'. Line items there include:",
        ),
        (
            {"query": "revenue", "doc_id": "ACME_2023_10K", "period": "FY2019"},
            "ACME_2023_10K has no figures for FY2019; the periods it covers: FY2023, FY2022",
        ),
        ({"query": "revenue", "doc_id": "ACME_2023_10K", "period": "soon"}, "period='soon' is not a fiscal period"),
        ({"query": "revenue"}, "Give doc_id (one filing) or company"),
        (
            {"query": "revenue", "doc_id": "ACME_2024_10K"},
            "No document with doc_id 'ACME_2024_10K'. Closest doc_ids: ACME_2023_10K",
        ),
        ({"query": "revenue", "company": "Tesla"}, "No filings of 'Tesla' in the corpus. Companies covered:"),
        ({"query": "revenue", "doc_id": "ACME_2023_10K", "statement": "Note 99"}, "No facts in statement 'Note 99'"),
    ],
)
def test_bad_requests_say_what_exists(corpus, arguments, expected):
    result = call(corpus, **arguments)
    assert not result.ok and expected in result.text, result.text
    assert "sleuth " not in result.text  # errors name tools the model can call, not CLI commands


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("FY2018", Period(2018)),
        ("2018", Period(2018)),
        ("fiscal 2018", Period(2018)),
        ("FY18", Period(2018)),
        ("Q2 2025", Period(2025, 2)),
        ("2025Q2", Period(2025, 2)),
        ("FY2025 Q2", Period(2025, 2)),
        ("second quarter of fiscal 2023", Period(2023, 2)),
        ("next year", None),
    ],
)
def test_parse_period(text, period):
    assert parse_period(text) == period


def test_the_cli_prints_the_tools_text(corpus, sleuth_env):
    from api.cli import app

    sleuth_env(SLEUTH_DATA_DIR=str(corpus.settings.data_dir))
    out = CliRunner().invoke(app, ["facts", "ACME_2023_10K", "capital expenditure", "--period", "FY2023"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == call(corpus, query="capital expenditure", doc_id="ACME_2023_10K", period="FY2023").text.strip()
    bad = CliRunner().invoke(app, ["facts", "ACME_2023_10K", "goodwill impairment"])
    assert bad.exit_code == 1 and "No line item in ACME_2023_10K matches" in bad.output


def test_a_near_miss_doc_id_is_taken_as_the_one_filing_it_can_mean(corpus):
    # The embedded model asked facts for 'ADBE_2017_10K' and 'PEPSICO_2022Q2_10K' and gave up on the error.
    result = call(corpus, query="capital expenditure", doc_id="ACME_2023_10-K")
    assert result.ok and "note: there is no doc_id 'ACME_2023_10-K'; this is ACME_2023_10K" in result.text
    assert 'cite: doc_id="ACME_2023_10K"' in result.text
    read = REGISTRY.call("read", {"doc_id": "OLDCO_2016_10-K", "pages": "2"}, ToolContext(corpus))
    assert read.ok and "use doc_id='OLDCO_2016_10K'" in read.text
    other_year = call(corpus, query="capital expenditure", doc_id="ACME_2021_10K")  # another year is not a near miss
    assert (
        not other_year.ok and "No document with doc_id 'ACME_2021_10K'" in other_year.text and "ACME_2022_10K" in other_year.text
    )
