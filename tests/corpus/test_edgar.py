"""`sleuth fetch` against a local fake EDGAR: metadata from the submissions JSON, resume, skips, and each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.catalog import Corpus
from corpus.edgar import (
    EdgarForbidden,
    EdgarSettings,
    EdgarSetupError,
    NoFilings,
    UnknownCompany,
    fetch_filings,
    parse_forms,
    parse_years,
)
from corpus.edgar.client import Pace, check_user_agent
from corpus.edgar.filings import exhibit_991, parse_submissions, parse_tickers, select, suggest_tickers
from corpus.settings import CorpusSettings
from tests.conftest import REPO_ROOT
from tests.fakes.fake_edgar import FIXTURES, FakeEdgar, recorded_edgar

SHARED_EDGAR = REPO_ROOT.parent / "shared" / "edgar"
BUCKLE_8K = "0000885245-24-000040"


@pytest.fixture
def shared_edgar() -> Path:
    if not (SHARED_EDGAR / "BUCKLE_2024-11-22_8K.htm").is_file():
        pytest.skip(f"EDGAR filings not found at {SHARED_EDGAR}")
    return SHARED_EDGAR


@pytest.fixture
def corpus(tmp_path):
    c = Corpus.open(CorpusSettings(data_dir=tmp_path / "data"))
    yield c
    c.close()


@pytest.fixture
def edgar(monkeypatch, shared_edgar):
    with recorded_edgar(shared_edgar) as fake:
        fake.env(monkeypatch)
        yield fake


# --- EDGAR's metadata, parsed ---


def test_submissions_and_selection():
    company, filings, pages = parse_submissions(json.loads((FIXTURES / "CIK0001018724.json").read_text()))
    assert (company.cik, company.name, company.ticker) == ("0001018724", "AMAZON COM INC", "AMZN")
    assert pages[0]["name"] == "CIK0001018724-submissions-001.json"
    chosen = select(filings, ["10-K"], range(2021, 2024))
    assert [f.accession for f in chosen] == ["0001018724-22-000005", "0001018724-23-000004", "0001018724-24-000008"]
    assert all(f.form == "10-K" for f in select(filings, ["10-K"], range(2020, 2021)))  # the 10-K/A is left out
    earnings = [f for f in filings if f.is_earnings_release]
    assert [f.accession for f in earnings] == ["0001018724-24-000005"]


def test_exhibit_from_the_filing_index():
    index = (FIXTURES / f"{BUCKLE_8K}-index.htm").read_text()
    assert exhibit_991(index) == "/Archives/edgar/data/885245/000088524524000040/bke20241122-8kexhibit.htm"
    assert (
        exhibit_991("<html><table><tr><td>1</td><td>8-K</td><td><a href='a.htm'>a</a></td><td>8-K</td></tr></table></html>")
        is None
    )


def test_ticker_suggestions():
    tickers = parse_tickers(json.loads((FIXTURES / "company_tickers.json").read_text()))
    assert tickers["AMZN"].cik == "0001018724"
    assert any(s.startswith("AMZN") for s in suggest_tickers("AMZM", tickers))
    assert any(s.startswith("AMZN") for s in suggest_tickers("amazon", tickers))


def test_forms_years_and_user_agent_are_checked():
    assert parse_forms("10-K, 10q,8K,10-K") == ["10-K", "10-Q", "8-K"]
    with pytest.raises(EdgarSetupError, match="use 10-K, 10-Q, 8-K"):
        parse_forms("S-1")
    assert parse_years("2021-2024") == range(2021, 2025)
    assert parse_years("2023") == range(2023, 2024)
    assert parse_years(None, today_year=2026) == range(2024, 2027)
    for bad in ("2024-2021", "21-24", "1950"):
        with pytest.raises(EdgarSetupError):
            parse_years(bad)
    assert check_user_agent("Jane Doe  jane@example.com") == "Jane Doe jane@example.com"
    for bad in (None, "", "jane@example.com", "python-requests/2.32 x@y.com", "Sleuth research"):
        with pytest.raises(EdgarSetupError, match="SLEUTH_EDGAR_USER_AGENT"):
            check_user_agent(bad)


def test_pace_keeps_to_the_rate():
    import time

    pace, starts = Pace(), []
    for _ in range(12):
        pace.wait(50)
        starts.append(time.monotonic())
    assert starts[-1] - starts[0] >= 11 / 50 * 0.95


# --- fetch, end to end against the fake ---


def test_fetch_an_earnings_release_with_edgar_metadata_then_skip_it(corpus, edgar):
    report = fetch_filings(corpus, "bke", ["8-K"], range(2024, 2025), EdgarSettings())
    assert report.error is None
    # the 5.07 8-K is fetched without exhibit; the 2.02 one brings its EX-99.1
    ids = sorted(r.doc_id for r in report.results if r.status == "added")
    assert f"BKE_2024-11-22_8K_{BUCKLE_8K}_EX99-1" in ids and f"BKE_2024-11-22_8K_{BUCKLE_8K}" in ids
    release = corpus.get(f"BKE_2024-11-22_8K_{BUCKLE_8K}_EX99-1")
    assert (release.company, release.cik, release.ticker, release.form_type) == (
        "BUCKLE INC",
        "0000885245",
        "BKE",
        "earnings release",
    )
    assert (release.accession, str(release.filing_date), str(release.period_end_date)) == (BUCKLE_8K, "2024-11-22", "2024-11-22")
    assert release.metadata_sources["company"] == "override"
    from types import SimpleNamespace

    from retrieval.query import company_of

    assert {company_of(SimpleNamespace(doc_id=i, company="BUCKLE INC")) for i in ids} == {"bke"}  # one company to retrieval
    assert all("sleuth-tests@example.com" in s.user_agent for s in edgar.log)
    # the fake does not serve the 5.07 8-K: that filing is reported, the others go on
    [missing] = [r for r in report.results if r.status == "failed"]
    assert "0000885245-24-000031" in missing.reason and "404" in missing.reason and not report.ok
    assert "1 not on EDGAR" in report.summary() and "left" not in report.summary()

    folder = "/Archives/edgar/data/885245/000088524524000040/"
    fetched = len(edgar.paths(folder))
    again = fetch_filings(corpus, "BKE", ["8-K"], range(2024, 2025), EdgarSettings())
    assert again.skipped == [BUCKLE_8K] and len(edgar.paths(folder)) == fetched  # nothing of it asked for again
    assert "1 already in the catalog" in again.summary()


def test_fetch_a_10k_by_cik(corpus, edgar):
    report = fetch_filings(corpus, "1018724", ["10-K"], range(2023, 2024), EdgarSettings())
    assert report.ok and report.filings_done == 1
    doc = corpus.get("AMZN_2023-12-31_10K_0001018724-24-000008")
    assert (doc.company, doc.form_type, doc.fiscal_year, doc.accession) == (
        "AMAZON COM INC",
        "10-K",
        2023,
        "0001018724-24-000008",
    )
    assert "/files/company_tickers.json" not in edgar.paths("/files")  # a CIK needs no ticker lookup


def test_unknown_ticker_suggests_close_ones(corpus, edgar):
    with pytest.raises(UnknownCompany, match=r"unknown ticker 'AMZM'.*AMZN \(AMAZON COM INC\)"):
        fetch_filings(corpus, "AMZM", ["10-K"], range(2023, 2024), EdgarSettings())


def test_a_year_with_no_filings_of_that_form(corpus, edgar):
    with pytest.raises(NoFilings, match=r"no 10-K with a period of report in 2015-2016 \(its 10-K filings cover 2020-2023\)"):
        fetch_filings(corpus, "AMZN", ["10-K"], range(2015, 2017), EdgarSettings())
    older = "/submissions/CIK0001018724-submissions-001.json"  # filings of 1997-2012: no need to look
    assert not edgar.paths(older)
    with pytest.raises(NoFilings, match=r"no 10-K with a period of report in 2011"):
        fetch_filings(corpus, "AMZN", ["10-K"], range(2011, 2012), EdgarSettings())
    assert edgar.paths(older)  # looked at (the fake has no such page: a 404 means no more filings)


def test_403_says_the_user_agent_is_the_problem(corpus, edgar):
    edgar.faults["/files/company_tickers.json"] = ["403"]
    with pytest.raises(EdgarForbidden, match=r"403 Forbidden.*User-Agent is missing or generic.*SLEUTH_EDGAR_USER_AGENT"):
        fetch_filings(corpus, "AMZN", ["10-K"], range(2023, 2024), EdgarSettings())


def test_no_user_agent_is_refused_before_any_request(corpus, edgar, monkeypatch):
    monkeypatch.delenv("SLEUTH_EDGAR_USER_AGENT")
    with pytest.raises(EdgarSetupError, match=r"SLEUTH_EDGAR_USER_AGENT is not set.*export SLEUTH_EDGAR_USER_AGENT="):
        fetch_filings(corpus, "AMZN", ["10-K"], range(2023, 2024), EdgarSettings())
    assert edgar.log == []


def test_backoff_on_429_and_503(corpus, edgar):
    edgar.faults["/submissions/CIK0001018724.json"] = ["429", "503"]
    report = fetch_filings(corpus, "1018724", ["10-K"], range(2023, 2024), EdgarSettings())
    assert report.ok and edgar.paths("/submissions/CIK0001018724.json") == ["/submissions/CIK0001018724.json"] * 3


def test_network_error_mid_download_resumes_next_run_with_nothing_half_ingested(corpus, edgar):
    exhibit = "/Archives/edgar/data/885245/000088524524000040/bke20241122-8kexhibit.htm"
    edgar.faults[exhibit] = ["cut", "cut", "cut"]  # every try of this run is cut mid-body
    report = fetch_filings(corpus, "BKE", ["8-K"], range(2024, 2025), EdgarSettings(max_retries=2, backoff_s=0.01))
    assert report.error and BUCKLE_8K in report.error and "run the same command again" in report.error
    assert corpus.accessions() == set() and corpus.count() == 0  # neither the 8-K nor its exhibit is in the catalog
    folder = corpus.settings.data_dir / "edgar" / "0000885245" / BUCKLE_8K
    assert (
        (folder / "bke-20241122.htm").is_file()
        and not list(folder.glob("*.part"))
        and not (folder / "bke20241122-8kexhibit.htm").exists()
    )

    primary_gets = len(edgar.paths("/Archives/edgar/data/885245/000088524524000040/bke-20241122.htm"))
    resumed = fetch_filings(corpus, "BKE", ["8-K"], range(2024, 2025), EdgarSettings())
    assert BUCKLE_8K in corpus.accessions()
    assert (
        len(edgar.paths("/Archives/edgar/data/885245/000088524524000040/bke-20241122.htm")) == primary_gets
    )  # kept, not fetched again
    assert any(r.doc_id and r.doc_id.endswith("_EX99-1") and r.status == "added" for r in resumed.results)


def test_requests_stay_under_ten_per_second(corpus, edgar):
    fetch_filings(corpus, "BKE", ["8-K"], range(2024, 2025), EdgarSettings())
    times = [s.at for s in edgar.log]
    assert len(times) >= 4
    for i in range(len(times)):
        assert sum(1 for t in times[i:] if t - times[i] < 1.0) <= 10


def test_fake_refuses_generic_user_agents():
    import httpx

    with FakeEdgar(routes={"/x": b"ok"}) as fake:
        assert httpx.get(fake.url + "/x", headers={"User-Agent": "python-httpx"}).status_code == 403
