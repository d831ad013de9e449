"""The LLM client against a scripted OpenAI-compatible server: tools, streaming, retries, failures, text fallback."""

from __future__ import annotations

import asyncio

import pytest

from agent.llm import LLMClient, LLMError
from agent.settings import LLMSettings
from tests.fakes.fake_llm import FakeLLM, Reply

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "grep",
            "description": "search",
            "parameters": {
                "type": "object",
                "properties": {"pattern": {"type": "string"}},
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "read",
            "description": "read",
            "parameters": {
                "type": "object",
                "properties": {"doc_id": {"type": "string"}},
            },
        },
    },
]
MESSAGES = [{"role": "user", "content": "What was 3M's capex in 2018?"}]


def client(fake: FakeLLM, **overrides) -> LLMClient:
    settings = LLMSettings(
        **{
            "base_url": fake.base_url,
            "model": "fake-model",
            "max_retries": 0,
            "timeout_s": 5,
            **overrides,
        }
    )
    return LLMClient(settings)


def run(scenario):
    """Run an async test body in one event loop (the client's HTTP pool belongs to that loop)."""
    return asyncio.run(scenario())


def test_native_tool_calls_and_usage_are_accounted():
    async def scenario():
        with FakeLLM(
            [
                Reply(
                    tool_calls=[
                        ("grep", {"pattern": "capital expenditure"}),
                        ("read", {"doc_id": "3M_2018_10K"}),
                    ],
                    usage=(120, 30),
                ),
                Reply(content="$1,577 million", usage=(300, 8)),
            ]
        ) as fake:
            llm = client(fake)
            first = await llm.complete(MESSAGES, TOOLS)
            assert [(c.name, c.arguments) for c in first.tool_calls] == [
                ("grep", {"pattern": "capital expenditure"}),
                ("read", {"doc_id": "3M_2018_10K"}),
            ]
            assert first.finish_reason == "tool_calls" and not first.tool_calls[0].from_text
            assert first.assistant_message()["tool_calls"][0]["function"]["name"] == "grep"
            second = await llm.complete(MESSAGES, TOOLS)
            assert second.content == "$1,577 million" and not second.tool_calls
            assert (
                llm.usage.calls,
                llm.usage.prompt_tokens,
                llm.usage.completion_tokens,
            ) == (2, 420, 38)
            assert fake.requests[0]["tools"][0]["function"]["name"] == "grep" and fake.requests[0]["tool_choice"] == "auto"

    run(scenario)


def test_streaming_delivers_text_deltas_and_tool_calls():
    async def scenario():
        with FakeLLM(
            [
                Reply(content="The answer is $1,577 million."),
                Reply(tool_calls=[("grep", {"pattern": "PP&E"})]),
            ]
        ) as fake:
            llm = client(fake)
            pieces: list[str] = []
            text = await llm.complete(MESSAGES, TOOLS, on_text=pieces.append)
            assert "".join(pieces) == text.content == "The answer is $1,577 million." and len(pieces) > 1
            call = await llm.complete(MESSAGES, TOOLS, on_text=pieces.append)
            assert [(c.name, c.arguments) for c in call.tool_calls] == [("grep", {"pattern": "PP&E"})]

    run(scenario)


def test_an_error_event_mid_stream_is_an_llm_error_not_a_crash():
    """vLLM sends an error event inside the stream when its engine dies mid-reply (seen on a busy CPU)."""

    async def scenario():
        with FakeLLM([Reply(content="Purchases of property were", stream_error="EngineCore encountered an issue.")]) as fake:
            url = fake.base_url
            with pytest.raises(LLMError) as caught:
                await client(fake).complete(MESSAGES, TOOLS, on_text=lambda _: None)
        assert caught.value.kind == "unavailable"
        assert "failed mid-reply: EngineCore encountered an issue." in str(caught.value) and url in str(caught.value)

    run(scenario)


def test_json_tool_calls_in_text_become_tool_calls():
    async def scenario():
        reply = 'I will search first.\n<tool_call>{"name": "grep", "arguments": {"pattern": "capex"}}</tool_call>'
        with FakeLLM(
            [
                Reply(content=reply),
                Reply(content='<tool_call>{"name": "gerp", "arguments": {}}</tool_call>'),
            ]
        ) as fake:
            llm = client(fake, tool_mode="auto")  # native calls, falling back to calls written as text (lenient)
            response = await llm.complete(MESSAGES, TOOLS)
            assert [(c.name, c.arguments, c.from_text) for c in response.tool_calls] == [("grep", {"pattern": "capex"}, True)]
            assert "tool_call" not in response.content and "search first" in response.content
            assert "tool_calls" not in response.assistant_message()  # text calls stay text in the transcript
            bad = await llm.complete(MESSAGES, TOOLS)
            assert not bad.tool_calls and bad.text_call_errors and "gerp" in bad.text_call_errors[0]

    run(scenario)


def test_a_strict_client_leaves_a_reply_s_text_as_written():
    async def scenario():
        reply = '<tool_call>{"name": "grep", "arguments": {"pattern": "capex"}}</tool_call>'
        with FakeLLM([Reply(content=reply)]) as fake:
            llm = client(fake)  # an endpoint's default: native tool calls, the strict policy
            response = await llm.complete(MESSAGES, TOOLS)
            assert llm.policy.name == "strict" and fake.requests[0]["tools"] == TOOLS
            assert response.tool_calls == [] and response.content == reply and response.text_call_errors == []

    run(scenario)


def test_text_tool_mode_sends_no_tools_and_vllm_extras_pass_through():
    async def scenario():
        with FakeLLM([Reply(content="done")]) as fake:
            llm = client(
                fake,
                tool_mode="text",
                extra_body={"chat_template_kwargs": {"enable_thinking": False}},
            )
            await llm.complete(MESSAGES, TOOLS)
            assert "tools" not in fake.requests[0]
            assert fake.requests[0]["chat_template_kwargs"] == {"enable_thinking": False}

    run(scenario)


def test_retries_then_succeeds_on_5xx():
    async def scenario():
        with FakeLLM([Reply(status=500), Reply(status=429), Reply(content="ok")]) as fake:
            llm = client(fake, max_retries=2)
            assert (await llm.complete(MESSAGES)).content == "ok"
            assert len(fake.requests) == 3

    run(scenario)


def test_failures_become_clear_llm_errors():
    async def scenario():
        with FakeLLM(
            [
                Reply(status=500),
                Reply(status=400, content="bad request"),
                Reply(content="late", delay_s=3),
            ]
        ) as fake:
            llm = client(fake, timeout_s=1)
            with pytest.raises(LLMError) as unavailable:
                await llm.complete(MESSAGES)
            assert unavailable.value.kind == "unavailable" and "500" in str(unavailable.value)
            with pytest.raises(LLMError) as rejected:
                await llm.complete(MESSAGES)
            assert rejected.value.kind == "rejected"
            with pytest.raises(LLMError) as timeout:
                await llm.complete(MESSAGES)
            assert timeout.value.kind == "timeout" and "SLEUTH_LLM_TIMEOUT_S" in str(timeout.value)
        with pytest.raises(LLMError) as down:
            await LLMClient(LLMSettings(base_url="http://127.0.0.1:9/v1", max_retries=0, timeout_s=2)).complete(MESSAGES)
        assert down.value.kind == "unavailable" and "is the server running" in str(down.value)
        with pytest.raises(LLMError, match="SLEUTH_LLM_BASE_URL"):
            LLMClient(LLMSettings(base_url=None))

    run(scenario)


def test_constrained_text_calls_send_a_schema_and_the_json_reply_parses():
    async def scenario():
        with FakeLLM(
            [Reply(content='{"name": "grep", "arguments": {"pattern": "capex"}}'), Reply(content="done"), Reply(content="x")]
        ) as fake:
            llm = client(fake, tool_mode="text", constrain_text_calls=True)
            response = await llm.complete(MESSAGES, TOOLS)
            assert [(c.name, c.arguments, c.from_text) for c in response.tool_calls] == [("grep", {"pattern": "capex"}, True)]
            assert response.content == "" and "tools" not in fake.requests[0]
            fmt = fake.requests[0]["response_format"]
            assert fmt["type"] == "json_object" and fmt["schema"]["required"] == ["name", "arguments"]
            assert fmt["schema"]["properties"]["name"]["enum"] == ["grep", "read"]
            await llm.complete(MESSAGES)  # no tools: free text, no schema
            assert "response_format" not in fake.requests[1]
            await llm.complete(MESSAGES, TOOLS, tool_choice={"type": "function", "function": {"name": "read"}})
            assert fake.requests[2]["response_format"]["schema"]["properties"]["name"]["enum"] == ["read"]

    run(scenario)


def test_constraint_is_off_by_default_and_only_applies_to_text_mode():
    async def scenario():
        with FakeLLM([Reply(content="a"), Reply(content="b")]) as fake:
            await client(fake, tool_mode="text").complete(MESSAGES, TOOLS)
            await client(fake, tool_mode="auto", constrain_text_calls=True).complete(MESSAGES, TOOLS)
            assert not any("response_format" in r for r in fake.requests)

    run(scenario)


def test_nan_in_native_arguments_is_invalid_json():
    async def scenario():
        with FakeLLM([Reply(tool_calls=[("grep", '{"pattern": "capex", "max_results": NaN}')])]) as fake:
            response = await client(fake).complete(MESSAGES, TOOLS)
            assert response.tool_calls[0].arguments is None  # the agent sends it back as invalid JSON

    run(scenario)
