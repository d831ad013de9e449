"""The API on the embedded model (a stand-in server that crashes like llama.cpp did): the run fails saying so, /readyz tells."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from corpus.catalog import Corpus
from corpus.ingest import ingest_paths
from corpus.settings import CorpusSettings
from embedded import endpoint, supervisor
from tests.api.conftest import wait_for
from tests.corpus.samples import TEN_K_PAGES, write_pdf
from tests.embedded.test_local_model import fake_model


def test_a_crashing_embedded_model_fails_the_run_with_the_reason_and_readyz_shows_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SLEUTH_LLM_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    settings = CorpusSettings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'catalog.db'}", ingest_workers=1)
    write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    corpus = Corpus.open(settings)
    try:
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"], workers=1).ok
    finally:
        corpus.close()
    said: list[str] = []
    monkeypatch.setattr(
        endpoint, "LocalModel", lambda data_dir=None, say=None: fake_model(tmp_path, mode="crash_on_chat", max_restarts=1)
    )
    monkeypatch.setattr("api.app._say", said.append)
    with TestClient(
        create_app(ApiSettings(port=8123), settings), base_url="http://127.0.0.1:8123", client=("127.0.0.1", 50000)
    ) as client:
        assert said and "open http://127.0.0.1:8123/" in said[-1] and "embedded model" in said[-1]
        llm = client.get("/readyz").json()["checks"]["llm"]
        assert llm["ok"] and llm["embedded"] and llm["server"]["state"] == "running" and llm["server"]["restarts"] == 0

        run = wait_for(client, client.post("/v1/runs", json={"question": "What was ACME's revenue?"}).json()["id"])
        assert run["status"] == "failed" and "was killed by SIGSEGV (a crash inside llama.cpp) during this call" in run["error"]
        events = client.get(f"/v1/runs/{run['id']}/events?format=json").json()
        assert any(e["type"] == "error" and "during this call" in e["data"]["message"] for e in events)
        deadline = time.monotonic() + 20
        # /readyz shares its checks for 2 s, so wait for the restart to show, not just for "running"
        while (llm := client.get("/readyz").json()["checks"]["llm"])["server"]["state"] != "running" or llm["server"][
            "restarts"
        ] < 1:
            assert time.monotonic() < deadline, llm
            time.sleep(0.1)
        assert llm["ok"] and llm["server"]["restarts"] == 1 and "SIGSEGV" in llm["server"]["last_crash"]["reason"]

        run = wait_for(client, client.post("/v1/runs", json={"question": "What was ACME's revenue?"}).json()["id"])
        assert run["status"] == "failed" and "stopped restarting it" in run["error"]
        deadline = time.monotonic() + 20
        while (ready := client.get("/readyz")).json()["checks"]["llm"]["server"]["state"] != "failed":
            assert time.monotonic() < deadline, ready.json()
            time.sleep(0.1)
        llm = ready.json()["checks"]["llm"]
        assert ready.status_code == 503 and not llm["ok"] and llm["server"]["state"] == "failed"
        assert "Sleuth stopped restarting it" in llm["error"] and "restart `sleuth serve`" in llm["error"]
        refused = client.post("/v1/runs", json={"question": "What was ACME's revenue?"})
        assert refused.status_code == 503 and "No model is configured" in refused.json()["detail"]
        assert "stopped restarting it" in refused.json()["detail"] and "SLEUTH_LLM_BASE_URL" in refused.json()["detail"]


def test_without_a_model_the_server_starts_and_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SLEUTH_LLM_BASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = CorpusSettings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'catalog.db'}", ingest_workers=1)
    write_pdf(tmp_path / "ACME_2022_10K.pdf", TEN_K_PAGES)
    corpus = Corpus.open(settings)
    try:
        assert ingest_paths(corpus, [tmp_path / "ACME_2022_10K.pdf"], workers=1).ok
    finally:
        corpus.close()

    def not_installed() -> None:
        raise supervisor.LocalModelError(
            "the embedded model needs llama-cpp-python's server (llama_cpp not installed); run: pip install x"
        )

    said: list[str] = []
    monkeypatch.setattr(supervisor, "check_server_installed", not_installed)
    monkeypatch.setattr("api.app._say", said.append)
    with TestClient(
        create_app(ApiSettings(port=8123), settings), base_url="http://127.0.0.1:8123", client=("127.0.0.1", 50000)
    ) as client:
        assert "open http://127.0.0.1:8123/" in said[-1] and "No model is configured" in said[-1]
        ready = client.get("/readyz")
        llm = ready.json()["checks"]["llm"]
        assert ready.status_code == 503 and llm == {"ok": False, "configured": False, "embedded": False, "error": llm["error"]}
        assert "llama_cpp not installed" in llm["error"] and "make run" in llm["error"] and "SLEUTH_LLM_BASE_URL" in llm["error"]
        for mode in ("agentic", "rag", "compare"):
            refused = client.post("/v1/runs", json={"question": "What was ACME's revenue?", "mode": mode})
            assert refused.status_code == 503 and refused.json()["detail"] == llm["error"]
        assert client.get("/v1/runs").json()["count"] == 0  # nothing was stored
        assert [d["doc_id"] for d in client.get("/v1/documents").json()["data"]] == ["ACME_2022_10K"]  # what needs no model works
        assert client.get("/v1/documents/ACME_2022_10K/pages/1").status_code == 200
        assert client.get("/healthz").json() == {"status": "ok"}
