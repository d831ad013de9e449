"""Issue 23 on the real filings: names that contradict the filing, twins, 8-K subjects, passages printed twice."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from corpus.catalog import Corpus
from corpus.ingest import ingest_paths
from corpus.settings import CorpusSettings
from tools import REGISTRY
from tools.context import ToolContext

pytestmark = [pytest.mark.financebench, pytest.mark.slow]

FILINGS = [
    "ADOBE_2022Q2_10Q",
    "LOCKHEEDMARTIN_2023Q1_10Q",
    "LOCKHEEDMARTIN_2023Q2_10Q",
    "LOCKHEEDMARTIN_2022Q2_10Q",
    "AMCOR_2022_8K_2022-07-01",
    "AMCOR_2022_8K_dated-2022-07-01",
    "JOHNSON_JOHNSON_2023_8K_dated-2023-08-30",
]
ADOBE_NOTE = "name says 2022Q2 10-Q; the filing is the 10-Q for fiscal Q2 2023, ended 2023-06-02"


def _index(settings: CorpusSettings, corpus: Corpus) -> None:
    from retrieval.index import HybridIndex
    from retrieval.searcher import index_dir
    from retrieval.settings import RetrievalSettings

    retrieval = RetrievalSettings()
    HybridIndex.open(index_dir(settings, retrieval), retrieval, create=True).sync(
        corpus, lambda lines: [len(line.split()) + 1 for line in lines]
    )


@pytest.fixture(scope="module")
def context(financebench_dir: Path, tmp_path_factory):
    settings = CorpusSettings(data_dir=tmp_path_factory.mktemp("fidelity"), ingest_workers=1)
    corpus = Corpus.open(settings)
    report = ingest_paths(corpus, [financebench_dir / "pdfs" / f"{name}.pdf" for name in FILINGS], workers=1)
    assert report.ok, report.summary()
    _index(settings, corpus)
    yield ToolContext(corpus)
    corpus.close()


def call(context: ToolContext, name: str, **arguments) -> str:
    result = REGISTRY.call(name, arguments, context)
    assert result.ok, result.text
    return result.text


def test_every_place_a_doc_id_is_shown_flags_a_name_that_contradicts_the_filing(context):
    assert ADOBE_NOTE in call(context, "list_documents", company="Adobe")
    assert ADOBE_NOTE in call(context, "glob", pattern="ADOBE*")
    assert f"note: {ADOBE_NOTE}" in call(context, "outline", doc_id="ADOBE_2022Q2_10Q").splitlines()[1]
    assert f"note: {ADOBE_NOTE}" in call(context, "read", doc_id="ADOBE_2022Q2_10Q", pages="4")
    assert f"## ADOBE_2022Q2_10Q (4 matches) (note: {ADOBE_NOTE})" in call(
        context, "grep", pattern="Total revenue", doc_ids=["ADOBE_2022Q2_10Q"]
    )
    assert f"ADOBE_2022Q2_10Q (4 matches) (note: {ADOBE_NOTE})" in call(
        context, "grep", pattern="Total revenue", company="Adobe", output_mode="files_with_matches"
    )
    assert f"(note: {ADOBE_NOTE})" in call(
        context, "search", query="Adobe total revenue digital media", doc_ids=["ADOBE_2022Q2_10Q"], k=2
    )
    assert "3M_2018" not in ADOBE_NOTE and "note:" not in call(context, "list_documents", company="Johnson")


def test_form_and_year_filters_follow_the_catalog(context):
    releases = call(context, "list_documents", company="Lockheed", form="earnings release")
    assert "LOCKHEEDMARTIN_2023Q1_10Q" in releases and "LOCKHEEDMARTIN_2023Q2_10Q" in releases
    assert "name says 2023Q1 10-Q; the filing is an earnings release for fiscal Q1 2023" in releases
    ten_qs = call(context, "list_documents", company="Lockheed", form="10-Q")
    assert "LOCKHEEDMARTIN_2022Q2_10Q" in ten_qs and "2023Q1" not in ten_qs
    assert "ADOBE_2022Q2_10Q" in call(context, "list_documents", company="Adobe", year=2023)
    error = REGISTRY.call("list_documents", {"company": "Adobe", "year": 2022}, context)
    assert not error.ok and "No document matches company='Adobe', year=2022" in error.text  # today's teaching error


def test_8ks_and_releases_carry_their_subject(context):
    rows = call(context, "list_documents", company="Johnson")
    assert (
        "| Item 2.02 Results of Operations and Financial Condition: Johnson & Johnson Announces Updated Financials "
        "and 2023 Guidance Following Completion of the Kenvue Separation"
    ) in rows
    assert "| Lockheed Martin Reports First Quarter 2023 Financial Results |" in call(
        context, "list_documents", company="Lockheed"
    )
    assert "subject: Item 8.01 Other Events: On June 30, 2022, Amcor Finance (USA), Inc." in call(
        context, "outline", doc_id="AMCOR_2022_8K_2022-07-01"
    )


def test_twins_are_listed_once_and_counted_once(context):
    rows = call(context, "list_documents", company="Amcor")
    assert rows.splitlines()[0] == "1 documents match company='Amcor'"
    assert "AMCOR_2022_8K_2022-07-01 |" in rows and "note: same file also named AMCOR_2022_8K_dated-2022-07-01" in rows
    counted = call(context, "grep", pattern="Supplemental Indenture", glob="AMCOR_*", output_mode="count")
    assert "not searched again: same file as AMCOR_2022_8K_2022-07-01" in counted
    assert re.findall(r"^AMCOR\S+: \d+", counted, re.M) == ["AMCOR_2022_8K_2022-07-01: 28"]
    hits = call(context, "search", query="Amcor supplemental indenture substitute issuer", company="Amcor", k=5)
    shown = re.findall(r"^\[\d+\] (\S+) p\.(\S+) lines (\S+)", hits, re.M)
    assert len(shown) == len(set((p, lines) for _d, p, lines in shown))  # no passage twice under two names
    assert "AMCOR_2022_8K_dated-2022-07-01 (same file)" in hits
    # either name reads the filing
    assert "=== AMCOR_2022_8K_dated-2022-07-01 page 1 ===" in call(
        context, "read", doc_id="AMCOR_2022_8K_dated-2022-07-01", pages="1"
    )


def test_a_table_printed_in_mdna_and_in_a_note_is_one_search_passage_naming_the_other(context):
    hits = call(
        context,
        "search",
        query="Lockheed Martin net sales by business segment aeronautics missiles",
        doc_ids=["LOCKHEEDMARTIN_2022Q2_10Q"],
        k=10,
    )
    # chunks cut the note's table and MD&A's copy at different lines: the copy says which passages hold its rows
    assert re.search(
        r"\(same passage also at LOCKHEEDMARTIN_2022Q2_10Q p\.[\d-]+ lines \d+-\d+; shown once\)"
        r"|\(its table rows are also in passage \[\d+\]",
        hits,
    )


def test_removing_one_twin_leaves_the_other_name_working(financebench_dir: Path, tmp_path):
    settings = CorpusSettings(data_dir=tmp_path / "data", ingest_workers=1)
    corpus = Corpus.open(settings)
    try:
        names = ["AMCOR_2022_8K_2022-07-01", "AMCOR_2022_8K_dated-2022-07-01"]
        folder = tmp_path / "in"
        folder.mkdir()
        for name in names:
            shutil.copy(financebench_dir / "pdfs" / f"{name}.pdf", folder)
        assert ingest_paths(corpus, sorted(folder.iterdir()), workers=1).ok
        corpus.remove("AMCOR_2022_8K_2022-07-01")
        context = ToolContext(corpus)
        rows = call(context, "list_documents", company="Amcor")
        assert "AMCOR_2022_8K_dated-2022-07-01 |" in rows and "same file" not in rows
        assert "AMCOR_2022_8K_dated-2022-07-01: 28" in call(
            context, "grep", pattern="Supplemental Indenture", output_mode="count"
        )
        assert "note:" not in call(context, "outline", doc_id="AMCOR_2022_8K_dated-2022-07-01")
        # the removed name leads to the other one (as a near-miss doc_id does), never to nothing
        gone = REGISTRY.call("read", {"doc_id": "AMCOR_2022_8K_2022-07-01", "pages": "1"}, context)
        assert "there is no doc_id 'AMCOR_2022_8K_2022-07-01'; this is AMCOR_2022_8K_dated-2022-07-01" in gone.text
    finally:
        corpus.close()


def test_a_grep_hit_in_a_table_carries_its_title_unit_and_columns(context):
    hits = call(context, "grep", pattern="^Total revenue", doc_ids=["ADOBE_2022Q2_10Q"])
    assert (
        "p.4 l.163: Total revenue | 4,816 | 4,386 | 9,471 | 8,648\n    [table: CONDENSED CONSOLIDATED STATEMENTS OF INCOME; "
        "In millions, except per share data; columns: Three Months Ended | Six Months Ended / June 2, 2023 | June 3, 2022 | "
        "June 2, 2023 | June 3, 2022; in Income Statement; row under 'Revenue']"
    ) in hits
    segments = call(context, "grep", pattern="^Aeronautics \\|", doc_ids=["LOCKHEEDMARTIN_2022Q2_10Q"], max_results=2)
    assert "row under 'Net sales'" in segments and "[row under 'Operating profit']" in segments and "in Note 3" in segments
