"""Issue 14 items 2, 3, 11: one user cannot see, cancel or outvote another's runs, nor touch documents without an admin key;
uploads never silently replace a filing, and in open mode no other web page can change anything; uploads keep to the
key's quota and their own slots. On SQLite and PostgreSQL (small_corpus)."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from api.cli import app as cli
from tests.agent.test_research import answer
from tests.api.conftest import index_bm25, make_keys, wait_for
from tests.fakes.fake_llm import Reply

ACME = {"doc_id": "ACME_2022_10K", "page": 4, "quote": "$1,577 million"}
FILING = (
    "GLOBEX CORPORATION\nFORM 10-K\nFor the fiscal year ended December 31, 2023\n"
    "Item 7. Management's Discussion and Analysis\nRevenue was $2,400 million.\n"
)


def _answers(body: dict) -> Reply:
    if "ZZSLOW" in str(body["messages"]):
        return Reply(content="still thinking", delay_s=8)
    return answer("Revenue was $1,577 million.", ACME)


def test_runs_votes_and_documents_belong_to_their_key(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(_answers)
    keys = make_keys(small_corpus, "alice", "bob", "root", admin=("root",))
    alice, bob, root = keys["alice"], keys["bob"], keys["root"]
    index_bm25(small_corpus)  # both arms answer: votes count only such runs (issue 24 item 7)
    with make_client(small_corpus) as client:
        run_id = client.post("/v1/runs", json={"question": "What was ACME's revenue?", "mode": "compare"}, headers=alice).json()[
            "id"
        ]
        finished = wait_for(client, run_id, headers=alice)
        assert finished["result"]["agentic"]["status"] == "answered", finished

        # bob: the run does not exist for him, in every route
        assert client.get("/v1/runs", headers=bob).json()["count"] == 0
        for method, path in [
            ("get", f"/v1/runs/{run_id}"),
            ("get", f"/v1/runs/{run_id}/events"),
            ("get", f"/v1/runs/{run_id}/events?format=json"),
            ("post", f"/v1/runs/{run_id}/cancel"),
        ]:
            reply = getattr(client, method)(path, headers=bob)
            assert reply.status_code == 404 and "of yours" in reply.json()["detail"], (path, reply.text)
        stolen = client.post(f"/v1/runs/{run_id}/vote", json={"winner": "rag"}, headers=bob)
        assert stolen.status_code == 404
        assert "What was ACME" not in client.get("/v1/runs", params={"q": "ACME"}, headers=bob).text

        # alice sees her run; the admin sees everyone's
        assert [r["id"] for r in client.get("/v1/runs", headers=alice).json()["data"]] == [run_id]
        assert run_id in [r["id"] for r in client.get("/v1/runs", headers=root).json()["data"]]
        assert client.get(f"/v1/runs/{run_id}/events?format=json", headers=root).status_code == 200

        # 50 votes from one key count once, the last one standing
        for _ in range(49):
            assert client.post(f"/v1/runs/{run_id}/vote", json={"winner": "agentic"}, headers=alice).status_code == 201
        last = client.post(f"/v1/runs/{run_id}/vote", json={"winner": "rag", "note": "changed my mind"}, headers=alice)
        assert last.status_code == 201 and last.json()["winner"] == "rag"
        board = client.get("/v1/leaderboard", headers=bob).json()
        assert board["votes"] == 1
        rag = next(r for r in board["data"] if r["mode"] == "rag")
        assert rag["wins"] == 1 and rag["votes"] == 1
        assert client.post(f"/v1/runs/{run_id}/vote", json={"winner": "tie"}, headers=root).status_code == 201
        assert client.get("/v1/leaderboard", headers=bob).json()["votes"] == 2

        # bob cannot cancel alice's running run; she can
        fake_llm.respond_with(_answers)
        slow = client.post("/v1/runs", json={"question": "ZZSLOW: revenue?", "mode": "agentic"}, headers=alice).json()["id"]
        assert client.post(f"/v1/runs/{slow}/cancel", headers=bob).status_code == 404
        assert client.get(f"/v1/runs/{slow}", headers=alice).json()["status"] in {"queued", "running"}
        assert client.post(f"/v1/runs/{slow}/cancel", headers=alice).json()["status"] == "cancelled"

        # documents: reading is for every key, changing needs an admin key
        assert client.get("/v1/documents", headers=bob).json()["count"] == 1
        upload = client.post(
            "/v1/documents", files=[("files", ("GLOBEX_2023_10K.txt", FILING.encode(), "text/plain"))], headers=bob
        )
        assert upload.status_code == 403 and "sleuth keys create NAME --admin" in upload.json()["detail"]
        replaced = client.post(
            "/v1/documents?replace=true", files=[("files", ("ACME_2022_10K.txt", b"forged", "text/plain"))], headers=bob
        )
        assert replaced.status_code == 403
        assert client.delete("/v1/documents/ACME_2022_10K", headers=bob).status_code == 403
        assert client.get("/v1/documents/ACME_2022_10K", headers=bob).status_code == 200
        job = client.post(
            "/v1/documents", files=[("files", ("GLOBEX_2023_10K.txt", FILING.encode(), "text/plain"))], headers=root
        )
        assert job.status_code == 202 and wait_for(client, job.json()["id"], headers=root)["status"] == "done"
        assert client.get(f"/v1/runs/{job.json()['id']}", headers=bob).status_code == 404  # the job is root's
        assert client.delete("/v1/documents/GLOBEX_2023_10K", headers=root).json() == {"deleted": "GLOBEX_2023_10K"}


def test_keys_show_their_role(small_corpus, sleuth_env):
    sleuth_env(SLEUTH_DATA_DIR=str(small_corpus.data_dir), SLEUTH_DATABASE_URL=small_corpus.resolved_database_url)
    runner = CliRunner()
    admin = runner.invoke(cli, ["keys", "create", "ops", "--admin"])
    user = runner.invoke(cli, ["keys", "create", "analyst"])
    assert admin.exit_code == 0 and "admin key" in admin.stderr and user.exit_code == 0 and "user key" in user.stderr
    rows = [line.split("\t") for line in runner.invoke(cli, ["keys", "list"]).stdout.splitlines()]
    assert {(r[2], r[3]) for r in rows} == {("ops", "admin"), ("analyst", "user")}


def test_upload_never_replaces_a_filing_unless_asked(make_client, fake_llm, small_corpus):
    with make_client(small_corpus) as client:
        before = client.get("/v1/documents/ACME_2022_10K/pages/1").json()["lines"]
        forged = [("files", ("ACME_2022_10K.txt", b"ACME CORP\nRevenue was $9,999 million (forged).\n", "text/plain"))]
        refused = client.post("/v1/documents", files=forged)
        assert refused.status_code == 409, refused.text
        assert "already in the catalog: ACME_2022_10K" in refused.json()["detail"] and "replace=true" in refused.json()["detail"]
        assert client.get("/v1/documents/ACME_2022_10K/pages/1").json()["lines"] == before
        assert client.get("/v1/runs").json()["count"] == 0, "a refused upload starts no job"
        assert not any((small_corpus.data_dir / "uploads").glob("*/ACME_2022_10K.txt"))

        job = client.post("/v1/documents", files=forged, data={"replace": "true"})  # as a form field
        assert job.status_code == 202, job.text
        done = wait_for(client, job.json()["id"])
        assert done["status"] == "done" and done["result"]["files"][0]["status"] == "updated", done
        assert "9,999" in str(client.get("/v1/documents/ACME_2022_10K/pages/1").json()["lines"])
        again = client.post(
            "/v1/documents?replace=true",
            files=[("files", ("ACME_2022_10K.txt", b"ACME CORP\nRevenue: $1 million.\n", "text/plain"))],
        )
        assert again.status_code == 202 and wait_for(client, again.json()["id"])["status"] == "done"
        assert client.post("/v1/documents?replace=maybe", files=forged).status_code == 422


def test_open_server_refuses_other_sites_and_rebound_hosts(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(lambda body: answer("Revenue was $1,577 million.", ACME))
    forged = [("files", ("ACME_2022_10K.txt", b"ACME CORP\nRevenue was $9,999 million.\n", "text/plain"))]
    with make_client(small_corpus) as client:
        before = client.get("/v1/documents/ACME_2022_10K/pages/1").json()["lines"]
        evil = {"Origin": "https://evil.example"}
        for reply in [
            client.post("/v1/documents?replace=true", files=forged, headers=evil),
            client.post("/v1/runs", json={"question": "Revenue?"}, headers=evil),
            client.delete("/v1/documents/ACME_2022_10K", headers=evil),
            client.delete("/v1/documents/ACME_2022_10K", headers={"Sec-Fetch-Site": "cross-site"}),
            client.post("/v1/runs", json={"question": "Revenue?"}, headers={"Origin": "null"}),
            client.post("/v1/runs", json={"question": "Revenue?"}, headers={"Origin": "http://127.0.0.1:9999"}),
        ]:
            assert reply.status_code == 403 and "refused" in reply.json()["detail"], reply.text
        # DNS rebinding: evil.example resolves to 127.0.0.1, so the browser sends Host: evil.example (any method)
        for method in ("get", "post"):
            rebound = getattr(client, method)(
                "/v1/runs", headers={"Host": "evil.example:8000"}, **({"json": {"question": "x"}} if method == "post" else {})
            )
            assert rebound.status_code == 403 and "is not this server's" in rebound.json()["detail"]
        assert client.get("/v1/documents/ACME_2022_10K/pages/1").json()["lines"] == before
        assert client.get("/v1/runs").json()["count"] == 0

        # its own pages (same origin) and clients that are not browsers (no Origin) still work
        own = client.post(
            "/v1/runs",
            json={"question": "What was ACME's revenue?"},
            headers={"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"},
        )
        assert own.status_code == 202, own.text
        assert client.post("/v1/runs", json={"question": "What was ACME's revenue?"}).status_code == 202
        assert client.get("/v1/runs", headers={"Host": "localhost:8000"}).status_code == 200
    with make_client(small_corpus, client=("203.0.113.9", 4000)) as outsider:
        refused = outsider.get("/v1/runs")
        assert refused.status_code == 403 and "answers only this machine" in refused.json()["detail"]


def test_uploads_keep_to_the_key_quota_and_do_not_take_run_slots(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(_answers)
    root = make_keys(small_corpus, "root", admin=("root",))["root"]
    with make_client(small_corpus, max_running=1, key_max_running=2) as client:
        busy = client.post("/v1/runs", json={"question": "ZZSLOW: revenue?"}, headers=root).json()["id"]
        _running(client, busy, root)
        job = client.post(
            "/v1/documents", files=[("files", ("GLOBEX_2023_10K.txt", FILING.encode(), "text/plain"))], headers=root
        )
        assert job.status_code == 202
        done = wait_for(client, job.json()["id"], timeout=20, headers=root)
        assert done["status"] == "done", done
        assert client.get(f"/v1/runs/{busy}", headers=root).json()["status"] == "running", (
            "the upload ran beside the run, in its own slot"
        )

        queued = client.post("/v1/runs", json={"question": "ZZSLOW: again?"}, headers=root)
        assert queued.status_code == 202  # the key now has 2 in flight
        over = client.post(
            "/v1/documents", files=[("files", ("INITECH_2023_10K.txt", FILING.encode(), "text/plain"))], headers=root
        )
        assert over.status_code == 429 and "runs or uploads queued or running" in over.json()["detail"]
        assert over.headers["retry-after"] == "10"
        for run in (busy, queued.json()["id"]):
            client.post(f"/v1/runs/{run}/cancel", headers=root)
    with make_client(small_corpus, max_running=1, max_queued=1) as client:
        first = client.post("/v1/runs", json={"question": "ZZSLOW: one?"}, headers=root).json()["id"]
        _running(client, first, root)
        second = client.post("/v1/runs", json={"question": "ZZSLOW: two?"}, headers=root).json()["id"]
        full = client.post(
            "/v1/documents", files=[("files", ("INITECH_2023_10K.txt", FILING.encode(), "text/plain"))], headers=root
        )
        assert full.status_code == 503 and "queue is full" in full.json()["detail"]
        for run in (first, second):
            client.post(f"/v1/runs/{run}/cancel", headers=root)


def _running(client, run_id: str, headers: dict) -> None:
    deadline = time.monotonic() + 10
    while client.get(f"/v1/runs/{run_id}", headers=headers).json()["status"] != "running":
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.05)
