"""Sleuth over MCP: the agent's tools from tools.REGISTRY (same names, schemas, descriptions and result texts) plus `research`.

One server, two transports: `sleuth mcp` (stdio, its own corpus and model endpoint) and `/mcp` in `sleuth serve`
(streamable HTTP behind the API's key check; research goes through the API's run queue, so it is stored and bounded)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, Protocol

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.answer import Answer, Comparison
from agent.answer_chart import chart_markdown
from agent.llm import LLMError
from agent.scope import Filters
from corpus.errors import CorpusError, validation_problems
from tools.context import ToolContext
from tools.registry import REGISTRY

log = logging.getLogger(__name__)
SERVER_NAME = "sleuth"
QUESTION_MAX_CHARS = 4000
INSTRUCTIONS = (
    "Sleuth researches SEC filings (10-K, 10-Q, 8-K, earnings releases) with page-level citations. Find filings with "
    "list_documents or glob, locate figures with grep or search, navigate with outline and read; every result names "
    "doc_id, page and line. `research` runs Sleuth's own agent on a whole question and returns a cited answer."
)


class ResearchArgs(BaseModel):
    """Run Sleuth's research agent on a question over the filings and return its answer with checked page citations."""

    model_config = ConfigDict(extra="forbid")

    # Its longest length is the server's (SLEUTH_API_QUESTION_MAX_CHARS), checked in _research and shown in the schema.
    question: str = Field(..., min_length=1, description="The question, complete on its own (company, period, figure).")
    mode: Literal["agentic", "rag", "compare"] = Field(
        "agentic", description="agentic (the investigating agent), rag (retrieve then answer), or compare (both)."
    )
    filters: Filters | None = Field(
        None, description="Restrict the research to these filings (company, form, fiscal year, doc_ids)."
    )
    thread_id: str | None = Field(
        None,
        max_length=64,
        description="Continue this research thread (from an earlier research result): the question is a follow-up that "
        "starts from the memory of the thread's earlier answers and may refer to them ('and in 2017?'). Omit it to start a "
        "new thread; every result names its thread_id.",
    )


RESEARCH_DESCRIPTION = (
    "Research a question over the SEC filings with Sleuth's own agent (it greps, outlines, reads sections and follows "
    "cross-references) and return the answer with its status and page citations, each checked against the page "
    "(✓ verified, ✗ failed). Slow (a full run: seconds to minutes); for a single lookup use grep, search or read."
)


class ToolSlots:
    """MCP tool calls: at most `total` at once, in threads of their own (never anyio's shared pool, which the key check
    and the routes use), and at most `per_caller` in flight per caller; a caller past it is refused, not queued."""

    def __init__(self, total: int = 8, per_caller: int = 4) -> None:
        self.threads = anyio.CapacityLimiter(total)
        self.per_caller = per_caller
        self.held: Counter[str] = Counter()

    @contextlib.contextmanager
    def claim(self, who: str) -> Any:
        if self.held[who] >= self.per_caller:
            raise ToolSlotsFull(
                f"Error: this caller already has {self.per_caller} tool calls in flight (SLEUTH_API_KEY_MAX_TOOL_CALLS); "
                "wait for one to finish, then call again"
            )
        self.held[who] += 1
        try:
            yield
        finally:
            self.held[who] -= 1
            if not self.held[who]:
                del self.held[who]


class ToolSlotsFull(Exception):
    """The caller has its most tool calls in flight."""


def caller_name(ctx: Any) -> str:
    """Who makes an MCP call, for the per-caller limit: its API key, else the open server's one user (or stdio's client)."""
    request = getattr(ctx, "request", None)
    caller = getattr(request, "scope", {}).get("sleuth.caller") if request is not None else None
    if caller is None:
        return "local"
    return f"key:{caller.key_id}" if caller.key_id is not None else "open"


Progress = Callable[[str, dict[str, Any]], Awaitable[None]]  # a run event (type, data) -> a progress notification


class Backend(Protocol):
    """What the MCP server runs against: the agent's tool context, and a way to run research."""

    async def tool_context(self) -> ToolContext: ...

    async def research(self, args: ResearchArgs, request: Any, progress: Progress) -> tuple[Answer | Comparison, str | None]:
        """The answer and the thread the research was a turn of."""
        ...


def progress_message(kind: str, data: dict[str, Any]) -> str | None:
    """One line for an MCP progress notification about a run event (None: not worth one)."""
    if kind == "status" and data.get("status") in {"queued", "running"}:
        return f"{data['status']}" + (f" (queue position {data['position']})" if data.get("position") else "")
    if kind == "model_turn":
        calls = ", ".join(c.get("name", "?") for c in data.get("tool_calls") or []) or "text"
        return f"model turn {data.get('step', '?')}: {calls}"
    if kind == "tool_result":
        return f"{'✓' if data.get('ok') else '✗'} {data.get('name', '?')}"
    if kind == "subagent_started":
        return f"sub-agent {data.get('agent', '')}: {data.get('question', '')}"[:300]
    if kind == "citation_check":
        return f"citations checked: {data.get('checked', 0)}"
    if kind == "answer":
        return f"answer: {data.get('status', '?')}"
    return None


def tool_list(question_max_chars: int = QUESTION_MAX_CHARS) -> list[Any]:
    """Every registry tool as an MCP tool (the same schema the agent gets), then `research`."""
    import mcp.types as types

    out = []
    for schema in REGISTRY.schemas():
        fn = schema["function"]
        out.append(types.Tool(name=fn["name"], description=fn["description"], input_schema=fn["parameters"]))
    research_schema = ResearchArgs.model_json_schema()
    research_schema.pop("title", None)
    research_schema.pop("description", None)
    research_schema["properties"]["question"]["maxLength"] = question_max_chars
    out.append(types.Tool(name="research", description=RESEARCH_DESCRIPTION, input_schema=research_schema))
    return out


def render_answer(answer: Answer | Comparison) -> str:
    """The answer as text for an MCP client: status, answer, checked citations, warnings."""
    if isinstance(answer, Comparison):
        return f"## agentic\n{render_answer(answer.agentic)}\n\n## rag\n{render_answer(answer.rag)}"
    lines = [f"Status: {answer.status}", "", answer.text.strip() or "(no answer text)"]
    if answer.citations:
        lines += ["", "Citations:"]
        for c in answer.citations:
            mark = "✓" if c.verified else ("✗" if c.verified is False else "·")
            quote = f' "{c.quote}"' if c.quote else ""
            lines.append(f"{mark} {c.label()}{quote}" + (f" ({c.problem})" if c.problem else ""))
    if answer.chart is not None:
        lines += ["", chart_markdown(answer.chart)]
    if answer.warnings:
        lines += ["", "Warnings:", *[f"- {w}" for w in answer.warnings]]
    if answer.error:
        lines += ["", f"Error: {answer.error}"]
    return "\n".join(lines)


def build_server(backend: Backend, slots: ToolSlots | None = None, question_max_chars: int = QUESTION_MAX_CHARS) -> Any:
    """The low-level MCP server: tools/list from the registry, tools/call through REGISTRY.call (or the research run)."""
    import mcp.types as types
    from mcp.server.lowlevel import Server

    tools = tool_list(question_max_chars)
    slots = slots or ToolSlots()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    def error(text: str) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = params.arguments or {}
        if params.name == "research":
            return await _research(backend, arguments, ctx, question_max_chars)
        context = copy.copy(await backend.tool_context())  # per call: its own deadline, the shared searcher and text cache
        try:
            with slots.claim(caller_name(ctx)):
                call = await anyio.to_thread.run_sync(REGISTRY.call, params.name, arguments, context, limiter=slots.threads)
        except ToolSlotsFull as exc:
            return error(str(exc))
        except Exception:  # a bug, not the caller's doing: logged with its traceback; the client gets no internals
            log.exception("MCP tool call %s(%s) failed", params.name, json.dumps(arguments)[:500])
            return error(
                f"Error: {params.name} failed inside Sleuth (a bug, logged on the server); try other arguments or another tool"
            )
        citations = [{"doc_id": c.doc_id, "page": c.page, "line": c.line} for c in (call.citations or [])][:200]
        return types.CallToolResult(
            content=[types.TextContent(text=call.text)],
            is_error=not call.ok,
            structured_content={"citations": citations} if call.ok else None,
        )

    return Server(SERVER_NAME, version="1", instructions=INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call_tool)


async def _research(backend: Backend, arguments: dict[str, Any], ctx: Any, question_max_chars: int = QUESTION_MAX_CHARS) -> Any:
    import mcp.types as types

    sent = 0

    async def progress(kind: str, data: dict[str, Any]) -> None:
        """Run events as progress notifications (a no-op unless the client sent a progress token); they never stop the run."""
        nonlocal sent
        message = progress_message(kind, data)
        if message is None:
            return
        sent += 1
        try:
            await ctx.session.report_progress(sent, None, message)
        except Exception:  # noqa: BLE001 - a client that went away learns nothing more; the run goes on
            pass

    def error(text: str) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)

    try:
        args = ResearchArgs.model_validate(arguments)
    except ValidationError as exc:  # the same wording the registry gives the agent for bad arguments
        problems = validation_problems(exc.errors(), "arguments")
        return error(f"Error: invalid arguments for research: {problems}")
    if len(args.question) > question_max_chars:
        return error(
            f"Error: invalid arguments for research: question: {len(args.question):,} characters; the limit is {question_max_chars:,}"
        )
    try:
        answer, thread_id = await backend.research(args, ctx.request, progress)
    except (CorpusError, LLMError) as exc:  # filters naming unknown filings or matching none; no model to ask; no such thread
        return error(f"Error: {exc}")
    data = answer.model_dump(mode="json", exclude={"steps"} if isinstance(answer, Answer) else None) | {"thread_id": thread_id}
    failed = answer.status == "failed" if isinstance(answer, Answer) else answer.agentic.status == answer.rag.status == "failed"
    text = render_answer(answer) + (f"\n\nThread: {thread_id} (pass thread_id to ask a follow-up)" if thread_id else "")
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=data, is_error=failed)


class LocalBackend:
    """`sleuth mcp`: the corpus of this data directory; the model endpoint (or the embedded model) opens on first research."""

    def __init__(self, corpus: Any, stack: contextlib.AsyncExitStack) -> None:
        from api.settings import get_settings

        self.corpus = corpus
        self._stack = stack
        self._searcher: Any = None
        self._searcher_lock = threading.Lock()
        # Tool calls get the output sizes an agent on a large model gets (not those of the model `research` uses).
        self._tools = ToolContext(corpus, get_settings().tools, searcher_factory=self._open_searcher)
        self._researcher: Any = None
        self._lock = asyncio.Lock()

    def _open_searcher(self) -> Any:
        """One searcher for every call (each call works on a copy of the context; the index loads once)."""
        with self._searcher_lock:
            if self._searcher is None:
                from retrieval.searcher import HybridSearcher

                self._searcher = HybridSearcher.open(self.corpus.settings)
            return self._searcher

    async def tool_context(self) -> ToolContext:
        return self._tools

    async def research(self, args: ResearchArgs, request: Any, progress: Progress) -> tuple[Answer | Comparison, str | None]:
        """A turn of a thread stored in this data directory's database, like `sleuth ask` (api.local_turns)."""
        from agent.session import Researcher
        from api.local_turns import ask_in_thread
        from api.models import migrate
        from api.run_store import RunStore, ThreadNotFound
        from api.settings import get_settings
        from embedded.endpoint import open_endpoint

        async with self._lock:
            if self._researcher is None:
                endpoint = await self._stack.enter_async_context(
                    open_endpoint(get_settings().llm, data_dir=str(self.corpus.settings.data_dir))
                )
                await asyncio.to_thread(migrate, self.corpus.engine)
                self._researcher = Researcher(self.corpus, endpoint.client)
        filters = args.filters if args.filters and not args.filters.empty() else None

        async def emit(event: Any) -> None:
            await progress(event.type, event.data)

        try:
            done = await ask_in_thread(
                self._researcher,
                RunStore(self.corpus.sessions),
                args.question,
                args.mode,
                thread_id=args.thread_id,
                filters=filters,
                emit=emit,
            )
        except ThreadNotFound as exc:
            raise CorpusError(str(exc)) from None
        return done.result, done.thread_id


async def serve_stdio(corpus: Any) -> None:
    """Serve MCP on stdin/stdout until the client closes it."""
    from mcp.server.stdio import stdio_server

    async with contextlib.AsyncExitStack() as stack:
        server = build_server(LocalBackend(corpus, stack))
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())


class ServiceBackend:
    """/mcp in `sleuth serve`: the API's tools and searcher; research is a run in the API's queue (stored, in the history)."""

    def __init__(self, services: Any) -> None:
        self.svc = services

    async def tool_context(self) -> ToolContext:
        return (await self.svc.researcher_for(None)).tools

    async def research(self, args: ResearchArgs, request: Any, progress: Progress) -> tuple[Answer | Comparison, str | None]:
        from agent.scope import resolve
        from api.run_store import ThreadNotFound, TooManyActive
        from api.runner import ThreadTurn
        from api.thread_store import ThreadStore

        svc = self.svc
        unavailable = svc.model_unavailable()
        if unavailable:
            raise CorpusError(unavailable)
        caller = getattr(request, "scope", {}).get("sleuth.caller")
        key_id = getattr(caller, "key_id", None)
        threads = ThreadStore(svc.store.sessions)
        mode = args.mode
        if args.thread_id is not None:  # another key's thread is as unknown as one that never was
            may_see = caller.owns if caller is not None else (lambda key: key is None)
            try:
                given = "mode" in args.model_fields_set
                mode = await asyncio.to_thread(threads.follow_up_mode, args.thread_id, may_see, mode, given)  # type: ignore[assignment]
            except ThreadNotFound as gone:
                raise CorpusError(f"{gone}; start a new thread by leaving thread_id out") from None
        await asyncio.to_thread(resolve, svc.corpus, args.filters)
        if svc.runner.queued() >= svc.settings.max_queued:
            raise CorpusError(f"the research queue is full ({svc.settings.max_queued} runs waiting); retry later")
        filters = args.filters if args.filters and not args.filters.empty() else None
        limit = svc.settings.key_max_running
        try:  # counted and stored in one step, as POST /v1/runs does
            run = await asyncio.to_thread(
                svc.store.create_run,
                mode=mode,
                question=args.question,
                filters=filters.model_dump(exclude_none=True) if filters else None,
                model=svc.llm.settings.model,
                budgets=None,
                key_id=key_id,
                max_active=limit,
                threaded=True,
                thread_id=args.thread_id,
            )
        except ThreadNotFound as gone:
            raise CorpusError(f"{gone}; start a new thread by leaving thread_id out") from None
        except TooManyActive:
            raise CorpusError(
                f"this key already has {limit} runs queued or running (SLEUTH_API_KEY_MAX_RUNNING); wait for one to finish"
            ) from None
        after = await asyncio.to_thread(threads.previous_active, run.thread_id, run.turn) if run.turn and run.turn > 1 else None
        svc.runner.submit(run.id, args.question, mode, filters, None, None, thread=ThreadTurn(run.thread_id, run.turn, after))
        seen = 0
        try:
            while svc.runner.is_active(run.id):
                for event in svc.runner.live_events(run.id, seen) or []:
                    seen = event["seq"]
                    await progress(event["type"], event["data"])
                await svc.runner.wait_for_change(run.id, 5.0)
        except BaseException:  # the client went away: the run it asked for stops too
            await svc.runner.cancel(run.id)
            raise
        for row in await asyncio.to_thread(svc.store.events, run.id, seen):  # what came after the last look
            await progress(row.type, row.data)
        done = await asyncio.to_thread(svc.store.get, run.id)
        if done.result is None:
            stopped = Answer(
                mode="agentic" if mode == "compare" else mode,
                question=args.question,
                text="",
                status="cancelled" if done.status in {"cancelled", "interrupted"} else "failed",
                error=done.error,
            )
            return stopped, run.thread_id
        result = Comparison.model_validate(done.result) if mode == "compare" else Answer.model_validate(done.result)
        return result, run.thread_id


class McpEndpoint:
    """ASGI app at /mcp: the API's key check, rate limits and open-server guards (api.auth.authenticate), then MCP.

    The SDK takes seconds of CPU to import, so it loads in a thread after start-up: /healthz and the API answer at once,
    and a request to /mcp meanwhile waits for it (up to READY_TIMEOUT_S)."""

    READY_TIMEOUT_S = 60.0

    def __init__(self) -> None:
        self.manager: Any = None
        self.services: Any = None
        self._ready = asyncio.Event()
        self._problem: str | None = None

    @contextlib.asynccontextmanager
    async def running(self, services: Any) -> AsyncIterator[None]:
        self.services = services
        self._ready = asyncio.Event()
        stop = asyncio.Event()
        task = asyncio.create_task(self._serve(services, stop), name="mcp-session-manager")
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            self.manager = None

    async def _serve(self, services: Any, stop: asyncio.Event) -> None:
        try:
            await asyncio.to_thread(_import_sdk)
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
            from mcp.server.transport_security import TransportSecuritySettings

            # Stateless: every request stands alone, so several server processes (--workers) can serve one client.
            # SSE replies: a research call streams its progress notifications until the answer.
            settings = services.settings
            server = build_server(
                ServiceBackend(services),
                ToolSlots(settings.mcp_tool_calls, settings.key_max_tool_calls),
                settings.question_max_chars,
            )
            manager = StreamableHTTPSessionManager(
                app=server,
                stateless=True,
                json_response=False,
                security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            )
            async with manager.run():
                self.manager = manager
                self._ready.set()
                await stop.wait()
        except Exception as exc:  # /mcp says why; the rest of the API keeps serving
            log.exception("the MCP endpoint could not start")
            self._problem = f"the MCP endpoint could not start ({type(exc).__name__}: {exc})"
            self._ready.set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from fastapi import HTTPException
        from starlette.requests import Request

        from api.auth import authenticated  # with no keys: loopback clients and Host names only (the open server's guards)

        if scope["type"] != "http":
            return
        if self.services is None:
            return await _reply(send, 503, "the MCP endpoint is not running (the server is starting or stopping)")
        request = Request(scope)
        try:
            caller = await authenticated(request, self.services.store, self.services.limiter)
        except HTTPException as exc:
            return await _reply(send, exc.status_code, exc.detail, exc.headers)
        try:
            await asyncio.wait_for(self._ready.wait(), self.READY_TIMEOUT_S)
        except TimeoutError:
            return await _reply(send, 503, "the MCP endpoint is still starting; retry in a few seconds", {"Retry-After": "5"})
        if self.manager is None:
            return await _reply(send, 503, self._problem or "the MCP endpoint is not running (the server is stopping)")
        scope["sleuth.caller"] = caller
        await self.manager.handle_request(scope, receive, send)


def _import_sdk() -> None:
    import mcp.server.lowlevel  # noqa: F401
    import mcp.server.streamable_http_manager  # noqa: F401
    import mcp.types  # noqa: F401


async def _reply(send: Any, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
