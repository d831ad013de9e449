"""Plain ASGI middleware every response passes: security headers (CSP, frame and sniffing guards) and request body caps.

Body caps are enforced before a byte is read (Content-Length) and while the body streams (chunked or lying clients):
an upload request may carry SLEUTH_API_UPLOAD_REQUEST_MAX_MB, any other body SLEUTH_API_BODY_MAX_KB.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import HTTPException

from api.chat import chat_path, error_body

# The web UI is plain ES modules and CSS from this origin: nothing inline, nothing from elsewhere (page images are blob: URLs
# of images fetched from this origin with the API key).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc (local files too) set styles at run time and ReDoc runs its search in a blob: worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc", "/docs-assets/")
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = (DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else CSP).encode()

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in [*HEADERS, (b"content-security-policy", csp)] if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def is_upload(scope: dict[str, Any]) -> bool:
    return scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/documents"


def is_chat(scope: dict[str, Any]) -> bool:
    return scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/chat/completions"


class BodyLimit:
    """413 for a body over its cap: at once from Content-Length, else as soon as the streamed bytes pass it."""

    def __init__(self, app: Any, body_max: int, upload_max: int, chat_max: int | None = None) -> None:
        self.app = app
        self.body_max = body_max
        self.upload_max = upload_max
        self.chat_max = chat_max or body_max

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload, chat = is_upload(scope), is_chat(scope)
        limit = self.upload_max if upload else self.chat_max if chat else self.body_max
        what = (
            f"an upload request may carry {_size(limit)} (SLEUTH_API_UPLOAD_REQUEST_MAX_MB); send fewer or smaller files"
            if upload
            else f"a chat request may be {_size(limit)} (SLEUTH_API_CHAT_BODY_MAX_KB); start a new chat"
            if chat
            else f"a request body may be {_size(limit)} (SLEUTH_API_BODY_MAX_KB)"
        )
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _reply(send, 400, "Content-Length is not a number", scope=scope)
                return
            if length > limit:
                await _reply(send, 413, f"the request body is {_size(length)}; {what}", scope=scope)
                return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"the request body passed {_size(limit)}; {what}")
            return message

        await self.app(scope, counted, send)


_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")  # \u0000 in JSON text, not an escaped backslash before "u0000"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class NulGuard:
    """422 for a NUL character in the path, the query string or a JSON body, before any route runs.

    No question, filter, name or id has one, and PostgreSQL cannot store one in text (it answered 500); one check here
    covers every route that takes input, /mcp included. Uploads are left alone: a file's bytes may hold NULs.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        where = "path" if "\x00" in scope["path"] else "query" if b"%00" in query or b"\x00" in query else None
        if where is not None:
            await _reply(
                send,
                422,
                f"the request's {where} holds a NUL character (%00); no document id, run id or filter has one: remove it",
                close=False,
            )
            return
        if scope["method"] not in _BODY_METHODS or is_upload(scope):
            await self.app(scope, receive, send)
            return
        messages = []
        try:  # the body is at most SLEUTH_API_BODY_MAX_KB: BodyLimit, outside this, stops a longer one
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
        except HTTPException as exc:
            await _reply(send, exc.status_code, exc.detail, scope=scope)
            return
        body = b"".join(m.get("body", b"") for m in messages)
        if b"\x00" in body or _JSON_NUL.search(body):
            await _reply(
                send,
                422,
                "the request body holds a NUL character (\\u0000); no question, filter or name has one: remove it",
                close=False,
                scope=scope,
            )
            return

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):,.0f} MB"
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n} bytes"


async def _reply(send: Any, status: int, detail: str, close: bool = True, scope: dict[str, Any] | None = None) -> None:
    """A JSON refusal: {"detail": ...}, or OpenAI's error shape on the OpenAI-compatible routes."""
    shaped = error_body(status, detail) if scope is not None and chat_path(scope["path"]) else {"detail": detail}
    body = json.dumps(shaped).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())] + (
        [(b"connection", b"close")] if close else []
    )
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
