"""The `sleuth` CLI as a user runs it: ingest, docs, outline, rm, with exit codes and messages."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.corpus.samples import TEN_K_PAGES, write_image_only_pdf, write_pdf


@pytest.fixture
def run(tmp_path, monkeypatch, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(tmp_path / "data"), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def test_ingest_docs_outline_rm_round_trip(run, tmp_path):
    filings = tmp_path / "filings"
    filings.mkdir()
    write_pdf(filings / "ACME_2022_10K.pdf", TEN_K_PAGES)
    (filings / "readme.rtf").write_text("{\\rtf1}")

    result = run("ingest", str(filings))
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output and "1 skipped" in result.output
    assert "skipped: " in result.output and "readme.rtf" in result.output

    again = run("ingest", str(filings))
    assert "1 unchanged" in again.output and again.exit_code == 0

    listing = run("docs", "--form", "10-K")
    assert "ACME_2022_10K" in listing.output and "FY2022" in listing.output and "1 documents" in listing.output
    assert (
        "dense: 0 of 1 filings; background embedding is off (SLEUTH_EMBEDDING_BACKGROUND=false): run `sleuth index`"
        in listing.output
    )
    record = json.loads(run("docs", "--json").output.splitlines()[0])
    assert record["doc_id"] == "ACME_2022_10K" and record["pages"] == len(TEN_K_PAGES)

    outline = run("outline", "ACME_2022_10K")
    assert "Item 7: Management's Discussion and Analysis | page 4 |" in outline.output

    wrong = run("outline", "ACME_2019_10K")  # a year the corpus does not hold: the closest are named
    assert wrong.exit_code == 1 and "ACME_2022_10K" in wrong.output
    near = run("outline", "ACME_2022_10")  # a near miss: what the agent gets, the one filing it can mean
    assert near.exit_code == 0 and "use doc_id='ACME_2022_10K'" in near.output

    assert run("rm", "ACME_2022_10K").exit_code == 0
    assert "no documents match" in run("docs").output


def test_failures_set_the_exit_code_and_name_the_file(run, tmp_path):
    write_image_only_pdf(tmp_path / "scan.pdf")
    write_pdf(tmp_path / "ok.pdf", ["Revenue 100"])
    result = run("ingest", str(tmp_path / "scan.pdf"), str(tmp_path / "ok.pdf"))
    assert result.exit_code == 1
    assert "failed: " in result.output and "scan.pdf: image-only PDF" in result.output
    assert "1 added" in result.output and "1 failed" in result.output


def test_bad_flags_are_refused_with_the_accepted_values(run, tmp_path):
    write_pdf(tmp_path / "ok.pdf", ["Revenue 100"])
    bad_form = run("ingest", str(tmp_path / "ok.pdf"), "--form", "20-F")
    assert bad_form.exit_code == 2 and "10-K, 10-Q, 8-K" in bad_form.output
    bad_period = run("ingest", str(tmp_path / "ok.pdf"), "--period", "H1")
    assert bad_period.exit_code == 2 and "FY, Q1, Q2, Q3 or Q4" in bad_period.output
    write_pdf(tmp_path / "other.pdf", ["Revenue 200"])
    two_files = run("ingest", str(tmp_path), "--doc-id", "x")
    assert two_files.exit_code == 2 and "single file" in two_files.output
    assert run("docs", "--form", "S-1").exit_code == 2


def test_ingesting_a_folder_that_holds_the_data_dir_skips_the_store(run, tmp_path):
    write_pdf(tmp_path / "ok.pdf", ["Revenue 100"])
    assert "1 added" in run("ingest", str(tmp_path)).output
    second = run("ingest", str(tmp_path))  # data/text/ok.txt now exists under tmp_path
    assert "1 unchanged" in second.output and "added" not in second.output
