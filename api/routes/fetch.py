"""POST /v1/documents/fetch: filings from SEC EDGAR by ticker or CIK, downloaded and ingested as a job with progress events."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from agent.events import Event
from api.routes.deps import AdminDep, ServicesDep
from api.routes.runs import create_counted
from api.schemas import RunCreated

router = APIRouter(tags=["documents"])


class FetchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company: str = Field(..., min_length=1, max_length=20, description="Ticker (AMZN) or CIK (1018724).")
    forms: list[str] = Field(
        ["10-K", "10-Q"], min_length=1, max_length=3, description="10-K, 10-Q, 8-K (8-K earnings releases bring their EX-99.1)."
    )
    years: str | None = Field(
        None, max_length=9, description="Years of the period of report: '2023' or '2021-2024' (default: the last three)."
    )


@router.post(
    "/documents/fetch",
    status_code=202,
    response_model=RunCreated,
    summary="Fetch filings from SEC EDGAR (admin key); download and ingest run as a job with progress events",
)
async def fetch_documents(body: FetchCreate, svc: ServicesDep, who: AdminDep) -> RunCreated:
    """Counts against the key's runs in flight and the queue; runs in the ingest slots, not the research run slots."""
    from api.routes.documents import _sync_index
    from api.settings import get_settings
    from corpus.edgar import EdgarError, EdgarSetupError, fetch_filings, parse_forms, parse_years
    from corpus.edgar.client import check_user_agent

    settings = get_settings().edgar
    try:
        forms, years = parse_forms(body.forms), parse_years(body.years)
    except EdgarSetupError as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        check_user_agent(settings.user_agent)
    except EdgarSetupError as exc:
        raise HTTPException(
            503, f"this server cannot fetch from EDGAR: {exc}, where `sleuth serve` runs, and restart it"
        ) from None
    if svc.runner.queued() >= svc.settings.max_queued:
        raise HTTPException(
            503, f"the queue is full ({svc.settings.max_queued} jobs waiting); retry later", headers={"Retry-After": "30"}
        )
    span = f"{years.start}" if len(years) == 1 else f"{years.start}-{years.stop - 1}"
    question = f"fetch {body.company.strip().upper()} {','.join(forms)} {span}"
    run = await create_counted(svc, who, "runs or jobs", mode="fetch", question=question, filters=None, model="-", budgets=None)

    async def work(emit) -> tuple[str, dict | None, str | None]:
        loop = asyncio.get_running_loop()

        def on_event(kind: str, data: dict[str, Any]) -> None:
            name = kind if kind == "ingest_progress" else f"fetch_{kind}"
            asyncio.run_coroutine_threadsafe(emit(Event(name, data)), loop).result()

        try:
            report = await asyncio.to_thread(fetch_filings, svc.corpus, body.company, forms, years, settings, on_event)
        except EdgarError as exc:
            return "failed", None, str(exc)
        if report.changed:
            await emit(Event("index", {"status": "updating"}))
            await asyncio.to_thread(_sync_index, svc)
            await emit(Event("index", {"status": "ready"}))
        files = [
            {"file": r.path.rsplit("/", 1)[-1], "status": r.status, "doc_id": r.doc_id, "reason": r.reason, "pages": r.pages}
            for r in report.results
        ]
        failed = "; ".join(f"{f['file']}: {f['reason']}" for f in files if f["status"] == "failed")
        result = {
            "summary": report.summary(),
            "company": report.company.name if report.company else None,
            "skipped": report.skipped,
            "notes": report.notes,
            "files": files,
        }
        error = "; ".join(e for e in (report.error, failed) if e) or None
        return ("failed" if error and not report.changed and not report.skipped else "done"), result, error

    svc.runner.submit_job(run.id, "fetch", work, pool="ingest")
    links = {"self": f"/v1/runs/{run.id}", "events": f"/v1/runs/{run.id}/events"}
    return RunCreated(id=run.id, status="queued", queue_position=svc.runner.queue_position(run.id), links=links)
