"""Issue 14 items 5, 9, 10, 12, 17: every input the API takes is bounded before it costs anything: bodies, files per
upload, model names and their clients, doc_id lists, event ids and offsets, bad keys; `q` is text, not a LIKE pattern.
Against the app on SQLite and PostgreSQL (small_corpus); the streamed-body caps against a real `sleuth serve` in
test_live_limits.py."""

from __future__ import annotations

import time

from api.auth import RateLimiter
from tests.agent.test_research import answer
from tests.api.conftest import make_keys, wait_for

ACME = {"doc_id": "ACME_2022_10K", "page": 4, "quote": "$1,577 million"}
QUESTION = "What was ACME's revenue?"


def test_bodies_and_files_per_upload_are_capped(make_client, fake_llm, small_corpus):
    with make_client(small_corpus, body_max_kb=64, upload_request_max_mb=2, upload_max_mb=1, upload_max_files=3) as client:
        huge = client.post("/v1/runs", json={"question": "x" * (30 << 20)})
        assert huge.status_code == 413 and "SLEUTH_API_BODY_MAX_KB" in huge.json()["detail"] and "64 KB" in huge.json()["detail"]
        streamed = client.post(
            "/v1/runs", content=iter([b'{"question": "', b"x" * (100 << 10), b'"}']), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413, "a body without Content-Length is counted as it streams"
        assert client.get("/v1/runs").json()["count"] == 0

        big = client.post("/v1/documents", files=[("files", ("BIG_2023_10K.txt", b"a" * (3 << 20), "text/plain"))])
        assert big.status_code == 413 and "SLEUTH_API_UPLOAD_REQUEST_MAX_MB" in big.json()["detail"]
        one = client.post("/v1/documents", files=[("files", ("BIG_2023_10K.txt", b"a" * ((1 << 20) + 10), "text/plain"))])
        assert one.status_code == 413 and "larger than 1 MB (SLEUTH_API_UPLOAD_MAX_MB)" in one.json()["detail"]
        many = client.post(
            "/v1/documents", files=[("files", (f"F{i}_2023_10K.txt", b"filing text", "text/plain")) for i in range(4)]
        )
        assert many.status_code == 413 and "more than 3 files" in many.json()["detail"]
        field = client.post("/v1/documents", files=[("files", ("F_2023_10K.txt", b"text", "text/plain"))], data={"colour": "red"})
        assert field.status_code == 400 and "unexpected form field 'colour'" in field.json()["detail"]
        wrong = client.post("/v1/documents", json={"files": []})
        assert wrong.status_code == 415 and "multipart/form-data" in wrong.json()["detail"]
        assert client.get("/v1/runs").json()["count"] == 0 and client.get("/v1/documents").json()["count"] == 1
        assert not any((small_corpus.data_dir / "uploads").glob("*/*")), "nothing of a refused upload is kept"
        three = client.post(
            "/v1/documents",
            files=[("files", (f"F{i}_2023_10K.txt", b"FORM 10-K\nfiling text\n", "text/plain")) for i in range(3)],
        )
        assert three.status_code == 202 and wait_for(client, three.json()["id"])["status"] == "done"


def test_model_must_be_offered_and_model_clients_are_bounded(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(lambda body: answer("Revenue was $1,577 million.", ACME))
    with make_client(small_corpus, models="m1,m2,m3,m4", model_clients=2) as client:
        services = client.app.state.services
        invented = client.post("/v1/runs", json={"question": QUESTION, "model": "gpt-invented"})
        assert invented.status_code == 422 and "'gpt-invented' is not offered" in invented.json()["detail"]
        assert "fake-model" in invented.json()["detail"] and "m1" in invented.json()["detail"]
        long = client.post("/v1/runs", json={"question": QUESTION, "model": "x" * 300})
        assert long.status_code == 422 and "at most 200 characters" in long.json()["detail"]
        for _ in range(30):
            assert client.post("/v1/runs", json={"question": QUESTION, "model": f"invented-{_}"}).status_code == 422
        assert services.endpoint.requests == 1, "the endpoint's model list is asked once per interval, not per request"
        listed = client.post("/v1/runs", json={"question": QUESTION, "model": "fake-model"})  # the endpoint lists it at /models
        assert listed.status_code == 202
        ids = [listed.json()["id"]] + [
            client.post("/v1/runs", json={"question": QUESTION, "model": m}).json()["id"] for m in ("m1", "m2", "m3", "m4")
        ]
        runs = [wait_for(client, i) for i in ids]
        assert [r["model"] for r in runs] == ["fake-model", "m1", "m2", "m3", "m4"] and all(
            r["status"] == "answered" for r in runs
        )
        assert services.model_clients() <= 2
        assert client.get("/v1/runs").json()["count"] == 5, "refused models stored nothing"
        assert {fake_llm.requests[-1]["model"]} <= {"m1", "m2", "m3", "m4", "fake-model"}


def test_doc_ids_are_capped_and_only_the_first_unknown_get_suggestions(make_client, fake_llm, small_corpus, monkeypatch):
    from corpus.catalog import Corpus

    calls = []
    suggest = Corpus.suggest
    monkeypatch.setattr(Corpus, "suggest", lambda self, doc_id, *a, **k: calls.append(doc_id) or suggest(self, doc_id, *a, **k))
    with make_client(small_corpus) as client:
        flood = client.post("/v1/runs", json={"question": QUESTION, "filters": {"doc_ids": [f"NOPE_{i}" for i in range(5000)]}})
        assert flood.status_code == 422 and "at most 100 items" in flood.json()["detail"] and len(flood.text) < 2000
        assert calls == []
        unknown = client.post(
            "/v1/runs", json={"question": QUESTION, "filters": {"doc_ids": [f"ACME_2022_10{i}" for i in range(100)]}}
        )
        detail = unknown.json()["detail"]
        assert (
            unknown.status_code == 422
            and "closest: ACME_2022_10K" in detail
            and "and 97 more unknown" in detail
            and len(detail) < 1000
        )
        assert len(calls) == 3
        ok = client.post("/v1/runs", json={"question": QUESTION, "filters": {"doc_ids": ["ACME_2022_10K"] * 100}})
        assert ok.status_code == 202


def test_event_ids_and_offsets_are_bounded(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(lambda body: answer("Revenue was $1,577 million.", ACME))
    with make_client(small_corpus) as client:
        run_id = client.post("/v1/runs", json={"question": QUESTION}).json()["id"]
        wait_for(client, run_id)
        for value in (10**20, 2**31, -1):
            for reply in [
                client.get(f"/v1/runs/{run_id}/events", params={"after": value}),
                client.get(f"/v1/runs/{run_id}/events", headers={"Last-Event-ID": str(value)}),
                client.get("/v1/runs", params={"offset": value}),
                client.get("/v1/documents", params={"offset": value}),
            ]:
                assert reply.status_code == 422, (value, reply.text)
        assert client.get(f"/v1/runs/{run_id}/events", params={"after": 2**31 - 1, "format": "json"}).json() == []
        assert (
            client.get(f"/v1/runs/{run_id}/events", headers={"Last-Event-ID": "2"}, params={"format": "json"}).json()[0]["seq"]
            == 3
        )
        assert client.get("/v1/runs", params={"offset": 1_000_000}).json()["data"] == []


def test_bad_keys_are_rate_limited_before_any_lookup(make_client, fake_llm, small_corpus):
    good = make_keys(small_corpus, "alice")["alice"]
    with make_client(small_corpus, bad_key_per_minute=5) as client:
        store = client.app.state.services.store
        lookups = []
        check = store.check_key
        store.check_key = lambda secret: lookups.append(1) or check(secret)
        codes = [client.get("/v1/documents", headers={"Authorization": f"Bearer slk_guess{i}"}).status_code for i in range(8)]
        assert codes == [401] * 5 + [429] * 3 and len(lookups) == 5, "past the limit a guess costs no database query"
        limited = client.get("/v1/documents", headers={"Authorization": "Bearer slk_guess"})
        assert "5 requests with an unknown API key per minute" in limited.json()["detail"]
        assert int(limited.headers["retry-after"]) >= 1
    with make_client(small_corpus, bad_key_per_minute=5, client=("127.0.0.2", 1)) as other:
        assert other.get("/v1/documents", headers=good).status_code == 200, "another address is not limited"


def test_the_rate_limiter_forgets_quiet_callers(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    limiter = RateLimiter(per_minute=10)
    for i in range(5000):
        limiter.check(f"ip:10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 5000
    clock[0] += 61
    limiter.check("ip:127.0.0.1")
    assert len(limiter) == 1


def test_history_search_takes_q_as_text(make_client, fake_llm, small_corpus):
    fake_llm.respond_with(lambda body: answer("Revenue was $1,577 million.", ACME))
    with make_client(small_corpus) as client:
        for question in (
            "Is ACME 100% owned?",
            "Were 1000 units sold by ACME?",
            "What is ACME_2022 revenue?",
            "What is ACMEX2022 revenue?",
        ):
            wait_for(client, client.post("/v1/runs", json={"question": question}).json()["id"])

        def found(q: str) -> list[str]:
            return [r["question"] for r in client.get("/v1/runs", params={"q": q}).json()["data"]]

        assert found("100%") == ["Is ACME 100% owned?"]
        assert found("ACME_2022") == ["What is ACME_2022 revenue?"]
        assert found("%") == ["Is ACME 100% owned?"] and found("_") == ["What is ACME_2022 revenue?"]
        assert len(found("acme")) == 4
