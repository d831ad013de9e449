"""OpenAI-compatible routes: GET /v1/models and POST /v1/chat/completions (streamed or not), so any chat client can ask
Sleuth; each chat is a research thread, and each request a run started the way POST /v1/runs starts one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from api.chat import (
    MODELS,
    ChatProblem,
    ChatRequest,
    answer_markdown,
    chunk,
    completion,
    conversation,
    finish_reason,
    mode_of,
    model_card,
    model_list,
    step_line,
    usage_of,
)
from api.chat_threads import thread_for
from api.console import TracePrinter
from api.routes.deps import CallerDep, ServicesDep
from api.routes.runs import follow, start_run
from api.schemas import RunCreate
from api.services import Services
from api.thread_store import ThreadStore

router = APIRouter(tags=["chat (OpenAI-compatible)"])


def _raise(problem: ChatProblem) -> None:
    raise HTTPException(problem.status, {"message": problem.message, "code": problem.code})


@router.get("/models", summary="The Sleuth models an OpenAI client may ask (OpenAI format)")
async def list_models(who: CallerDep) -> dict[str, Any]:
    return model_list()


@router.get("/models/{model}", summary="One Sleuth model (OpenAI format)")
async def get_model(model: str, who: CallerDep) -> dict[str, Any]:
    if model not in MODELS:
        raise HTTPException(
            404, {"message": f"no model {model[:100]!r}; the models are {', '.join(MODELS)}", "code": "model_not_found"}
        )
    return model_card(model)


@router.post("/chat/completions", summary="Ask Sleuth as an OpenAI chat model (a chat is a research thread)")
async def chat_completions(body: ChatRequest, request: Request, svc: ServicesDep, who: CallerDep) -> Any:
    """The last message is the question; earlier user/assistant messages find the thread it continues (see docs/api.md),
    or seed a new one. `stream: true` sends the research steps as they happen, then the answer with its sources."""
    try:
        mode = mode_of(body.model)
        talk = conversation(body.messages, svc.settings.chat_max_messages)
    except ChatProblem as problem:
        _raise(problem)
    thread_id, seeded = await thread_for(svc, who, talk, mode)
    try:
        created = await start_run(svc, who, RunCreate(question=talk.question, mode=mode, thread_id=thread_id))
    except HTTPException:
        if seeded:  # refused (limits, length, no model): the thread seeded for it goes too
            await asyncio.to_thread(ThreadStore(svc.store.sessions).delete, seeded)
        raise
    thread_id = created.thread_id
    base_url = str(request.base_url).rstrip("/")
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _chunks(svc, created.id, body.model, base_url, thread_id, include_usage),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    printer = TracePrinter(lambda line: None)
    steps = [line async for event in follow(svc, created.id) if event is not None and (line := step_line(event, printer))]
    run = await asyncio.to_thread(svc.store.get, created.id)
    content = answer_markdown(run.result, run.error, run.status, base_url, thread_id)
    reasoning = "\n".join(steps) if svc.settings.chat_reasoning != "none" else None
    return completion(run.id, body.model, content, reasoning, run.status, usage_of(run.result), thread_id)


async def _chunks(
    svc: Services, run_id: str, model: str, base_url: str, thread_id: str | None, include_usage: bool
) -> AsyncIterator[bytes]:
    """The run as chat.completion.chunk events: the role, each step as it is stored, the answer, the finish, the usage.
    A client that goes away mid-run (a chat's stop button) cancels the run."""
    style = svc.settings.chat_reasoning
    printer = TracePrinter(lambda line: None)
    thinking = False
    finished = False
    try:
        yield chunk(run_id, model, {"role": "assistant", "content": ""})
        async for event in follow(svc, run_id):
            if event is None:
                yield b": keep-alive\n\n"
                continue
            line = step_line(event, printer)
            if line is None or style == "none":
                continue
            if style == "reasoning_content":
                yield chunk(run_id, model, {"reasoning_content": line + "\n"})
            else:
                yield chunk(run_id, model, {"content": ("" if thinking else "<think>\n") + line + "\n"})
                thinking = True
        run = await asyncio.to_thread(svc.store.get, run_id)
        content = answer_markdown(run.result, run.error, run.status, base_url, thread_id)
        yield chunk(run_id, model, {"content": ("</think>\n\n" if thinking else "") + content})
        usage = usage_of(run.result)
        yield chunk(run_id, model, {}, finish_reason(run.status), usage=None if include_usage else usage)
        if include_usage:
            yield chunk(run_id, model, None, usage=usage)
        yield b"data: [DONE]\n\n"
        finished = True
    finally:
        if not finished and svc.runner.is_active(run_id):
            _cancels.add(task := asyncio.ensure_future(svc.runner.cancel(run_id)))
            task.add_done_callback(_cancels.discard)


_cancels: set[asyncio.Future[Any]] = set()  # cancels of runs whose chat client left, kept until done
