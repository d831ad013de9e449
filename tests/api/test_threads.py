"""Research threads over the API: follow-ups that start from the memory of earlier turns, per-arm memory in compare mode,
RAG's condense step, follow-ups queued behind a running turn, and who may see, continue, rename and delete a thread."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.agent.test_research import CAPEX_CITATION, answer
from tests.api.conftest import make_keys, sse, wait_for
from tests.fakes.fake_llm import Reply

FIRST = "What was 3M's FY2018 capex?"
FOLLOW_UP = "and in 2017?"
CAPEX_2017 = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577) (1,373)"}

ACME_REVENUE = {"doc_id": "ACME_2022_10K", "page": 4, "quote": "Revenue was $1,577 million."}


def _user(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _system(body: dict) -> str:
    return body["messages"][0]["content"]


@pytest.fixture
def own_filings(filings_settings, tmp_path):
    """The shared 3M/Adobe filings copied into a data directory of this test's own (keys made there stay there)."""
    shutil.copytree(filings_settings.data_dir, tmp_path / "filings")
    return filings_settings.model_copy(update={"data_dir": tmp_path / "filings"})


@pytest.mark.financebench
def test_follow_up_carries_the_memory_and_another_key_cannot_see_or_continue_it(make_client, fake_llm, own_filings):
    def script(body: dict) -> Reply:
        user = _user(body)
        if user.endswith(f"Question: {FIRST}"):
            assert "Research memory" not in user
            return answer("3M's FY2018 capital expenditure was $1,577 million.", CAPEX_CITATION)
        # The follow-up: the memory of turn 1 comes before the question, and the system prompt says how to use it.
        assert user.startswith("Research memory of this thread") and user.endswith(f"Question: {FOLLOW_UP}"), user
        assert "Turn 1 [answered] Q: What was 3M's FY2018 capex?" in user and "$1,577 million" in user
        assert '(checked): "Purchases of property, plant and equipment (PP&E) (1,577)"' in user, user
        assert "read a cited page again" in _system(body)
        return answer("In FY2017 3M's capital expenditure was $1,373 million.", CAPEX_2017)

    fake_llm.respond_with(script)
    keys = make_keys(own_filings, "alice", "bob")
    alice, bob = keys["alice"], keys["bob"]
    with make_client(own_filings) as client:
        first = client.post("/v1/runs", json={"question": FIRST}, headers=alice)
        assert first.status_code == 202, first.text
        thread_id = first.json()["thread_id"]
        assert first.json()["turn"] == 1 and first.json()["links"]["thread"] == f"/v1/threads/{thread_id}"
        assert wait_for(client, first.json()["id"], headers=alice)["status"] == "answered"

        second = client.post("/v1/runs", json={"question": FOLLOW_UP, "thread_id": thread_id}, headers=alice)
        assert second.status_code == 202, second.text
        assert second.json()["thread_id"] == thread_id and second.json()["turn"] == 2
        run = wait_for(client, second.json()["id"], headers=alice)
        assert run["status"] == "answered", (run["error"], run["result"] and run["result"]["text"])
        assert run["mode"] == "agentic" and run["thread_id"] == thread_id and run["turn"] == 2
        assert run["result"]["citations"][0]["verified"] is True
        metrics = run["metrics"]["agentic"]
        assert metrics["memory_turns"] == 1 and metrics["memory_summarized"] == 0 and 50 < metrics["memory_tokens"] < 4000
        assert len(fake_llm.requests) == 2

        listed = client.get("/v1/threads", headers=alice).json()
        assert listed["count"] == 1
        assert listed["data"][0] | {"created_at": None, "updated_at": None} == {
            "id": thread_id,
            "title": FIRST,
            "created_at": None,
            "updated_at": None,
            "turns": 2,
            "last_question": FOLLOW_UP,
            "last_status": "answered",
            "mode": "agentic",
        }
        detail = client.get(f"/v1/threads/{thread_id}", headers=alice).json()
        assert [r["question"] for r in detail["runs"]] == [FIRST, FOLLOW_UP]
        assert detail["runs"][1]["result"]["text"].startswith("In FY2017")

        # Another key: the thread does not exist for it, whatever it tries.
        assert client.get("/v1/threads", headers=bob).json()["count"] == 0
        for response in (
            client.get(f"/v1/threads/{thread_id}", headers=bob),
            client.post("/v1/runs", json={"question": "and 2016?", "thread_id": thread_id}, headers=bob),
            client.patch(f"/v1/threads/{thread_id}", json={"title": "mine"}, headers=bob),
            client.delete(f"/v1/threads/{thread_id}", headers=bob),
        ):
            assert response.status_code == 404 and response.json()["detail"].startswith(f"thread {thread_id} not found")
        assert len(fake_llm.requests) == 2  # bob's follow-up never reached the model
        assert client.get(f"/v1/threads/{thread_id}", headers=alice).json()["turns"] == 2


@pytest.mark.financebench
def test_rag_condenses_the_follow_up_and_compare_arms_follow_up_on_their_own_answers(make_client, fake_llm, filings_settings):
    seen: list[str] = []

    def script(body: dict) -> Reply | str:
        system, user = _system(body), _user(body)
        if system.startswith("You rewrite a follow-up question"):
            seen.append("condense")
            assert "RAG-1577" in user and "AGENTIC-1577" not in user, user  # the RAG arm's own earlier answer
            assert user.endswith(f"Follow-up question: {FOLLOW_UP}\n\nStandalone question:")
            return "Standalone question: What was 3M's capital expenditure in FY2017?"
        if user.startswith("Passages:"):
            seen.append("rag")
            follow_up = "What was 3M's capital expenditure in FY2017?" in user
            assert not follow_up or f'(Asked in the thread as: "{FOLLOW_UP}")' in user
            return answer("RAG-1373" if follow_up else "RAG-1577 million", CAPEX_2017 if follow_up else CAPEX_CITATION)
        seen.append("agentic")
        if FOLLOW_UP in user:
            assert "AGENTIC-1577" in user and "RAG-1577" not in user, user  # the agentic arm's own earlier answer
            return answer("AGENTIC-1373", CAPEX_2017)
        return answer("AGENTIC-1577 million", CAPEX_CITATION)

    fake_llm.respond_with(script)
    with make_client(filings_settings) as client:
        first = client.post("/v1/runs", json={"question": FIRST, "mode": "compare"}).json()
        assert wait_for(client, first["id"])["status"] == "answered"
        second = client.post("/v1/runs", json={"question": FOLLOW_UP, "thread_id": first["thread_id"]}).json()
        run = wait_for(client, second["id"])
        assert run["mode"] == "compare", "a follow-up without a mode takes its thread's last mode"
        assert run["status"] == "answered", (run["error"], run["result"] and run["result"]["text"])
        assert run["result"]["agentic"]["text"] == "AGENTIC-1373" and run["result"]["rag"]["text"] == "RAG-1373"
        assert run["result"]["rag"]["condensed_question"] == "What was 3M's capital expenditure in FY2017?"
        assert run["result"]["agentic"]["condensed_question"] is None
        assert run["metrics"]["rag"]["memory_turns"] == 1 and run["metrics"]["rag"]["llm_calls"] == 2
        assert sorted(seen) == ["agentic", "agentic", "condense", "rag", "rag"]

        events = sse(client.get(f"/v1/runs/{second['id']}/events").text)
        rag = [e for e in events if e["data"].get("arm") == "rag"]
        kinds = [e["event"] for e in rag]
        assert kinds.index("run_started") < kinds.index("condense") < kinds.index("retrieval")
        condense = rag[kinds.index("condense")]["data"]["data"]
        assert condense["question"] == FOLLOW_UP and condense["condensed"] == "What was 3M's capital expenditure in FY2017?"
        assert rag[kinds.index("retrieval")]["data"]["data"]["query"] == condense["condensed"]


def test_threads_on_both_backends_queue_list_rename_delete_and_admins(make_client, fake_llm, small_corpus):
    slow = {"delay": 1.0}

    def script(body: dict) -> Reply:
        user = _user(body)
        if "Question: boom" in user:
            return Reply(status=400, content="the model refused this one")
        delay = slow["delay"] if "Question: first" in user else 0.0
        return Reply(
            tool_calls=[("answer", {"answer": "Revenue was $1,577 million.", "status": "answered", "citations": [ACME_REVENUE]})],
            delay_s=delay,
        )

    fake_llm.respond_with(script)
    keys = make_keys(small_corpus, "alice", "bob", "root", admin=("root",))
    alice, bob, root = keys["alice"], keys["bob"], keys["root"]
    with make_client(small_corpus) as client:
        first = client.post("/v1/runs", json={"question": "first"}, headers=alice).json()
        thread_id = first["thread_id"]
        # Asked while the first turn still runs: accepted, and queued behind it.
        second = client.post("/v1/runs", json={"question": "second", "thread_id": thread_id}, headers=alice).json()
        assert second["turn"] == 2 and second["status"] == "queued"
        one, two = wait_for(client, first["id"], headers=alice), wait_for(client, second["id"], headers=alice)
        assert two["started_at"] >= one["finished_at"]
        queued = sse(client.get(f"/v1/runs/{second['id']}/events", headers=alice).text)[0]["data"]["data"]
        assert queued == {"status": "queued", "position": queued["position"], "after": first["id"]}

        # A failed turn, then a follow-up to it: the follow-up runs, its memory says the turn failed.
        failed = client.post("/v1/runs", json={"question": "boom", "thread_id": thread_id}, headers=alice).json()
        assert wait_for(client, failed["id"], headers=alice)["status"] == "failed"
        after = client.post("/v1/runs", json={"question": "and then?", "thread_id": thread_id}, headers=alice).json()
        run = wait_for(client, after["id"], headers=alice)
        assert run["status"] == "answered" and run["turn"] == 4 and run["metrics"]["agentic"]["memory_turns"] == 3
        prompt = _user(fake_llm.requests[-1])
        assert "Turn 3 [failed] Q: boom\nA: (failed:" in prompt and prompt.endswith("Question: and then?")

        other = client.post("/v1/runs", json={"question": "bob's own 50% question"}, headers=bob).json()
        wait_for(client, other["id"], headers=bob)
        assert [t["id"] for t in client.get("/v1/threads", headers=alice).json()["data"]] == [thread_id]
        everyone = client.get("/v1/threads", headers=root).json()
        assert everyone["count"] == 2 and everyone["data"][0]["id"] == other["thread_id"]  # newest updated first
        assert client.get("/v1/threads", params={"q": "50%"}, headers=root).json()["count"] == 1
        assert client.get("/v1/threads", params={"q": "and then"}, headers=root).json()["data"][0]["id"] == thread_id
        assert client.get("/v1/threads", params={"limit": 1, "offset": 1}, headers=root).json()["data"][0]["id"] == thread_id

        renamed = client.patch(f"/v1/threads/{thread_id}", json={"title": "  Revenue,\n by year "}, headers=alice)
        assert renamed.status_code == 200 and renamed.json()["title"] == "Revenue, by year" and renamed.json()["turns"] == 4
        assert client.patch(f"/v1/threads/{thread_id}", json={"title": " "}, headers=alice).status_code == 422
        assert client.patch(f"/v1/threads/{thread_id}", json={"title": "x" * 201}, headers=alice).status_code == 422

        unknown = client.post("/v1/runs", json={"question": "q", "thread_id": "no-such-thread"}, headers=alice)
        assert unknown.status_code == 404 and unknown.json()["detail"].startswith("thread no-such-thread not found")
        assert client.get("/v1/threads/no-such-thread", headers=root).status_code == 404

        assert client.delete(f"/v1/threads/{other['thread_id']}", headers=root).status_code == 204  # admins may
        assert client.delete(f"/v1/threads/{thread_id}", headers=alice).status_code == 204
        assert client.get(f"/v1/runs/{first['id']}", headers=alice).status_code == 404
        assert client.get(f"/v1/runs/{second['id']}/events", params={"format": "json"}, headers=alice).status_code == 404
        assert client.get("/v1/threads", headers=root).json()["count"] == 0
    _assert_no_rows_left(small_corpus, [first["id"], second["id"], failed["id"], after["id"], other["id"]])


def _assert_no_rows_left(settings, run_ids: list[str]) -> None:
    from sqlalchemy import func, select

    from api.models import RunEvent
    from corpus.catalog import Corpus

    corpus = Corpus.open(settings)
    try:
        with corpus.sessions() as session:
            assert session.scalar(select(func.count()).select_from(RunEvent).where(RunEvent.run_id.in_(run_ids))) == 0
    finally:
        corpus.close()


def test_a_follow_up_waits_for_a_turn_running_in_another_process(make_client, fake_llm, small_corpus):
    """The previous turn is queued by another server process (only the database knows it): the follow-up waits for it."""
    from api.run_store import RunStore
    from corpus.catalog import Corpus

    fake_llm.respond_with(lambda body: answer("Revenue was $1,577 million.", ACME_REVENUE))
    with make_client(small_corpus) as client:
        first = client.post("/v1/runs", json={"question": "first"}).json()
        wait_for(client, first["id"])
        corpus = Corpus.open(small_corpus)
        store = RunStore(corpus.sessions)
        try:
            elsewhere = store.create_run(
                mode="agentic",
                question="elsewhere",
                filters=None,
                model="m",
                budgets=None,
                key_id=None,
                threaded=True,
                thread_id=first["thread_id"],
            )
            store.mark_running(elsewhere.id)
            follow = client.post("/v1/runs", json={"question": "then", "thread_id": first["thread_id"]}).json()
            assert follow["turn"] == 3
            time.sleep(1.5)
            assert client.get(f"/v1/runs/{follow['id']}").json()["status"] == "queued"
            store.finish(elsewhere.id, status="answered", result=None, error=None, latency_s=1.0)
            run = wait_for(client, follow["id"])
        finally:
            corpus.close()
        assert run["status"] == "answered" and run["metrics"]["agentic"]["memory_turns"] == 2
