"""The fake LLM speaks OpenAI's chat-completions protocol well enough for the real SDK."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from tests.fakes.fake_llm import MAX_BODY_BYTES, FakeLLM, Reply

MESSAGES = [{"role": "user", "content": "What was 3M's FY2018 capex?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "grep",
            "description": "Regex-search filing text.",
            "parameters": {"type": "object", "properties": {"pattern": {"type": "string"}}, "required": ["pattern"]},
        },
    }
]


def client_for(llm: FakeLLM, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.base_url, api_key="x", **{"max_retries": 0, **kwargs})


def test_plain_text_reply():
    with FakeLLM([Reply(content="Capex was $1,577 million.")]) as llm:
        out = client_for(llm).chat.completions.create(model="fake-model", messages=MESSAGES)
    assert out.object == "chat.completion"
    assert out.id.startswith("chatcmpl-")
    assert out.model == "fake-model"
    choice = out.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Capex was $1,577 million."
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert llm.requests == [{"model": "fake-model", "messages": MESSAGES}]
    assert llm.pending == 0


def test_native_tool_calls_are_parsed_by_the_sdk():
    script = [Reply(tool_calls=[("grep", {"pattern": "capital expenditure"}), ("read", {"doc": "3M_2018_10K", "page": 60})])]
    with FakeLLM(script) as llm:
        out = client_for(llm).chat.completions.create(model="fake-model", messages=MESSAGES, tools=TOOLS)
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert [c.function.name for c in calls] == ["grep", "read"]
    assert [json.loads(c.function.arguments) for c in calls] == [
        {"pattern": "capital expenditure"},
        {"doc": "3M_2018_10K", "page": 60},
    ]
    assert all(c.type == "function" and c.id.startswith("call_") for c in calls)
    assert len({c.id for c in calls}) == 2
    assert llm.requests[0]["tools"] == TOOLS


def test_raw_string_arguments_pass_through_verbatim():
    with FakeLLM([Reply(tool_calls=[("grep", '{"pattern": ')])]) as llm:
        out = client_for(llm).chat.completions.create(model="m", messages=MESSAGES)
    assert out.choices[0].message.tool_calls[0].function.arguments == '{"pattern": '


def test_usage_is_scripted_or_estimated():
    with FakeLLM([Reply(content="hi", usage=(1200, 34)), Reply(content="x" * 40)]) as llm:
        client = client_for(llm)
        scripted = client.chat.completions.create(model="m", messages=MESSAGES).usage
        estimated = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "y" * 400}]).usage
    assert (scripted.prompt_tokens, scripted.completion_tokens, scripted.total_tokens) == (1200, 34, 1234)
    assert (estimated.prompt_tokens, estimated.completion_tokens, estimated.total_tokens) == (100, 10, 110)


def test_streaming_content_in_several_deltas_with_usage():
    text = "3M spent $1,577 million on property, plant and equipment in 2018."
    with FakeLLM([Reply(content=text, usage=(50, 17))]) as llm:
        stream = client_for(llm).chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) >= 2
    assert "".join(deltas) == text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens, chunks[-1].usage.total_tokens) == (50, 17, 67)


def test_streaming_without_include_usage_sends_no_usage():
    with FakeLLM([Reply(content="ok")]) as llm:
        chunks = list(client_for(llm).chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_streaming_tool_calls_are_reassembled_by_the_sdk_helper():
    script = [
        Reply(
            content="Let me look.",
            tool_calls=[("grep", {"pattern": "purchases of property"}), ("grep", {"pattern": "capex"})],
        )
    ]
    with FakeLLM(script) as llm:
        with client_for(llm).chat.completions.stream(model="m", messages=MESSAGES, tools=TOOLS) as stream:
            events = [event.type for event in stream]
            final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in events
    message = final.choices[0].message
    assert message.content == "Let me look."
    assert [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [
        ("grep", {"pattern": "purchases of property"}),
        ("grep", {"pattern": "capex"}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"


def test_streaming_tool_call_deltas_by_hand():
    with FakeLLM([Reply(tool_calls=[("read", {"doc": "3M_2018_10K", "page": 60})])]) as llm:
        stream = client_for(llm).chat.completions.create(model="m", messages=MESSAGES, stream=True)
        calls: dict[int, dict[str, str]] = {}
        arg_pieces = 0
        for chunk in stream:
            for delta in chunk.choices[0].delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += delta.id or ""
                call["name"] += (delta.function.name or "") if delta.function else ""
                if delta.function and delta.function.arguments:
                    call["arguments"] += delta.function.arguments
                    arg_pieces += 1
    assert list(calls) == [0]
    assert calls[0]["id"].startswith("call_") and calls[0]["name"] == "read"
    assert json.loads(calls[0]["arguments"]) == {"doc": "3M_2018_10K", "page": 60}
    assert arg_pieces >= 2


def test_server_error_then_success_with_sdk_retry():
    with FakeLLM([Reply(status=500), Reply(content="recovered")]) as llm:
        out = client_for(llm, max_retries=1).chat.completions.create(model="m", messages=MESSAGES)
    assert out.choices[0].message.content == "recovered"
    assert len(llm.requests) == 2


def test_scripted_errors_map_to_sdk_exceptions():
    script = [Reply(status=429, content="Rate limit reached for fake-model"), Reply(status=500)]
    with FakeLLM(script) as llm:
        client = client_for(llm)
        with pytest.raises(openai.RateLimitError, match="Rate limit reached") as rate_limited:
            client.chat.completions.create(model="m", messages=MESSAGES)
        with pytest.raises(openai.InternalServerError) as server_error:
            client.chat.completions.create(model="m", messages=MESSAGES)
    assert rate_limited.value.status_code == 429
    assert rate_limited.value.body["type"] == "rate_limit_exceeded"
    assert server_error.value.status_code == 500


@pytest.mark.serial
def test_delay_beyond_client_timeout_raises_timeout_and_stop_is_prompt():
    llm = FakeLLM([Reply(content="too late", delay_s=30), Reply(content="on time")]).start()
    try:
        client = client_for(llm, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="m", messages=MESSAGES)
        assert time.monotonic() - started < 5
        assert client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "on time"
    finally:
        started = time.monotonic()
        llm.stop()
    assert time.monotonic() - started < 2


def test_short_delay_is_answered():
    with FakeLLM([Reply(content="slow", delay_s=0.2)]) as llm:
        started = time.monotonic()
        out = client_for(llm, timeout=5).chat.completions.create(model="m", messages=MESSAGES)
    assert out.choices[0].message.content == "slow"
    assert time.monotonic() - started >= 0.2


def test_exhausted_script_fails_loudly_without_retries():
    with FakeLLM([Reply(content="only one")]) as llm:
        client = client_for(llm, max_retries=3)
        client.chat.completions.create(model="m", messages=MESSAGES)
        with pytest.raises(openai.InternalServerError, match="script exhausted"):
            client.chat.completions.create(model="m", messages=MESSAGES)
        assert len(llm.requests) == 2  # x-should-retry: false stops the SDK from retrying
        llm.add(Reply(content="topped up"))
        assert client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content == "topped up"


def test_callable_script_sees_the_messages():
    def respond(body: dict) -> Reply:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return Reply(content=f"The filing says: {last['content']}")
        return Reply(tool_calls=[("grep", {"pattern": "capex"})])

    with FakeLLM(respond) as llm:
        client = client_for(llm)
        first = client.chat.completions.create(model="m", messages=MESSAGES, tools=TOOLS).choices[0].message
        call = first.tool_calls[0]
        history = [
            *MESSAGES,
            first.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "$1,577 million (page 60)"},
        ]
        second = client.chat.completions.create(model="m", messages=history, tools=TOOLS).choices[0].message
    assert second.content == "The filing says: $1,577 million (page 60)"
    assert llm.requests[1]["messages"][1]["tool_calls"][0]["id"] == call.id
    with pytest.raises(TypeError):
        llm.add(Reply(content="no"))


def test_callable_script_that_raises_is_a_loud_500():
    def respond(body: dict) -> Reply:
        raise KeyError("unexpected tool")

    with FakeLLM(respond) as llm:
        with pytest.raises(openai.InternalServerError, match="KeyError"):
            client_for(llm, max_retries=2).chat.completions.create(model="m", messages=MESSAGES)
    assert len(llm.requests) == 1


def test_fifty_concurrent_requests_from_threads_are_all_answered():
    def respond(body: dict) -> Reply:
        return Reply(content=f"answer to {body['messages'][0]['content']}", delay_s=0.2)

    with FakeLLM(respond) as llm:
        client = client_for(llm, timeout=10)

        def ask(i: int) -> str:
            messages = [{"role": "user", "content": f"q{i}"}]
            return client.chat.completions.create(model="m", messages=messages).choices[0].message.content

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(ask, range(50)))
        elapsed = time.monotonic() - started
    assert answers == [f"answer to q{i}" for i in range(50)]
    assert len(llm.requests) == 50
    assert elapsed < 5  # served in parallel: 50 x 0.2 s one after another would take 10 s


def test_list_script_is_consumed_once_under_concurrency():
    with FakeLLM([Reply(content=str(i)) for i in range(40)]) as llm:
        client = client_for(llm)
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(lambda _: client.chat.completions.create(model="m", messages=MESSAGES), range(40)))
    assert sorted(int(a.choices[0].message.content) for a in answers) == list(range(40))
    assert llm.pending == 0


def test_hundred_concurrent_async_streams():
    async def main(base_url: str) -> list[str]:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=10)

        async def run(i: int) -> str:
            stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": f"q{i}"}], stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        try:
            return await asyncio.gather(*(run(i) for i in range(100)))
        finally:
            await client.close()

    with FakeLLM(lambda body: f"echo {body['messages'][0]['content']}") as llm:
        answers = asyncio.run(main(llm.base_url))
    assert answers == [f"echo q{i}" for i in range(100)]


def test_models_and_health_endpoints():
    with FakeLLM(model="fake-sleuth") as llm:
        models = client_for(llm).models.list()
        with urllib.request.urlopen(f"http://127.0.0.1:{llm.port}/health", timeout=5) as response:
            assert response.status == 200
            assert json.loads(response.read()) == {"status": "ok"}
    assert [m.id for m in models.data] == ["fake-sleuth"]


def test_oversized_body_is_rejected_with_413():
    with FakeLLM([Reply(content="unused")]) as llm:
        huge = [{"role": "user", "content": "x" * (MAX_BODY_BYTES + 1)}]
        with pytest.raises(openai.APIStatusError) as rejected:
            client_for(llm).chat.completions.create(model="m", messages=huge)
        assert rejected.value.status_code == 413
        assert llm.requests == [] and llm.pending == 1


def test_stop_is_idempotent_and_base_url_needs_a_running_server():
    llm = FakeLLM()
    with pytest.raises(RuntimeError, match="not running"):
        _ = llm.base_url
    with llm:
        assert llm.base_url.startswith("http://127.0.0.1:") and llm.base_url.endswith("/v1")
    llm.stop()
    assert not any(t.name.startswith("FakeLLM:") and t.is_alive() for t in threading.enumerate())
