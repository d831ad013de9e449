"""One client for OpenAI-compatible chat completions with tool calling (vLLM in production); its policy (agent.policy) says how
much it forgives the model."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.policy import Explain, policy_for
from agent.settings import LLMSettings
from tools.tokens import count_tokens


class LLMError(Exception):
    """The model endpoint failed after retries; `kind` says how (timeout, unavailable, rejected, crashed), the message what to do."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass
class ToolCallRequest:
    """A tool call the model asked for, natively or as JSON in its text."""

    id: str
    name: str
    arguments: dict[str, Any] | None  # None when the arguments were not valid JSON
    raw_arguments: str = ""
    from_text: bool = False


@dataclass
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds


@dataclass
class LLMResponse:
    content: str
    tool_calls: list[ToolCallRequest]
    finish_reason: str | None
    usage: Usage
    text_call_errors: list[str] = field(default_factory=list)  # malformed JSON tool calls found in the text

    def assistant_message(self) -> dict[str, Any]:
        """The message to append to the transcript for this turn."""
        native = [c for c in self.tool_calls if not c.from_text]
        # null content only beside tool calls: llama-cpp-python's server (and others) reject an assistant turn with neither
        message: dict[str, Any] = {"role": "assistant", "content": (self.content or None) if native else self.content}
        if native:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.raw_arguments or json.dumps(c.arguments)},
                }
                for c in native
            ]
        return message


class LLMClient:
    """Async chat completions with tools, retries, token accounting and optional streaming."""

    def __init__(
        self,
        settings: LLMSettings,
        base_url: str | None = None,
        *,
        explain: Explain | None = None,
        slots: int | asyncio.Semaphore | None = None,
    ) -> None:
        from openai import AsyncOpenAI

        self.settings = settings
        self._explain = explain  # why the endpoint failed a call begun at a time.time(), when it knows (the embedded model)
        self.policy = policy_for(settings, explain)
        # At most `slots` calls at once (the rest queue here): a one-slot server must not get a second request meanwhile.
        self.slots = asyncio.Semaphore(slots) if isinstance(slots, int) else slots
        url = base_url or settings.base_url
        if not url:
            raise LLMError("unconfigured", "no LLM endpoint: set SLEUTH_LLM_BASE_URL (e.g. http://localhost:8000/v1 for vLLM)")
        self.base_url = url
        self._client = AsyncOpenAI(
            base_url=url, api_key=settings.api_key, timeout=settings.timeout_s, max_retries=settings.max_retries
        )
        self.usage = Usage()

    def with_model(self, model: str) -> LLMClient:
        """A client for another model at the same endpoint, with the same settings."""
        return LLMClient(
            self.settings.model_copy(update={"model": model}), base_url=self.base_url, explain=self._explain, slots=self.slots
        )

    async def close(self) -> None:
        await self._client.close()

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        *,
        tool_choice: str | dict[str, Any] = "auto",
        on_text: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
    ) -> LLMResponse:
        """One model turn; streams its text (and tool-call argument) deltas to `on_text` when given. Raises LLMError after retries."""
        native_tools = tools if tools and self.settings.tool_mode != "text" else None
        request: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": max_tokens or self.settings.max_tokens,
        }
        if native_tools:
            request["tools"] = native_tools
            request["tool_choice"] = tool_choice
        if tools:
            request.update(self.policy.request_fields(tools, tool_choice))
        if self.settings.extra_body:
            request.update(self.settings.extra_body)  # vLLM reads its extras as top-level fields
        async with self.slots or contextlib.nullcontext():
            return await self._complete(request, tools, on_text)

    async def _complete(
        self, request: dict[str, Any], tools: list[dict[str, Any]] | None, on_text: Callable[[str], None] | None
    ) -> LLMResponse:
        import openai

        started, began = time.perf_counter(), time.time()
        try:
            if on_text is None:
                completion = await self._post(request)
                response = _from_completion(completion)
            else:
                response = await self._stream(request, on_text)
        except openai.APITimeoutError as exc:
            raise LLMError(
                "timeout",
                f"the model at {self.base_url} did not answer within {self.settings.timeout_s:.0f} s "
                "(SLEUTH_LLM_TIMEOUT_S); is it overloaded?",
            ) from exc
        except openai.APIConnectionError as exc:
            if why := await self._explained(began):
                raise LLMError("crashed", why) from exc
            raise LLMError("unavailable", f"cannot reach the model at {self.base_url} ({exc}); is the server running?") from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500 and (why := await self._explained(began)):
                raise LLMError("crashed", why) from exc
            kind = "unavailable" if exc.status_code >= 500 or exc.status_code == 429 else "rejected"
            raise LLMError(kind, f"the model at {self.base_url} answered {exc.status_code}: {_error_text(exc)}") from exc
        except openai.APIError as exc:  # an error event inside a streamed reply: vLLM's engine died mid-reply
            raise LLMError("unavailable", f"the model at {self.base_url} failed mid-reply: {_error_text(exc)}; "
                                          "is the server healthy (its log)?") from exc  # fmt: skip
        response.usage.seconds = time.perf_counter() - started
        response.usage.calls = 1
        if tools:
            self.policy.read_reply(response, tools)
        self.usage.add(response.usage)
        return response

    async def _explained(self, began: float) -> str | None:
        """The policy's account of a failed call (the embedded model's crash), read off the event loop."""
        if self._explain is None:
            return None
        return await asyncio.to_thread(self.policy.explain, began)

    async def _post(self, body: dict[str, Any], *, stream: bool = False) -> Any:
        """POST /chat/completions with the SDK's retries, timeouts and errors, but without its request transform: the
        body is plain JSON already, and walking long transcripts through the SDK's typed transform costs ~5 ms a call."""
        from openai import AsyncStream
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        return await self._client.post(
            "/chat/completions", body=body, cast_to=ChatCompletion, stream=stream, stream_cls=AsyncStream[ChatCompletionChunk]
        )

    async def _stream(self, request: dict[str, Any], on_text: Callable[[str], None]) -> LLMResponse:
        stream = await self._post({**request, "stream": True, "stream_options": {"include_usage": True}}, stream=True)
        content: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish = None
        usage = Usage()
        async for chunk in stream:
            if chunk.usage:
                usage.prompt_tokens, usage.completion_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    content.append(delta.content)
                    on_text(delta.content)
                for tc in delta.tool_calls or []:
                    slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = tc.id or slot["id"]
                    if tc.function:
                        slot["name"] += tc.function.name or ""
                        slot["arguments"] += tc.function.arguments or ""
                        if tc.function.arguments:
                            on_text(tc.function.arguments)  # a native tool call is the reply being written too
                finish = choice.finish_reason or finish
        requests = [_tool_request(c["id"] or f"call_{i}", c["name"], c["arguments"]) for i, c in sorted(calls.items())]
        if not usage.prompt_tokens and not usage.completion_tokens:  # a server that ignores include_usage: estimates
            usage.prompt_tokens = count_tokens(json.dumps(request["messages"]))
            usage.completion_tokens = count_tokens("".join(content) + "".join(c["arguments"] for c in calls.values()))
        return LLMResponse("".join(content), requests, finish, usage)


def _from_completion(completion: Any) -> LLMResponse:
    choice = completion.choices[0]
    message = choice.message
    calls = [_tool_request(tc.id, tc.function.name, tc.function.arguments or "") for tc in message.tool_calls or []]
    usage = Usage()
    if completion.usage:
        usage.prompt_tokens, usage.completion_tokens = completion.usage.prompt_tokens, completion.usage.completion_tokens
    return LLMResponse(message.content or "", calls, choice.finish_reason, usage)


def _tool_request(call_id: str, name: str, raw: str) -> ToolCallRequest:
    try:
        arguments = json.loads(raw, parse_constant=_not_json) if raw.strip() else {}
    except ValueError:  # invalid JSON, or NaN/Infinity, which could not be stored or sent on
        arguments = None
    if arguments is not None and not isinstance(arguments, dict):
        arguments = None
    return ToolCallRequest(call_id, name, arguments, raw)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _error_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message") or error)[:300]
        return str(error)[:300]
    return str(exc)[:300]
