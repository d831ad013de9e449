"""Liveness, readiness (database, index, model endpoint) and Prometheus metrics.

Probes need no key and say only up / ready; with a key (or on the open loopback server) /readyz reports each check.
The model endpoint is asked at most once per interval however often /readyz is called (api.endpoint).
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.auth import authenticated
from api.routes.deps import CallerDep, ServicesDep

router = APIRouter(tags=["health"])
CHECK_TTL_S = 2.0  # database and index checks are shared by the probes of this interval


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready or not (503); with a key, each check: database, index, model endpoint")
async def readyz(request: Request, svc: ServicesDep) -> JSONResponse:
    report = await _checks(svc)
    ok = all(c["ok"] for c in report.values())
    try:
        await authenticated(request, svc.store, svc.limiter)
    except HTTPException:  # anyone may probe; only callers with a key learn why it is not ready, and where things are
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)
    return JSONResponse({"ready": ok, "checks": report}, status_code=200 if ok else 503)


async def _checks(svc: ServicesDep) -> dict[str, dict]:
    async with svc.ready_lock:
        checked, report = svc.ready_report
        if report is not None and time.monotonic() - checked < CHECK_TTL_S:
            return report
        report = dict(await asyncio.gather(_database(svc), _index(svc), _llm(svc), _embeddings(svc)))
        svc.ready_report = (time.monotonic(), report)
        return report


async def _database(svc: ServicesDep) -> tuple[str, dict]:
    def ping() -> None:
        with svc.corpus.engine.connect() as conn:
            conn.execute(text("select 1"))

    try:
        await asyncio.to_thread(ping)
        return "database", {"ok": True, "url": svc.corpus.engine.url.render_as_string(hide_password=True)}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return "database", {"ok": False, "error": str(exc)[:300]}


async def _index(svc: ServicesDep) -> tuple[str, dict]:
    from api.settings import get_settings
    from retrieval.searcher import index_dir

    settings = get_settings().retrieval
    if settings.index_url:  # Milvus: reachable, collection present, built with this embedding model
        from retrieval.manifest import IndexError_
        from retrieval.milvus import MilvusIndex

        try:
            return "index", {
                "ok": True,
                **await asyncio.to_thread(MilvusIndex(settings.index_url, settings, token=settings.index_token).ping),
            }
        except IndexError_ as exc:
            return "index", {"ok": False, "backend": "milvus", "url": settings.index_url, "error": str(exc)[:500]}
    path = index_dir(svc.corpus.settings, settings)
    if (path / "manifest.json").is_file():
        return "index", {"ok": True, "backend": "local", "path": str(path)}
    return "index", {"ok": False, "error": f"no search index at {path}; run `sleuth index` (grep and read work without it)"}


async def _embeddings(svc: ServicesDep) -> tuple[str, dict]:
    """Dense coverage, informational: search answers from BM25 alone until embeddings land, so it never makes the server unready."""
    found = await asyncio.to_thread(svc.dense_coverage)
    return "embeddings", {"ok": True, **(found or {"line": "dense: no local index yet"})}


async def _llm(svc: ServicesDep) -> tuple[str, dict]:
    if svc.no_model:
        return "llm", {"ok": False, "configured": False, "embedded": False, "error": svc.no_model}
    found: dict = {"url": svc.llm.base_url, "model": svc.llm.settings.model, "embedded": svc.embedded}
    if svc.local_model is not None:  # the embedded model's supervisor knows more than a probe: crashes and restarts
        found["server"] = status = svc.local_model.status()
        if status["state"] == "failed":
            return "llm", {
                **found,
                "ok": False,
                "error": f"the embedded model server {status['last_crash']['reason']} and was "
                f"restarted {status['restarts_in_last_hour']} times within an hour; Sleuth stopped restarting it: restart "
                f"`sleuth serve` (log: {status['log']})",
            }
        if status["state"] == "restarting":
            return "llm", {
                **found,
                "ok": False,
                "error": f"the embedded model server {status['last_crash']['reason']}; Sleuth is "
                f"restarting it (restart {status['restarts_in_last_hour']} of {status['max_restarts']})",
            }
    state = await svc.endpoint.state()
    if state.ok:
        return "llm", {**found, "ok": True}
    return "llm", {**found, "ok": False, "error": state.error}


@router.get("/metrics", summary="Prometheus metrics (a key once the server has keys)")
async def metrics(svc: ServicesDep, who: CallerDep) -> Response:
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
