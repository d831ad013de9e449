"""POST /v1/documents/fetch against a local fake EDGAR: a job with progress events, EDGAR's metadata, bad input."""

from __future__ import annotations

import pytest

from corpus.settings import CorpusSettings
from tests.api.conftest import make_keys, sse, wait_for
from tests.corpus.test_edgar import BUCKLE_8K, SHARED_EDGAR
from tests.fakes.fake_edgar import recorded_edgar


@pytest.fixture
def edgar(monkeypatch):
    if not (SHARED_EDGAR / "BUCKLE_2024-11-22_8K.htm").is_file():
        pytest.skip(f"EDGAR filings not found at {SHARED_EDGAR}")
    with recorded_edgar(SHARED_EDGAR) as fake:
        fake.env(monkeypatch)
        yield fake


def test_fetch_job_reports_progress_and_ingests_with_edgar_metadata(make_client, edgar, tmp_path):
    settings = CorpusSettings(data_dir=tmp_path / "data", ingest_workers=1)
    with make_client(settings) as client:
        job = client.post("/v1/documents/fetch", json={"company": "BKE", "forms": ["8-K"], "years": "2024"})
        assert job.status_code == 202, job.text
        run = wait_for(client, job.json()["id"])
        assert run["mode"] == "fetch" and run["status"] == "done", run
        assert (
            "BUCKLE INC" in run["result"]["summary"] and "404" in run["error"]
        )  # the fake lacks one 8-K: named, the rest goes on
        events = sse(client.get(f"/v1/runs/{run['id']}/events").text)
        kinds = [e["event"] for e in events]
        assert (
            "fetch_company" in kinds
            and "fetch_plan" in kinds
            and "ingest_progress" in kinds
            and kinds.index("index") > kinds.index("ingest_progress")
        )
        docs = {d["doc_id"]: d for d in client.get("/v1/documents", params={"company": "BKE"}).json()["data"]}
        release = docs[f"BKE_2024-11-22_8K_{BUCKLE_8K}_EX99-1"]
        assert (release["company"], release["ticker"], release["form_type"]) == ("BUCKLE INC", "BKE", "earnings release")
        hits = client.post("/v1/runs", json={"question": "x", "mode": "rag", "filters": {"doc_ids": [release["doc_id"]]}})
        assert hits.status_code == 202  # the fetched filing is a valid scope for a run

        again = wait_for(
            client, client.post("/v1/documents/fetch", json={"company": "bke", "forms": ["8-K"], "years": "2024"}).json()["id"]
        )
        assert again["result"]["skipped"] == [BUCKLE_8K]


def test_fetch_bad_input(make_client, edgar, tmp_path, sleuth_env):
    settings = CorpusSettings(data_dir=tmp_path / "data", ingest_workers=1)
    with make_client(settings) as client:
        bad_form = client.post("/v1/documents/fetch", json={"company": "AMZN", "forms": ["S-1"]})
        assert bad_form.status_code == 422 and "use 10-K, 10-Q, 8-K" in bad_form.json()["detail"]
        bad_years = client.post("/v1/documents/fetch", json={"company": "AMZN", "years": "2024-2021"})
        assert bad_years.status_code == 422 and "backwards" in bad_years.json()["detail"]
        unknown = wait_for(
            client, client.post("/v1/documents/fetch", json={"company": "AMZM", "forms": ["10-K"], "years": "2023"}).json()["id"]
        )
        assert (
            unknown["status"] == "failed"
            and "unknown ticker 'AMZM'" in unknown["error"]
            and "AMZN (AMAZON COM INC)" in unknown["error"]
        )
        empty = wait_for(
            client, client.post("/v1/documents/fetch", json={"company": "AMZN", "forms": ["10-K"], "years": "2016"}).json()["id"]
        )
        assert empty["status"] == "failed" and "no 10-K with a period of report in 2016" in empty["error"]
        edgar.faults["/submissions/CIK0000885245.json"] = ["403"]
        denied = wait_for(
            client, client.post("/v1/documents/fetch", json={"company": "BKE", "forms": ["8-K"], "years": "2024"}).json()["id"]
        )
        assert denied["status"] == "failed" and "403 Forbidden" in denied["error"] and "User-Agent" in denied["error"]
        sleuth_env(SLEUTH_EDGAR_USER_AGENT=None)
        no_ua = client.post("/v1/documents/fetch", json={"company": "AMZN"})
        assert no_ua.status_code == 503 and "SLEUTH_EDGAR_USER_AGENT is not set" in no_ua.json()["detail"]


def test_fetch_needs_an_admin_key(make_client, edgar, tmp_path):
    settings = CorpusSettings(data_dir=tmp_path / "data", ingest_workers=1)
    keys = make_keys(settings, "analyst", "ops", admin=("ops",))
    with make_client(settings) as client:
        body = {"company": "BKE", "forms": ["8-K"], "years": "2024"}
        assert client.post("/v1/documents/fetch", json=body).status_code == 401
        refused = client.post("/v1/documents/fetch", json=body, headers=keys["analyst"])
        assert refused.status_code == 403 and "sleuth keys create NAME --admin" in refused.json()["detail"]
        job = client.post("/v1/documents/fetch", json=body, headers=keys["ops"])
        assert job.status_code == 202
        assert wait_for(client, job.json()["id"], headers=keys["ops"])["status"] == "done"
        assert edgar.log, "the admin's fetch reached EDGAR"
