"""Liveness, readiness (database, index, model endpoint) and Prometheus metrics."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.routes.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database, index and model endpoint reachable, each reported")
async def readyz(svc: ServicesDep) -> JSONResponse:
    checks = await asyncio.gather(_database(svc), _index(svc), _llm(svc))
    report = dict(checks)
    ok = all(c["ok"] for c in report.values())
    return JSONResponse({"ready": ok, "checks": report}, status_code=200 if ok else 503)


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
    from retrieval.searcher import index_dir
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings()
    if settings.index_url:  # Milvus: reachable, collection present, built with this embedding model
        from retrieval.manifest import IndexError_
        from retrieval.milvus import MilvusIndex

        try:
            return "index", {"ok": True, **await asyncio.to_thread(MilvusIndex(settings.index_url, settings, token=settings.index_token).ping)}
        except IndexError_ as exc:
            return "index", {"ok": False, "backend": "milvus", "url": settings.index_url, "error": str(exc)[:500]}
    path = index_dir(svc.corpus.settings, settings)
    if (path / "manifest.json").is_file():
        return "index", {"ok": True, "backend": "local", "path": str(path)}
    return "index", {"ok": False, "error": f"no search index at {path}; run `sleuth index` (grep and read work without it)"}


async def _llm(svc: ServicesDep) -> tuple[str, dict]:
    url = svc.llm.base_url.rstrip("/") + "/models"
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            reply = await client.get(url, headers={"Authorization": f"Bearer {svc.llm.settings.api_key}"})
        if reply.status_code == 200:
            return "llm", {"ok": True, "url": svc.llm.base_url, "model": svc.llm.settings.model, "embedded": svc.embedded}
        return "llm", {"ok": False, "url": svc.llm.base_url, "error": f"GET /models answered {reply.status_code}"}
    except httpx.HTTPError as exc:
        return "llm", {"ok": False, "url": svc.llm.base_url, "error": f"unreachable: {exc}"}


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(svc: ServicesDep) -> Response:
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)
