"""`sleuth fetch` as a user runs it, against a local fake EDGAR: messages, exit codes, then search over what came in."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.corpus.test_edgar import SHARED_EDGAR
from tests.fakes.fake_edgar import recorded_edgar


@pytest.fixture
def run(tmp_path, monkeypatch, sleuth_env):
    if not (SHARED_EDGAR / "AMAZON_FY2023_10K.htm").is_file():
        pytest.skip(f"EDGAR filings not found at {SHARED_EDGAR}")
    sleuth_env(SLEUTH_DATA_DIR=str(tmp_path / "data"), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)
    with recorded_edgar(SHARED_EDGAR) as fake:
        fake.env(monkeypatch)
        runner = CliRunner()
        yield lambda *args: runner.invoke(app, list(args), catch_exceptions=False), fake, monkeypatch


def test_fetch_ingests_indexes_and_skips_next_time(run):
    invoke, fake, _ = run
    result = invoke("fetch", "AMZN", "--forms", "10-K", "--years", "2023")
    assert result.exit_code == 0, result.output
    assert "AMAZON COM INC (CIK 0001018724, AMZN)" in result.output
    assert "[1/1] added AMZN_2023-12-31_10K_0001018724-24-000008" in result.output and "index: 1 added" in result.output
    found = invoke("search", "total net sales", "--company", "AMZN", "--mode", "bm25", "-k", "1")
    assert "AMZN_2023-12-31_10K_0001018724-24-000008" in found.output
    again = invoke("fetch", "AMZN", "--forms", "10-K", "--years", "2023")
    assert again.exit_code == 0 and "1 already in the catalog, 0 to fetch" in again.output


def test_fetch_bad_input(run):
    invoke, fake, monkeypatch = run
    unknown = invoke("fetch", "AMZM", "--forms", "10-K", "--years", "2023")
    assert unknown.exit_code == 1 and "unknown ticker 'AMZM'" in unknown.output and "AMZN (AMAZON COM INC)" in unknown.output
    none = invoke("fetch", "AMZN", "--forms", "10-K", "--years", "2016")
    assert none.exit_code == 1 and "no 10-K with a period of report in 2016 (its 10-K filings cover 2020-2023)" in none.output
    form = invoke("fetch", "AMZN", "--forms", "S-1")
    assert form.exit_code == 2 and "use 10-K, 10-Q, 8-K" in form.output
    fake.faults["/submissions/CIK0000885245.json"] = ["403"]  # the ticker list is cached by now
    denied = invoke("fetch", "BKE", "--forms", "8-K", "--years", "2024")
    assert denied.exit_code == 1 and "403 Forbidden" in denied.output and "User-Agent is missing or generic" in denied.output
    monkeypatch.delenv("SLEUTH_EDGAR_USER_AGENT")
    requests = len(fake.log)
    no_ua = invoke("fetch", "AMZN")
    assert (
        no_ua.exit_code == 2
        and "SLEUTH_EDGAR_USER_AGENT is not set" in no_ua.output
        and 'export SLEUTH_EDGAR_USER_AGENT="' in no_ua.output
    )
    assert len(fake.log) == requests
