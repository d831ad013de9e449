"""API keys and limits, documents (catalog, outline, pages, upload jobs, delete), health, metrics, restarts, PostgreSQL."""

from __future__ import annotations

from typer.testing import CliRunner

from agent.events import Event
from api.cli import app as cli
from api.models import migrate
from api.run_store import RunStore
from corpus.catalog import Corpus
from tests.agent.test_research import answer
from tests.api.conftest import wait_for
from tests.corpus.samples import TEN_K_PAGES
from tests.fakes.fake_llm import Reply


def test_keys_required_once_one_exists_and_revocation(make_client, fake_llm, small_corpus, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(small_corpus.data_dir), SLEUTH_DATABASE_URL=small_corpus.resolved_database_url)
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "reporting"], catch_exceptions=False)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("slk_") and "cannot be shown again" in created.stderr
    listing = runner.invoke(cli, ["keys", "list"]).stdout
    assert secret[:12] in listing and secret not in listing and "active" in listing

    with make_client(small_corpus) as client:
        missing = client.get("/v1/documents")
        assert missing.status_code == 401 and "sleuth keys create" in missing.json()["detail"]
        assert client.get("/v1/documents", headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = client.get("/v1/documents", headers={"Authorization": f"Bearer {secret}"})
        assert ok.status_code == 200 and ok.json()["count"] == 1
        assert client.get("/healthz").status_code == 200  # probes need no key
        assert runner.invoke(cli, ["keys", "revoke", secret[:12]]).exit_code == 0
        assert client.get("/v1/documents", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_serve_refuses_a_public_address_without_keys(tmp_path, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(tmp_path / "data"), SLEUTH_DATABASE_URL=None)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "sleuth keys create NAME" in result.stderr


def test_rate_and_concurrency_limits_answer_429_with_retry_after(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(lambda body: Reply(content="slow", delay_s=3))
    with make_client(small_corpus, key_rate_per_minute=5) as client:
        codes = [client.get("/v1/documents").status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        limited = client.get("/v1/documents")
        assert int(limited.headers["retry-after"]) >= 1 and "5 requests per minute" in limited.json()["detail"]

    corpus = Corpus.open(small_corpus)
    migrate(corpus.engine)
    _, secret = RunStore(corpus.sessions).create_key("batch")
    corpus.close()
    auth = {"Authorization": f"Bearer {secret}"}
    with make_client(small_corpus, key_max_running=1) as client:
        assert client.post("/v1/runs", json={"question": "Revenue?", "mode": "agentic"}, headers=auth).status_code == 202
        second = client.post("/v1/runs", json={"question": "Revenue?", "mode": "agentic"}, headers=auth)
        assert second.status_code == 429 and second.headers["retry-after"] == "10"


def test_documents_outline_pages_upload_and_delete(make_client, fake_llm, small_corpus, tmp_path):
    with make_client(small_corpus, upload_max_mb=1) as client:
        docs = client.get("/v1/documents", params={"form": "10-K"}).json()
        assert [d["doc_id"] for d in docs["data"]] == ["ACME_2022_10K"] and docs["data"][0]["fiscal_year"] == 2022
        detail = client.get("/v1/documents/ACME_2022_10K").json()
        assert any(s["key"] == "Item 7" and s["start_page"] == 4 for s in detail["sections"])
        page = client.get("/v1/documents/ACME_2022_10K/pages/4").json()
        assert page["page_count"] == len(TEN_K_PAGES) and any("$1,577 million" in line["text"] for line in page["lines"])
        assert client.get("/v1/documents/ACME_2022_10K/pages/99").json()["detail"].startswith("ACME_2022_10K has pages 1-")
        assert "closest: ACME_2022_10K" in client.get("/v1/documents/ACME_2022_10Q").json()["detail"]

        filing = (
            "GLOBEX CORPORATION\nFORM 10-K\nFor the fiscal year ended December 31, 2023\n"
            "Item 7. Management's Discussion and Analysis\nRevenue was $2,400 million.\n"
        )
        job = client.post("/v1/documents", files=[("files", ("GLOBEX_2023_10K.txt", filing.encode(), "text/plain"))])
        assert job.status_code == 202, job.text
        done = wait_for(client, job.json()["id"])
        assert done["status"] == "done" and done["result"]["files"][0]["status"] == "added"
        progress = [
            e
            for e in client.get(f"/v1/runs/{done['id']}/events", params={"format": "json"}).json()
            if e["type"] == "ingest_progress"
        ]
        assert progress[0]["data"]["done"] == 1 and progress[0]["data"]["total"] == 1
        assert client.get("/v1/documents").json()["count"] == 2

        bad = [
            (
                ("evil.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "application/pdf"),
                415,
                "named like pdf but its content is binary data",
            ),
            (("../../etc/passwd.txt", b"root", "text/plain"), 400, "is not allowed: use a plain name"),
            (("notes.docx", b"PK\x03\x04", "application/zip"), 415, ".docx is not a filing type"),
            (("big.txt", b"a" * (1 << 20) + b"b", "text/plain"), 413, "larger than 1 MB"),
            (("empty.txt", b"", "text/plain"), 400, "empty.txt is empty"),
        ]
        for file, status, message in bad:
            reply = client.post("/v1/documents", files=[("files", file)])
            assert reply.status_code == status and message in reply.json()["detail"], (file[0], reply.text)
        mixed = client.post(
            "/v1/documents",
            files=[
                ("files", ("OK_2023_10K.txt", b"fine text", "text/plain")),
                ("files", ("bad.pdf", b"not a pdf", "application/pdf")),
            ],
        )
        assert mixed.status_code == 415
        assert client.get("/v1/documents").json()["count"] == 2, "nothing of a rejected upload is kept"
        assert not list((small_corpus.data_dir / "uploads").glob("*/OK_2023_10K.txt"))

        assert client.delete("/v1/documents/GLOBEX_2023_10K").json() == {"deleted": "GLOBEX_2023_10K"}
        assert client.get("/v1/documents/GLOBEX_2023_10K").status_code == 404
        assert client.delete("/v1/documents/GLOBEX_2023_10K").status_code == 404


def test_readiness_reports_each_dependency_and_metrics_count_runs(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(
        lambda body: answer("Revenue was $1,577 million.", {"doc_id": "ACME_2022_10K", "page": 4, "quote": "$1,577 million"})
    )
    with make_client(small_corpus) as client:
        ready = client.get("/readyz")
        checks = ready.json()["checks"]
        assert checks["database"]["ok"] and checks["llm"]["ok"] and checks["llm"]["embedded"] is False
        assert not checks["index"]["ok"] and "sleuth index" in checks["index"]["error"] and ready.status_code == 503
        wait_for(client, client.post("/v1/runs", json={"question": "What was ACME's revenue?", "mode": "agentic"}).json()["id"])
        text = client.get("/metrics").text
        assert 'sleuth_runs_total{mode="agentic",status="answered"} 1.0' in text
        assert 'sleuth_http_requests_total{code="202",route="create_run"} 1.0' in text
        assert 'sleuth_llm_tokens_total{kind="prompt",mode="agentic"}' in text and "sleuth_run_latency_seconds_bucket" in text
    fake_llm.stop()
    with make_client(small_corpus) as client:
        llm = client.get("/readyz").json()["checks"]["llm"]
        assert not llm["ok"] and "unreachable" in llm["error"]


def test_a_restart_loses_nothing_and_marks_runs_in_flight_interrupted(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(lambda body: Reply(content="thinking", delay_s=5))
    with make_client(small_corpus) as client:
        run_id = client.post("/v1/runs", json={"question": "What was ACME's revenue?"}).json()["id"]
        while not any(
            e["type"] == "run_started" for e in client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()
        ):
            pass
        before = client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()
    # The server stopped mid-run (lifespan shutdown); a process killed outright is found by the next start instead.
    corpus = Corpus.open(small_corpus)
    store = RunStore(corpus.sessions)
    killed = store.create_run(mode="rag", question="q", filters=None, model="m", budgets=None, key_id=None)
    store.mark_running(killed.id)
    store.append(killed.id, Event("status", {"status": "running"}))
    elsewhere = store.create_run(mode="rag", question="q", filters=None, model="m", budgets=None, key_id=None)
    with corpus.sessions.begin() as session:  # executing in a live process on another replica: not ours to interrupt
        session.get(type(elsewhere), elsewhere.id).owner = "other-replica:1"
    corpus.close()
    with make_client(small_corpus) as client:
        run = client.get(f"/v1/runs/{run_id}").json()
        assert run["status"] == "interrupted" and "server stopped" in run["error"]
        after = client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()
        assert after[: len(before)] == before and after[-1]["data"]["status"] == "interrupted"
        revived = client.get(f"/v1/runs/{killed.id}").json()
        assert revived["status"] == "interrupted"
        replay = client.get(f"/v1/runs/{killed.id}/events", params={"format": "json"}).json()
        assert [e["data"]["status"] for e in replay] == ["running", "interrupted"]
        assert client.get(f"/v1/runs/{elsewhere.id}").json()["status"] == "queued"
