"""A scripted fake LLM: an OpenAI-compatible chat-completions server on 127.0.0.1 for tests and benchmarks.

Usage::

    with FakeLLM([Reply(tool_calls=[("grep", {"pattern": "EBITDA"})]), Reply(content="42")]) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="x", max_retries=0)
        ...
        assert llm.requests[1]["messages"][-1]["role"] == "tool"

A list script is consumed in order across requests; once it runs out every request gets HTTP 500 saying so
(with ``x-should-retry: false``, so SDK retries don't hide it). A callable script gets each request body and
answers forever. Only the standard library is used, so any test (or the benchmark) can start one cheaply.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeLLM", "Reply", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 10 * 1024 * 1024
_DRAIN_LIMIT = 128 * 1024 * 1024  # past this an oversized body is not read before answering 413
_STREAM_PIECES = 3

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
}


@dataclass
class Reply:
    """One scripted model turn: text and/or tool calls, or an HTTP failure."""

    content: str | None = None
    # (name, arguments): a dict is sent as JSON; a str is sent verbatim (e.g. to script malformed arguments).
    tool_calls: list[tuple[str, dict[str, Any] | str]] | None = None
    status: int = 200  # non-200 answers an OpenAI-style error JSON; `content` becomes its message when given
    delay_s: float = 0.0
    stream_delay_s: float = 0.0  # pause between streamed chunks (a slow model writing)
    # Streamed: an error event instead of the reply's end, as vLLM sends when its engine dies mid-reply.
    stream_error: str | None = None
    finish_reason: str | None = None  # default "tool_calls" when tool_calls else "stop"
    usage: tuple[int, int] | None = None  # (prompt_tokens, completion_tokens); default: ~4 characters a token
    # Extra response headers. Error replies default to `retry-after-ms: 1` so SDK retries don't sleep.
    headers: dict[str, str] = field(default_factory=dict)


Script = list[Reply] | Callable[[dict[str, Any]], "Reply | str"] | None


class FakeLLM:
    """Context manager running the fake server in a daemon thread; see the module docstring."""

    def __init__(self, script: Script = None, model: str = "fake-model") -> None:
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque()
        self._responder: Callable[[dict[str, Any]], Reply | str] | None = None
        self._served = 0  # scripted replies handed out, for the exhaustion message
        if callable(script):
            self._responder = script
        elif script is not None:
            self._replies.extend(script)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeLLM:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"FakeLLM:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake delayed replies, close open connections and the listening socket."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- public API --------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeLLM is not running; use it as a context manager or call start() first")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pending(self) -> int:
        """Scripted replies not yet consumed (0 for a callable script)."""
        with self._lock:
            return len(self._replies)

    def respond_with(self, script: Callable[[dict[str, Any]], Reply | str]) -> None:
        """Answer every further request with `script(body)` (replacing a list script)."""
        with self._lock:
            self._replies.clear()
            self._responder = script

    def add(self, *replies: Reply) -> None:
        """Append replies to a list script."""
        if self._responder is not None:
            raise TypeError("FakeLLM was given a callable script; add() only extends a list script")
        with self._lock:
            self._replies.extend(replies)

    # -- used by the handler -----------------------------------------------------------------------------

    def _record(self, body: dict[str, Any]) -> int:
        with self._lock:
            self.requests.append(body)
            return len(self.requests)

    def _next_reply(self, body: dict[str, Any], number: int) -> Reply:
        if self._responder is not None:
            try:
                reply = self._responder(body)
            except Exception as exc:  # noqa: BLE001 - surfaced to the test as a loud HTTP 500
                return _fatal(f"FakeLLM script raised {type(exc).__name__} on request #{number}: {exc}")
            if isinstance(reply, str):
                reply = Reply(content=reply)
            if not isinstance(reply, Reply):
                return _fatal(f"FakeLLM script returned {type(reply).__name__} on request #{number}; return a Reply")
            return reply
        with self._lock:
            if self._replies:
                self._served += 1
                return self._replies.popleft()
            served = self._served
        return _fatal(
            f"FakeLLM script exhausted: request #{number} arrived but only {served} replies were scripted; "
            "add more with FakeLLM.add(Reply(...)) or pass a callable script"
        )


def _fatal(message: str) -> Reply:
    """A 500 the SDK will not retry, so a broken script fails the test at once."""
    return Reply(content=message, status=500, headers={"x-should-retry": "false"})


# -- response bodies -----------------------------------------------------------------------------------


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _prompt_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
        for call in message.get("tool_calls") or []:
            parts.append(json.dumps(call.get("function", {})))
    if body.get("tools"):
        parts.append(json.dumps(body["tools"]))
    return "\n".join(parts)


def _pieces(text: str, n: int = _STREAM_PIECES) -> list[str]:
    if not text:
        return []
    size = math.ceil(len(text) / n)
    return [text[i : i + size] for i in range(0, len(text), size)]


class _Turn:
    """A successful Reply rendered for one request: ids, tool calls, usage."""

    def __init__(self, reply: Reply, body: dict[str, Any], default_model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = body.get("model") if isinstance(body.get("model"), str) else default_model
        self.content = reply.content
        self.tool_calls = [
            {
                "id": f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for name, args in reply.tool_calls or []
        ]
        self.finish_reason = reply.finish_reason or ("tool_calls" if self.tool_calls else "stop")
        if reply.usage is not None:
            prompt, completion = reply.usage
        else:
            completion_text = (self.content or "") + "".join(
                c["function"]["name"] + c["function"]["arguments"] for c in self.tool_calls
            )
            prompt, completion = _tokens(_prompt_text(body)), _tokens(completion_text)
        self.usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def completion(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content, "refusal": None, "annotations": []}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish_reason}],
            "usage": self.usage,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }

    def chunks(self, include_usage: bool) -> Iterator[dict[str, Any]]:
        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                out["usage"] = None
            return out

        yield chunk({"role": "assistant", "content": "" if self.content is not None else None, "refusal": None})
        for piece in _pieces(self.content or ""):
            yield chunk({"content": piece})
        for index, call in enumerate(self.tool_calls):
            head = {"index": index, "id": call["id"], "type": "function"}
            yield chunk({"tool_calls": [{**head, "function": {"name": call["function"]["name"], "arguments": ""}}]})
            for piece in _pieces(call["function"]["arguments"]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, self.finish_reason)
        if include_usage:
            yield {**chunk({}), "choices": [], "usage": self.usage}


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


# -- HTTP plumbing -------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a burst of 100+ concurrent connects must not overflow the listen backlog
    fake: FakeLLM

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (timeouts, shutdown) are expected here, not failures to print


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    server: _Server
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # client went away mid-answer (e.g. its timeout fired during delay_s)
            self.close_connection = True

    @property
    def fake(self) -> FakeLLM:
        return self.server.fake

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def do_GET(self) -> None:
        path = self._path()
        if path == "/health":
            self._send_json(200, {"status": "ok"})
        elif path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [self._model_card()]})
        elif path == f"/v1/models/{self.fake.model}":
            self._send_json(200, self._model_card())
        else:
            self._send_json(404, _error_body(404, f"FakeLLM has no GET {path}; try /v1/models or /health"))

    def do_POST(self) -> None:
        path = self._path()
        body = self._read_json()
        if body is None:
            return
        if path != "/v1/chat/completions":
            self._send_json(404, _error_body(404, f"FakeLLM has no POST {path}; use /v1/chat/completions"))
            return
        number = self.fake._record(body)
        if not isinstance(body.get("messages"), list):
            self._send_json(400, _error_body(400, "'messages' must be a list of chat messages"))
            return
        reply = self.fake._next_reply(body, number)
        if reply.delay_s > 0 and self.fake._stopping.wait(reply.delay_s):
            self.close_connection = True
            return
        if reply.status != 200:
            message = reply.content or f"Scripted failure (HTTP {reply.status}) from FakeLLM"
            headers = {"retry-after-ms": "1", **reply.headers}
            self._send_json(reply.status, _error_body(reply.status, message), headers)
            return
        turn = _Turn(reply, body, self.fake.model)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = turn.chunks(include_usage)
            if reply.stream_error:
                chunks = [
                    next(iter(chunks)),
                    {"error": {"message": reply.stream_error, "type": "InternalServerError", "code": 500}},
                ]
            self._send_stream(chunks, reply.headers, reply.stream_delay_s)
        else:
            self._send_json(200, turn.completion(), reply.headers)

    def _model_card(self) -> dict[str, Any]:
        return {"id": self.fake.model, "object": "model", "created": 0, "owned_by": "fake-llm"}

    def _read_json(self) -> dict[str, Any] | None:
        """The request body as a JSON object, or None after answering the error."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send_json(411, _error_body(411, "FakeLLM needs a Content-Length; chunked bodies are not supported"))
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send_json(400, _error_body(400, "invalid Content-Length"))
            return None
        if length > MAX_BODY_BYTES:
            # Read (and drop) the body first so the client sees the 413 rather than a connection reset.
            if length <= _DRAIN_LIMIT:
                remaining = length
                while remaining > 0:
                    got = self.rfile.read(min(remaining, 1 << 20))
                    if not got:
                        break
                    remaining -= len(got)
            self.close_connection = True
            message = f"request body is {length} bytes; FakeLLM accepts at most {MAX_BODY_BYTES}"
            self._send_json(413, _error_body(413, message))
            return None
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError as exc:
            self._send_json(400, _error_body(400, f"request body is not valid JSON: {exc}"))
            return None
        if not isinstance(body, dict):
            self._send_json(400, _error_body(400, "request body must be a JSON object"))
            return None
        return body

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, chunks: Iterator[dict[str, Any]], headers: dict[str, str], pause_s: float = 0.0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        events = [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]
        for event in events:
            data = event.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            if pause_s > 0:
                self.wfile.flush()
                if self.fake._stopping.wait(pause_s):
                    return
        self.wfile.write(b"0\r\n\r\n")
