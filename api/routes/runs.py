"""Research runs: submit, read, list, cancel, and their events as Server-Sent Events (resumable, replayable)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from agent.scope import resolve
from api.auth import Caller
from api.models import Run, RunEvent, Thread
from api.routes.deps import CallerDep, ServicesDep
from api.run_store import ACTIVE, ThreadGone, TooManyActive
from api.runner import ThreadTurn
from api.schemas import EventPublic, RunCreate, RunCreated, RunPublic, RunsPublic
from api.thread_store import ThreadStore

router = APIRouter(tags=["runs"])
KEEPALIVE_S = 15.0
MAX_SEQ = 2**31 - 1  # event ids are 32-bit integers in the database
MAX_OFFSET = 1_000_000


async def create_counted(svc: ServicesDep, who: Caller, what: str, **run: Any) -> Run:
    """Store a queued run or job of the caller's, unless it has SLEUTH_API_KEY_MAX_RUNNING in flight (429; checked and
    stored in one step, so concurrent requests cannot pass it together). Open, the one user's runs count alike."""
    limit = svc.settings.key_max_running
    try:
        return await asyncio.to_thread(svc.store.create_run, **run, key_id=who.key_id, max_active=limit)
    except ThreadGone as gone:
        raise HTTPException(404, str(gone)) from None
    except TooManyActive:
        owner = "this key" if who.key_id is not None else "this server's one user (no API keys)"
        raise HTTPException(
            429,
            f"{owner} already has {limit} {what} queued or running (SLEUTH_API_KEY_MAX_RUNNING); wait for one to finish",
            headers={"Retry-After": "10"},
        ) from None


def run_public(run: Run, queue_position: int | None = None) -> RunPublic:
    metrics = None
    if run.result:
        if run.mode == "compare":
            metrics = {arm: run.result[arm]["metrics"] for arm in ("agentic", "rag") if arm in run.result}
        else:
            metrics = {run.mode: run.result.get("metrics")}
    return RunPublic(
        id=run.id,
        mode=run.mode,
        question=run.question,
        filters=run.filters,
        model=run.model,
        budgets=run.budgets,
        status=run.status,
        queue_position=queue_position,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        latency_s=run.latency_s,
        error=run.error,
        result=run.result,
        metrics=metrics,
        thread_id=run.thread_id,
        turn=run.turn,
    )


def event_public(event: RunEvent) -> EventPublic:
    return EventPublic(seq=event.seq, type=event.type, arm=event.arm, agent=event.agent, ts=event.ts, data=event.data)


def get_owned(svc: ServicesDep, run_id: str, who: Caller) -> Run:
    """The run, if the caller may see it (its own, or any for an admin); 404 otherwise, so others' run ids tell nothing."""
    run = svc.store.get(run_id[:64])
    if run is None or not who.owns(run.key_id):
        raise HTTPException(404, f"no run {run_id[:64]!r} of yours; list yours with GET /v1/runs")
    return run


def get_owned_thread(svc: ServicesDep, thread_id: str, who: Caller) -> Thread:
    """The thread, if the caller may see it (its own, or any for an admin); 404 naming it otherwise."""
    thread = ThreadStore(svc.store.sessions).get(thread_id[:64])
    if thread is None or not who.owns(thread.key_id):
        raise HTTPException(404, f"thread {thread_id[:64]} not found; list yours with GET /v1/threads")
    return thread


def _follow_up_mode(svc: ServicesDep, body: RunCreate, who: Caller) -> str:
    """A follow-up's mode: as asked, or (none given) its thread's last turn's; 404 for a thread not the caller's."""
    thread = get_owned_thread(svc, body.thread_id or "", who)
    if "mode" in body.model_fields_set:
        return body.mode
    return ThreadStore(svc.store.sessions).summary(thread).mode or body.mode


@router.post("/runs", status_code=202, response_model=RunCreated, summary="Start a research run")
async def create_run(body: RunCreate, svc: ServicesDep, who: CallerDep, response: Response) -> RunCreated:
    """Queue a run (compare: one run, two arms); follow it with GET /v1/runs/{id}/events."""
    unavailable = svc.model_unavailable()
    if unavailable:
        raise HTTPException(503, unavailable)
    if len(body.question) > svc.settings.question_max_chars:
        raise HTTPException(
            422,
            f"question: {len(body.question):,} characters; the limit is {svc.settings.question_max_chars:,} (SLEUTH_API_QUESTION_MAX_CHARS)",
        )
    mode = await asyncio.to_thread(_follow_up_mode, svc, body, who) if body.thread_id is not None else body.mode
    model = await svc.check_model(body.model)  # only models configured here or listed by the endpoint
    await asyncio.to_thread(resolve, svc.corpus, body.filters)  # unknown doc_ids or empty scope: 422 before anything is stored
    if svc.runner.queued() >= svc.settings.max_queued:
        raise HTTPException(
            503, f"the queue is full ({svc.settings.max_queued} runs waiting); retry later", headers={"Retry-After": "30"}
        )
    budgets = body.budgets.model_dump(exclude_none=True) if body.budgets else None
    filters = body.filters.model_dump(exclude_none=True) if body.filters and not body.filters.empty() else None
    run = await create_counted(
        svc,
        who,
        "runs",
        mode=mode,
        question=body.question,
        filters=filters,
        model=model,
        budgets=budgets,
        threaded=True,
        thread_id=body.thread_id,
    )
    assert run.thread_id is not None and run.turn is not None
    after = (
        await asyncio.to_thread(ThreadStore(svc.store.sessions).previous_active, run.thread_id, run.turn)
        if run.turn > 1
        else None
    )
    turn = ThreadTurn(run.thread_id, run.turn, after)
    svc.runner.submit(run.id, body.question, mode, body.filters if filters else None, body.model, budgets, thread=turn)
    response.headers["Location"] = f"/v1/runs/{run.id}"
    links = {
        "self": f"/v1/runs/{run.id}",
        "events": f"/v1/runs/{run.id}/events",
        "cancel": f"/v1/runs/{run.id}/cancel",
        "thread": f"/v1/threads/{run.thread_id}",
    }
    return RunCreated(
        id=run.id,
        status="queued",
        queue_position=svc.runner.queue_position(run.id),
        links=links,
        thread_id=run.thread_id,
        turn=run.turn,
    )


@router.get("/runs", response_model=RunsPublic, summary="Run history")
async def list_runs(
    svc: ServicesDep,
    who: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    status: Annotated[str | None, Query(max_length=16)] = None,
    mode: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=500, description="Text the question contains.")] = None,
) -> RunsPublic:
    """Your runs (an admin key: everyone's), newest first."""
    rows, total = await asyncio.to_thread(
        svc.store.list, limit=limit, offset=offset, status=status, mode=mode, q=q, key_id=None if who.admin else who.key_id
    )
    return RunsPublic(
        data=[run_public(r, svc.runner.queue_position(r.id)) for r in rows], count=total, limit=limit, offset=offset
    )


@router.get("/runs/{run_id}", response_model=RunPublic, summary="One run: status, answer, citations, per-arm metrics")
async def get_run(run_id: str, svc: ServicesDep, who: CallerDep) -> RunPublic:
    run = await asyncio.to_thread(get_owned, svc, run_id, who)
    return run_public(run, svc.runner.queue_position(run.id))


@router.post("/runs/{run_id}/cancel", response_model=RunPublic, summary="Cancel a queued or running run")
async def cancel_run(run_id: str, svc: ServicesDep, who: CallerDep) -> RunPublic:
    run = await asyncio.to_thread(get_owned, svc, run_id, who)
    if run.status not in ACTIVE:
        raise HTTPException(409, f"run {run_id} is already {run.status}")
    if not await svc.runner.cancel(run_id):
        raise HTTPException(409, f"run {run_id} is executing in another server process; cancel it there")
    return run_public(await asyncio.to_thread(get_owned, svc, run_id, who))


@router.get(
    "/runs/{run_id}/events", summary="The run's steps as Server-Sent Events (Last-Event-ID resumes; finished runs replay)"
)
async def run_events(
    run_id: str,
    svc: ServicesDep,
    who: CallerDep,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="Start after this event id (like Last-Event-ID).")] = None,
    format: Annotated[str, Query(pattern="^(sse|json)$", description="json: the stored events as one JSON list.")] = "sse",
) -> Any:
    run_id = (await asyncio.to_thread(get_owned, svc, run_id, who)).id
    start = after if after is not None else _event_id(last_event_id)
    if format == "json":
        return [event_public(e) for e in await asyncio.to_thread(svc.store.events, run_id, start, 100_000)]
    return StreamingResponse(
        _stream(svc, run_id, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event_id(value: str | None) -> int:
    if value is None:
        return 0
    try:
        seq = int(value.strip()[:20])
    except ValueError:
        raise HTTPException(422, f"Last-Event-ID must be an event id (a number), not {value[:40]!r}") from None
    if not 0 <= seq <= MAX_SEQ:
        raise HTTPException(422, f"Last-Event-ID {value[:40]!r} is not an event id: ids run from 0 to {MAX_SEQ}")
    return seq


async def _stream(svc: ServicesDep, run_id: str, seen: int) -> AsyncIterator[bytes]:
    """Stored events after `seen`, then new ones as they are committed, until the run has ended and all are sent."""
    idle = 0.0
    while True:
        active = svc.runner.is_active(run_id)
        live = svc.runner.live_events(run_id, seen)  # executing here: committed events from memory
        if live is None:
            events = [event_public(e).model_dump() for e in await asyncio.to_thread(svc.store.events, run_id, seen)]
        else:
            events = live
        for event in events:
            seen = event["seq"]
            body = json.dumps(event, separators=(",", ":"))
            yield f"id: {seen}\nevent: {event['type']}\ndata: {body}\n\n".encode()
        if events:
            idle = 0.0
            continue
        if not active:
            run = await asyncio.to_thread(svc.store.get, run_id)
            if run is None or run.status not in ACTIVE:
                yield b"event: end\ndata: {}\n\n"
                return
        elif not svc.runner.is_active(run_id):
            continue  # it ended while we read: read once more, then end
        await svc.runner.wait_for_change(run_id, 1.0 if not active else KEEPALIVE_S)
        idle += 1.0
        if idle >= KEEPALIVE_S:
            idle = 0.0
            yield b": keep-alive\n\n"
