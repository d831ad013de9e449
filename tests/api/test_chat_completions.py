"""Sleuth as an OpenAI model: the official `openai` SDK against a real `sleuth serve` and the scripted fake model;
/v1/models, chat completions streamed and not, a follow-up that lands in the same thread, and OpenAI-style errors."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.agent.test_research import answer
from tests.api.abuse_samples import serve
from tests.api.conftest import make_keys
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
    raw = httpx.post(f"{base}/v1/chat/completions", json={"model": "sleuth-rag"}, headers=headers)
    assert raw.status_code == 400 and set(raw.json()["error"]) == {"message", "type", "param", "code"}
    assert raw.json()["error"]["type"] == "invalid_request_error" and "messages" in raw.json()["error"]["message"]
