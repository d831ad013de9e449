"""Research threads: the caller's threads (newest first, paged, filtered), one thread with its turns, rename, delete."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.routes.deps import CallerDep, ServicesDep
from api.routes.runs import MAX_OFFSET, get_owned_thread, run_public
from api.schemas import ThreadDetail, ThreadPublic, ThreadsPublic, ThreadUpdate
from api.thread_store import ThreadStore, ThreadSummary

router = APIRouter(tags=["threads"])


def thread_public(summary: ThreadSummary) -> ThreadPublic:
    t = summary.thread
    return ThreadPublic(
        id=t.id,
        title=t.title,
        created_at=t.created_at,
        updated_at=t.updated_at,
        turns=summary.turns,
        last_question=summary.last_question,
        last_status=summary.last_status,
        mode=summary.mode,
    )


@router.get("/threads", response_model=ThreadsPublic, summary="Your research threads")
async def list_threads(
    svc: ServicesDep,
    who: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    q: Annotated[str | None, Query(max_length=500, description="Text the title or any turn's question contains.")] = None,
) -> ThreadsPublic:
    """Your threads (an admin key: everyone's), the one asked in last first."""
    rows, total = await asyncio.to_thread(
        ThreadStore(svc.store.sessions).list, limit=limit, offset=offset, q=q, key_id=None if who.admin else who.key_id
    )
    return ThreadsPublic(data=[thread_public(r) for r in rows], count=total, limit=limit, offset=offset)


@router.get("/threads/{thread_id}", response_model=ThreadDetail, summary="One thread: its turns with answers and citations")
async def get_thread(thread_id: str, svc: ServicesDep, who: CallerDep) -> ThreadDetail:
    thread = await asyncio.to_thread(get_owned_thread, svc, thread_id, who)
    store = ThreadStore(svc.store.sessions)
    summary, runs = await asyncio.to_thread(lambda: (store.summary(thread), store.runs(thread.id)))
    runs_public = [run_public(r, svc.runner.queue_position(r.id)) for r in runs]
    return ThreadDetail(**thread_public(summary).model_dump(), runs=runs_public)


@router.patch("/threads/{thread_id}", response_model=ThreadPublic, summary="Rename a thread")
async def rename_thread(thread_id: str, body: ThreadUpdate, svc: ServicesDep, who: CallerDep) -> ThreadPublic:
    thread = await asyncio.to_thread(get_owned_thread, svc, thread_id, who)
    store = ThreadStore(svc.store.sessions)
    await asyncio.to_thread(store.rename, thread.id, body.title)
    renamed = await asyncio.to_thread(get_owned_thread, svc, thread.id, who)
    return thread_public(await asyncio.to_thread(store.summary, renamed))


@router.delete("/threads/{thread_id}", status_code=204, summary="Delete a thread with its runs and their events")
async def delete_thread(thread_id: str, svc: ServicesDep, who: CallerDep) -> Response:
    """Turns still queued or running here are cancelled first; then the thread, its runs, events and votes are deleted."""
    thread = await asyncio.to_thread(get_owned_thread, svc, thread_id, who)
    store = ThreadStore(svc.store.sessions)
    for run_id in await asyncio.to_thread(store.active_runs, thread.id):
        await svc.runner.cancel(run_id)
    await asyncio.to_thread(store.delete, thread.id)
    return Response(status_code=204)
