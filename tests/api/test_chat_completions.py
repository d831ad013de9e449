"""Sleuth as an OpenAI model: the official `openai` SDK against a real `sleuth serve` and the scripted fake model;
/v1/models, chat completions streamed and not, a follow-up that lands in the same thread, and OpenAI-style errors."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.agent.test_research import answer
from tests.api.abuse_samples import serve
from tests.api.conftest import index_bm25, make_keys
from tests.fakes.fake_llm import Reply

REVENUE = {"doc_id": "ACME_2022_10K", "page": 4, "quote": "Revenue was $1,577 million."}
LEASES = {"doc_id": "ACME_2022_10K", "page": 7, "quote": "Operating leases 120."}


def script(body: dict) -> Reply:
    """Agentic: grep first, then answer; the answer depends on what the question (the last user turn) asks."""
    messages = body.get("messages") or []
    text = " ".join(str(m.get("content") or "") for m in messages if isinstance(m, dict) and m.get("role") == "user")
    if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        return Reply(tool_calls=[("grep", {"pattern": "Revenue", "glob": "ACME*"})])
    if "leases" in text.lower():
        return answer("Operating leases were $120 million.", LEASES)
    return answer("Acme's revenue was $1,577 million.", REVENUE)


@pytest.fixture
def served(small_corpus, fake_llm, tmp_path):
    """(OpenAI client of key `alice`, OpenAI client of key `bob`, base URL, alice's headers) on a live server."""
    fake_llm.respond_with(script)
    keys = make_keys(small_corpus, "alice", "bob")
    with serve(small_corpus.data_dir, small_corpus.database_url, fake_llm.base_url, tmp_path / "server.log") as (base, _):
        clients = [
            openai.OpenAI(base_url=f"{base}/v1", api_key=keys[name]["Authorization"].split()[1], max_retries=0, timeout=60)
            for name in ("alice", "bob")
        ]
        yield clients[0], clients[1], base, keys["alice"]
        for client in clients:
            client.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_models_and_a_plain_completion_with_footnotes_and_usage(served):
    alice, _, base, _ = served
    assert [m.id for m in alice.models.list().data] == ["sleuth-agentic", "sleuth-rag", "sleuth-compare"]
    reply = alice.chat.completions.create(
        model="sleuth-agentic", messages=[{"role": "user", "content": "What was Acme's revenue in 2022?"}]
    )
    content = reply.choices[0].message.content
    assert content.startswith("Acme's revenue was $1,577 million. [1]")
    assert '[1] ✓ ACME_2022_10K, page 4: "Revenue was $1,577 million."' in content
    assert f"({base}/v1/documents/ACME_2022_10K/pages/4/image)" in content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    steps = reply.choices[0].message.model_extra["reasoning_content"]
    assert "grep(" in steps and "✓ grep" in steps


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_streamed_steps_then_answer_then_usage(served):
    alice, *_ = served
    stream = alice.chat.completions.create(
        model="sleuth-agentic",
        messages=[{"role": "user", "content": "What was Acme's revenue in 2022?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "grep(" in reasoning and "citations checked" in reasoning
    assert content.startswith("Acme's revenue was $1,577 million. [1]") and "ACME_2022_10K, page 4" in content
    first_content = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content)
    last_reasoning = max(
        i for i, c in enumerate(chunks) if c.choices and (c.choices[0].delta.model_extra or {}).get("reasoning_content")
    )
    assert last_reasoning < first_content  # the steps as they happen, then the answer
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens > 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_input_is_an_openai_error(served):
    alice, _, base, headers = served
    with pytest.raises(openai.BadRequestError) as bad:
        alice.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert bad.value.code == "model_not_found" and "sleuth-agentic, sleuth-rag, sleuth-compare" in bad.value.message
    with pytest.raises(openai.BadRequestError) as bad:
        alice.chat.completions.create(model="sleuth-rag", messages=[])
    assert bad.value.code == "empty_messages"
    with pytest.raises(openai.BadRequestError) as bad:
        alice.chat.completions.create(
            model="sleuth-rag", messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
        )
    assert bad.value.code == "last_message_not_user"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{base}/v1", api_key="slk_wrong", max_retries=0).models.list()
    huge = {"model": "sleuth-rag", "messages": [{"role": "user", "content": "x" * 3_000_000}]}
    refused = httpx.post(f"{base}/v1/chat/completions", json=huge, headers=headers)
    assert refused.status_code == 413 and "SLEUTH_API_CHAT_BODY_MAX_KB" in refused.json()["error"]["message"]
    long = {
        "model": "sleuth-rag",
        "messages": [{"role": "user", "content": "x" * 5000}],
    }  # over the question limit, under the body cap
    with pytest.raises(openai.BadRequestError) as bad:
        alice.chat.completions.create(**long)
    assert "SLEUTH_API_QUESTION_MAX_CHARS" in bad.value.message
    raw = httpx.post(f"{base}/v1/chat/completions", json={"model": "sleuth-rag"}, headers=headers)
    assert raw.status_code == 400 and set(raw.json()["error"]) == {"message", "type", "param", "code"}
    assert raw.json()["error"]["type"] == "invalid_request_error" and "messages" in raw.json()["error"]["message"]


def _thread(base: str, headers: dict, thread_id: str) -> httpx.Response:
    return httpx.get(f"{base}/v1/threads/{thread_id}", headers=headers, timeout=30)


def _asked(fake_llm, needle: str) -> str:
    """The user text of the first model request whose user message holds `needle` (memory, then the question)."""
    for body in fake_llm.requests:
        text = " ".join(
            str(m.get("content")) for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"
        )
        if needle in text:
            return text
    raise AssertionError(f"no model request asked {needle!r}")


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_follow_up_lands_in_the_same_thread_and_another_key_cannot_continue_it(served, fake_llm, small_corpus):
    alice, bob, base, headers = served
    first = [{"role": "user", "content": "What was Acme's revenue in 2022?"}]
    reply = alice.chat.completions.create(model="sleuth-agentic", messages=first)
    thread_id = reply.model_extra["sleuth"]["thread_id"]
    assert f"/#/threads/{thread_id})" in reply.choices[0].message.content
    history = [*first, {"role": "assistant", "content": reply.choices[0].message.content}]
    follow = [*history, {"role": "user", "content": "And the operating leases?"}]
    chunks = list(alice.chat.completions.create(model="sleuth-agentic", messages=follow, stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.startswith("Operating leases were $120 million. [1]") and f"#/threads/{thread_id})" in content
    thread = _thread(base, headers, thread_id).json()
    assert [r["question"] for r in thread["runs"]] == ["What was Acme's revenue in 2022?", "And the operating leases?"]
    assert "Acme's revenue was $1,577 million." in _asked(fake_llm, "And the operating leases?")  # from the memory

    # Without the link (a client that rewrote the reply), the questions and answers still find the thread.
    bare = [first[0], {"role": "assistant", "content": "Acme's revenue was $1,577 million. [1]"}, follow[2]]
    bare += [
        {"role": "assistant", "content": content.split("\n\n---")[0]},
        {"role": "user", "content": "Thanks; the revenue again?"},
    ]
    again = alice.chat.completions.create(model="sleuth-agentic", messages=bare)
    assert again.model_extra["sleuth"]["thread_id"] == thread_id
    assert len(_thread(base, headers, thread_id).json()["runs"]) == 3

    # Bob sends the same chat: it is not his thread, so his history seeds a thread of his own.
    theirs = bob.chat.completions.create(model="sleuth-agentic", messages=follow)
    assert theirs.model_extra["sleuth"]["thread_id"] != thread_id
    assert _thread(base, headers, thread_id).json()["turns"] == 3
    bob_headers = {"Authorization": f"Bearer {bob.api_key}"}
    assert _thread(base, bob_headers, thread_id).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_chat_begun_elsewhere_is_replayed_into_a_new_thread(served, fake_llm):
    alice, _, base, headers = served
    chat = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What was Acme's revenue in 2022?"},
        {"role": "assistant", "content": "<think>hmm</think>Roughly one and a half billion dollars, per its 10-K."},
        {"role": "user", "content": [{"type": "text", "text": "And its operating leases?"}]},
    ]
    reply = alice.chat.completions.create(model="sleuth-agentic", messages=chat)
    thread = _thread(base, headers, reply.model_extra["sleuth"]["thread_id"]).json()
    assert [r["status"] for r in thread["runs"]] == ["imported", "answered"]
    assert thread["runs"][0]["result"]["text"] == "Roughly one and a half billion dollars, per its 10-K."
    assert "Roughly one and a half billion dollars" in _asked(fake_llm, "And its operating leases?")
    chat += [{"role": "assistant", "content": reply.choices[0].message.content}, {"role": "user", "content": "And 2021?"}]
    more = alice.chat.completions.create(model="sleuth-agentic", messages=chat)
    assert more.model_extra["sleuth"]["thread_id"] == thread["id"]  # the seeded thread continues

    # A long history: the oldest exchanges fold into one turn; never a 500.
    long = []
    for i in range(30):
        long += [{"role": "user", "content": f"Question {i} about Acme?"}, {"role": "assistant", "content": f"Answer {i}."}]
    long.append({"role": "user", "content": "What was Acme's revenue in 2022?"})
    folded = alice.chat.completions.create(model="sleuth-agentic", messages=long)
    runs = _thread(base, headers, folded.model_extra["sleuth"]["thread_id"]).json()["runs"]
    assert len(runs) == 21 and runs[0]["question"].startswith("The 11 earliest exchanges of this chat, folded:")
    assert "Q: Question 10 about Acme?" in runs[0]["result"]["text"] and runs[1]["question"] == "Question 11 about Acme?"
    long += [{"role": "assistant", "content": folded.choices[0].message.content}, {"role": "user", "content": "And 2021?"}]
    assert (
        alice.chat.completions.create(model="sleuth-agentic", messages=long).model_extra["sleuth"]["thread_id"]
        == runs[0]["thread_id"]
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_compare_streams_steps_in_think_tags_when_configured(make_client, fake_llm, small_corpus):
    """SLEUTH_API_CHAT_REASONING=think: the steps inside <think>...</think> in the content, then both answers."""
    index_bm25(small_corpus)
    fake_llm.respond_with(lambda body: answer("Acme's revenue was $1,577 million.", REVENUE))
    with make_client(small_corpus, chat_reasoning="think") as client:
        body = {"model": "sleuth-compare", "stream": True, "messages": [{"role": "user", "content": "Acme revenue 2022?"}]}
        with client.stream("POST", "/v1/chat/completions", json=body) as reply:
            assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
            lines = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert not any("reasoning_content" in c["choices"][0]["delta"] for c in chunks if c["choices"])
    assert content.startswith("<think>\n") and "[rag] retrieved" in content
    thinking, _, shown = content.partition("</think>\n\n")
    assert "[agentic]" in thinking and shown.startswith("**Agentic**\n\nAcme's revenue was $1,577 million. [1]")
    assert "**RAG**\n\nAcme's revenue was $1,577 million. [2]" in shown and "[2] ✓ ACME_2022_10K, page 4" in shown
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_per_key_limits_apply_and_a_client_that_leaves_cancels_its_run(small_corpus, fake_llm, tmp_path):
    """The chat takes the runs' path: SLEUTH_API_KEY_MAX_RUNNING=1 refuses a second run (429, OpenAI's shape); closing
    the stream mid-run (a chat's stop button) cancels the run."""
    fake_llm.respond_with(lambda body: Reply(content="thinking", delay_s=6))
    key = make_keys(small_corpus, "alice")["alice"]
    with serve(small_corpus.data_dir, small_corpus.database_url, fake_llm.base_url, tmp_path / "s.log", key_max_running=1) as (
        base,
        _,
    ):
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=key["Authorization"].split()[1], max_retries=0, timeout=60)
        stream = client.chat.completions.create(
            model="sleuth-agentic", messages=[{"role": "user", "content": "Acme revenue?"}], stream=True
        )
        run_id = next(iter(stream)).id.removeprefix("chatcmpl-")
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(
                model="sleuth-rag",
                messages=[
                    {"role": "user", "content": "Acme leases?"},
                    {"role": "assistant", "content": "About $120 million."},
                    {"role": "user", "content": "And in 2021?"},
                ],
            )
        assert "SLEUTH_API_KEY_MAX_RUNNING" in limited.value.message and limited.value.code == "rate_limit_exceeded"
        assert httpx.get(f"{base}/v1/threads", headers=key).json()["count"] == 1  # the refused chat's seeded thread is gone
        stream.close()
        deadline = time.monotonic() + 30
        while (status := httpx.get(f"{base}/v1/runs/{run_id}", headers=key).json()["status"]) in {"queued", "running"}:
            assert time.monotonic() < deadline, "the run went on after its client left"
            time.sleep(0.2)
        assert status == "cancelled"
        client.close()
