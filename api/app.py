"""The research API: FastAPI app under /v1, started by `sleuth serve`; the web UI is served at / when present."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import RateLimiter
from api.docs import mount_docs
from api.mcp_server import McpEndpoint
from api.metrics import Metrics
from api.models import migrate
from api.page_renderer import PageRenderer, RenderLimits
from api.run_store import RunStore
from api.runner import RunManager
from api.security import BodyLimit, NulGuard, SecurityHeaders
from api.services import Services
from api.settings import ApiSettings, get_settings
from api.uploads import sweep as sweep_uploads
from corpus.catalog import Corpus
from corpus.errors import CorpusError, validation_problem
from corpus.settings import CorpusSettings
from embedded.endpoint import open_endpoint

log = logging.getLogger(__name__)
INDEX_SYNC_GRACE_S = 180
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class RequestCounter:
    """Counts requests by route and status for /metrics; plain ASGI, so streamed responses pass through untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_counted(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            services = getattr(scope.get("app").state, "services", None) if scope.get("app") else None
            if services is not None:
                route = scope.get("route")
                services.metrics.requests.labels(route=getattr(route, "name", "unmatched"), code=str(status)).inc()


def _say(message: str) -> None:
    """A line for the person who started the server (stderr, beside uvicorn's own lines)."""
    print(f"sleuth: {message}", file=sys.stderr, flush=True)


def ready_line(settings: ApiSettings, endpoint: Any) -> str:
    """Where to open the UI and who answers."""
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host
    url = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}/"
    if endpoint.unavailable:
        who = endpoint.unavailable
    elif endpoint.embedded:
        who = (
            f"answers come from the embedded model ({endpoint.client.settings.model} on this CPU: slow, for trying Sleuth; "
            "set SLEUTH_LLM_BASE_URL to a real model)"
        )
    else:
        who = f"answers come from {endpoint.client.settings.model} at {endpoint.client.base_url}"
    return f"ready: open {url} in a browser; {who}"


def start_embedding(corpus: Corpus) -> Any:
    """The background embedding worker over the local index (None when switched off or the index is in Milvus)."""
    from retrieval.background import BackgroundEmbedder
    from retrieval.searcher import index_dir

    settings = get_settings().retrieval
    if not settings.embedding_background or settings.index_url:
        return None
    worker = BackgroundEmbedder(index_dir(corpus.settings, settings), settings)
    worker.start()
    return worker


async def pause_embedding_while_the_cpu_model_answers(services: Services) -> None:
    """The embedded model and the embedding worker share the CPU: the worker waits while research runs are in flight."""
    while True:
        services.embedding.pause(services.embedded and services.runner.research_active() > 0)
        await asyncio.sleep(1.0)


def create_app(settings: ApiSettings | None = None, corpus_settings: CorpusSettings | None = None) -> FastAPI:
    settings = settings or get_settings().api
    mcp_endpoint = McpEndpoint()
    app = FastAPI(
        title="Sleuth research API",
        version="1",
        description="Agentic research over SEC filings with page-level citations: runs (agentic, RAG, compare) as jobs with "
        "stored, replayable step events (SSE), documents, votes and a leaderboard.",
        lifespan=_lifespan(settings, corpus_settings, mcp_endpoint),
        docs_url=None,
        redoc_url=None,
    )
    _add_error_handlers(app)
    app.add_middleware(RequestCounter)
    app.add_middleware(NulGuard)  # inside BodyLimit: the body it reads is capped
    app.add_middleware(BodyLimit, body_max=settings.body_max_kb << 10, upload_max=settings.upload_request_max_mb << 20)
    app.add_middleware(SecurityHeaders)  # outermost: every response has the headers, refusals by the middleware above included
    app.state.page_renderer = PageRenderer(
        RenderLimits(
            dpi=settings.page_dpi,
            timeout_s=settings.page_render_timeout_s,
            memory_mb=settings.page_render_memory_mb,
            workers=settings.page_render_workers,
            per_caller=settings.key_max_renders,
        )
    )
    _add_routes(app, mcp_endpoint)
    return app


def _lifespan(
    settings: ApiSettings, corpus_settings: CorpusSettings | None, mcp_endpoint: McpEndpoint
) -> Callable[[FastAPI], Any]:
    """The server's life: open the catalog, the run store and the model endpoint; serve; stop the runs and close."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        corpus = Corpus.open(corpus_settings or get_settings().corpus)
        stack = contextlib.ExitStack()  # the embedding worker and its pauser stop last, whatever failed
        try:
            store, interrupted = _open_run_store(corpus)
            embedding = start_embedding(corpus)
            stack.callback(lambda: embedding and embedding.stop())
            async with open_endpoint(
                get_settings().llm, data_dir=str(corpus.settings.data_dir), say=_say, without_model=True
            ) as endpoint:
                metrics = Metrics()
                limiter = RateLimiter(settings.key_rate_per_minute, settings.bad_key_per_minute)
                services = Services(
                    settings,
                    corpus,
                    store,
                    endpoint.client,
                    endpoint.embedded,
                    metrics,
                    limiter,
                    get_settings().agent,
                    interrupted=interrupted,
                    local_model=endpoint.model,
                    no_model=endpoint.unavailable,
                )
                services.runner = RunManager(
                    store, services.researcher_for, metrics, settings.max_running, {"ingest": settings.max_ingesting}
                )
                services.embedding = embedding
                if embedding is not None:
                    pauser = asyncio.create_task(pause_embedding_while_the_cpu_model_answers(services), name="embedding-pause")
                    stack.callback(pauser.cancel)
                app.state.services = services
                _say(ready_line(settings, endpoint))
                try:
                    async with mcp_endpoint.running(services):
                        yield
                finally:
                    await _close(app, services)
        finally:
            stack.close()
            corpus.close()

    return lifespan


def _open_run_store(corpus: Corpus) -> tuple[RunStore, list[str]]:
    """The run store, migrated; runs left in flight by the last stop are marked interrupted and their staged uploads swept."""
    migrate(corpus.engine)
    store = RunStore(corpus.sessions)
    interrupted = store.interrupt_active()
    if interrupted:
        log.warning("%d runs were in flight when the server last stopped; marked interrupted", len(interrupted))
    sweep_uploads(corpus.settings.data_dir / "uploads", store)  # staged files of jobs that ended or never ran
    return store, interrupted


async def _close(app: FastAPI, services: Services) -> None:
    """Stop the runs in flight, let an index sync finish, then close the services and the page renderer."""
    await services.runner.shutdown()
    # A delete's index sync runs in a thread: let it finish, or the deleted filing stays searchable.
    if await asyncio.to_thread(services.index_lock.acquire, True, INDEX_SYNC_GRACE_S):
        services.index_lock.release()
    else:
        log.warning("an index sync was still running after %d s; run `sleuth index` to finish it", INDEX_SYNC_GRACE_S)
    await services.close()
    app.state.page_renderer.close()


def _add_error_handlers(app: FastAPI) -> None:
    """Every error answers {"detail": ...} with a message a user can act on."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            "the body is not valid JSON" if e["type"] == "json_invalid" else validation_problem(e, "body", ("body",))
            for e in exc.errors()
        ]
        return JSONResponse({"detail": "; ".join(problems)}, status_code=422)

    @app.exception_handler(CorpusError)
    async def _corpus(request: Request, exc: CorpusError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _add_routes(app: FastAPI, mcp_endpoint: McpEndpoint) -> None:
    """The API under /v1, health, the docs, MCP at /mcp, and the web UI at / when it is there."""
    from api.routes import companies, documents, fetch, health, pages, runs, threads, votes

    app.include_router(health.router)
    app.include_router(runs.router, prefix="/v1")
    app.include_router(threads.router, prefix="/v1")
    app.include_router(votes.router, prefix="/v1")
    app.include_router(fetch.router, prefix="/v1")  # before documents: /documents/fetch is not a doc_id
    app.include_router(documents.router, prefix="/v1")
    app.include_router(pages.router, prefix="/v1")
    app.include_router(companies.router, prefix="/v1")
    mount_docs(app)
    app.add_route("/mcp", mcp_endpoint, include_in_schema=False)  # MCP (streamable HTTP): the agent's tools and research
    if (WEB_DIR / "index.html").is_file():
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
