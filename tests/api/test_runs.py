"""The research API's runs: submit, follow (SSE, replay, resume), history, cancel, compare and votes, bad input."""

from __future__ import annotations

import pytest

from tests.agent.test_research import CAPEX_CITATION, answer
from tests.api.conftest import sse, wait_for
from tests.fakes.fake_llm import Reply

pytestmark = pytest.mark.financebench
QUESTION = "What was 3M's FY2018 capital expenditure?"


def test_agentic_run_is_stored_streamed_and_replayed(make_client, fake_llm, filings_settings):
    fake_llm.add(
        Reply(tool_calls=[("grep", {"pattern": "Purchases of property", "glob": "3M_2018*"})]),
        answer("$1,577 million", CAPEX_CITATION),
    )
    with make_client(filings_settings) as client:
        created = client.post("/v1/runs", json={"question": QUESTION, "mode": "agentic", "filters": {"company": "3M"}})
        assert created.status_code == 202, created.text
        run_id = created.json()["id"]
        assert created.headers["location"] == f"/v1/runs/{run_id}"
        run = wait_for(client, run_id)
        assert run["status"] == "answered"
        assert run["result"]["citations"][0]["verified"] is True
        assert run["metrics"]["agentic"]["llm_calls"] == 2 and run["metrics"]["agentic"]["tool_calls"] == 1
        assert run["filters"] == {"company": "3M"}

        stream = client.get(f"/v1/runs/{run_id}/events")
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = sse(stream.text)
        types = [e["event"] for e in events if e["event"] != "end"]
        assert types[:3] == ["status", "status", "run_started"] and types[-1] == "status"
        assert {"model_turn", "tool_call", "tool_result", "citation_check", "answer"} <= set(types)
        assert [int(e["id"]) for e in events if "id" in e] == list(range(1, len(types) + 1))
        assert events[-1]["event"] == "end"

        resumed = sse(client.get(f"/v1/runs/{run_id}/events", headers={"Last-Event-ID": "5"}).text)
        assert int(resumed[0]["id"]) == 6 and len(resumed) == len(events) - 5
        stored = client.get(f"/v1/runs/{run_id}/events", params={"format": "json"}).json()
        assert [e["type"] for e in stored] == types

        history = client.get("/v1/runs", params={"q": "capital expenditure", "limit": 5}).json()
        assert history["data"][0]["id"] == run_id and history["count"] >= 1


def test_compare_run_has_two_arms_votes_and_a_leaderboard(make_client, fake_llm, filings_settings):
    fake_llm.respond_with(lambda body: answer("$1,577 million", CAPEX_CITATION))
    with make_client(filings_settings) as client:
        run_id = client.post("/v1/runs", json={"question": QUESTION, "mode": "compare"}).json()["id"]
        run = wait_for(client, run_id)
        assert run["status"] == "answered"
        assert set(run["metrics"]) == {"agentic", "rag"} and run["metrics"]["rag"]["llm_calls"] == 1
        assert run["result"]["agentic"]["mode"] == "agentic" and run["result"]["rag"]["mode"] == "rag"

        assert (
            client.post(f"/v1/runs/{run_id}/vote", json={"winner": "agentic", "note": "cited the statement"}).status_code == 201
        )
        assert client.post(f"/v1/runs/{run_id}/vote", json={"winner": "best"}).status_code == 422
        board = client.get("/v1/leaderboard").json()
        top = board["data"][0]
        assert top["mode"] == "agentic" and top["wins"] >= 1 and top["rating"] > 1000

        single = client.post("/v1/runs", json={"question": QUESTION, "mode": "rag"}).json()["id"]
        wait_for(client, single)
        refused = client.post(f"/v1/runs/{single}/vote", json={"winner": "rag"})
        assert refused.status_code == 409 and "votes are for compare runs" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ('{"question": "x", ', 422, "the body is not valid JSON"),
        ({"question": QUESTION, "mode": "magic"}, 422, "mode: Input should be 'agentic', 'rag', 'compare' or 'report'"),
        ({"question": "   "}, 422, "question: the question is empty"),
        ({"question": "x" * 10_000}, 422, "10,000 characters; the limit is 4,000"),
        (
            {"question": QUESTION, "filters": {"doc_ids": ["3M_2018_10Q"]}},
            422,
            "unknown doc_ids: '3M_2018_10Q' (closest: 3M_2018_10K",
        ),
        ({"question": QUESTION, "filters": {"year": 2001}}, 422, "no filing matches fiscal year 2001"),
        ({"question": QUESTION, "colour": "red"}, 422, "colour: Extra inputs are not permitted"),
        (
            {"question": QUESTION, "budgets": {"max_steps": 0}},
            422,
            "budgets.max_steps: Input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_run_requests_are_refused_with_a_message_and_store_nothing(make_client, filings_settings, body, status, message):
    with make_client(filings_settings) as client:
        before = client.get("/v1/runs").json()["count"]
        if isinstance(body, str):
            reply = client.post("/v1/runs", content=body, headers={"content-type": "application/json"})
        else:
            reply = client.post("/v1/runs", json=body)
        assert reply.status_code == status, reply.text
        assert message in reply.json()["detail"]
        assert client.get("/v1/runs").json()["count"] == before
        assert client.get("/v1/runs/nope").status_code == 404


def test_queue_positions_and_cancel(make_client, fake_llm, filings_settings):
    fake_llm.respond_with(lambda body: Reply(content="slow", delay_s=2))
    with make_client(filings_settings, max_running=1) as client:
        ids = [client.post("/v1/runs", json={"question": QUESTION, "mode": "rag"}).json() for _ in range(3)]
        assert [i["queue_position"] for i in ids][1:] == [1, 2]  # the first took the one slot at once
        third = client.get(f"/v1/runs/{ids[2]['id']}").json()
        assert third["status"] == "queued" and third["queue_position"] == 2
        cancelled = client.post(f"/v1/runs/{ids[2]['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        first = client.post(f"/v1/runs/{ids[0]['id']}/cancel").json()
        assert first["status"] == "cancelled" and first["error"] == "cancelled by the user"
        assert client.post(f"/v1/runs/{ids[0]['id']}/cancel").status_code == 409
        events = client.get(f"/v1/runs/{ids[0]['id']}/events", params={"format": "json"}).json()
        assert events[-1]["data"]["status"] == "cancelled"


def test_failed_model_gives_a_failed_run_not_a_crash(make_client, fake_llm, filings_settings):
    fake_llm.respond_with(lambda body: Reply(status=500, content="engine down"))
    with make_client(filings_settings) as client:
        run = wait_for(client, client.post("/v1/runs", json={"question": QUESTION}).json()["id"])
        assert run["status"] == "failed" and "engine down" in run["error"]
        assert client.get("/healthz").json() == {"status": "ok"}
