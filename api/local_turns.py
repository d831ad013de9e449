"""A research turn run in this process (`sleuth ask`, `sleuth chat`, `sleuth mcp`), stored in its thread like the API's runs.

The run, its events and its answer go to the same tables the API uses, so a thread started in the terminal continues
in the web UI or over the API and the other way round. A follow-up waits for a previous turn still in flight (in a
server, say), then starts from the thread's research memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.answer import Answer, Comparison
from agent.events import Emit, Event, discard
from agent.scope import Filters
from agent.session import AskMode, Researcher
from agent.settings import AgentSettings
from api.models import Thread
from api.run_store import ACTIVE, RunStore, ThreadNotFound
from api.runner import run_error, run_status
from api.thread_store import ThreadStore
from api.thread_turns import remember, thread_memories

POLL_S = 1.0


@dataclass
class TurnResult:
    run_id: str
    thread_id: str
    turn: int
    result: Answer | Comparison


async def ask_in_thread(
    researcher: Researcher,
    store: RunStore,
    question: str,
    mode: AskMode,
    *,
    thread_id: str | None = None,
    filters: Filters | None = None,
    settings: AgentSettings | None = None,
    key_id: int | None = None,
    emit: Emit = discard,
    on_turn: Callable[[str, int], None] | None = None,
) -> TurnResult:
    """Run `question` as the next turn of `thread_id` (None: the first of a new thread), stored with its events; a
    follow-up first waits for a previous turn still in flight. ThreadNotFound for an unknown thread."""
    settings = settings or researcher.settings
    threads = ThreadStore(store.sessions)
    if thread_id is not None and await asyncio.to_thread(threads.get, thread_id) is None:
        raise ThreadNotFound(thread_id)
    run = await asyncio.to_thread(
        store.create_run,
        mode=mode,
        question=question,
        filters=filters.model_dump(exclude_none=True) if filters and not filters.empty() else None,
        model=researcher.llm.settings.model,
        budgets=None,
        key_id=key_id,
        threaded=True,
        thread_id=thread_id,
    )
    assert run.thread_id is not None and run.turn is not None
    if on_turn is not None:  # the caller learns its thread at once (a turn stopped midway still belongs to it)
        on_turn(run.thread_id, run.turn)
    seq = 0

    async def stored(event: Event) -> None:
        nonlocal seq
        seq += 1
        await asyncio.to_thread(store.append, run.id, event, seq)
        await emit(event)

    started = time.monotonic()
    status, result, error = "failed", None, None
    try:
        previous = await asyncio.to_thread(threads.previous_active, run.thread_id, run.turn)
        await stored(Event("status", {"status": "queued"} | ({"after": previous} if previous else {})))
        if previous:
            await _ended(store, previous)
        await asyncio.to_thread(store.mark_running, run.id)
        await stored(Event("status", {"status": "running"}))
        memory = None
        if run.turn > 1:
            memory = await asyncio.to_thread(
                thread_memories, store.sessions, run.thread_id, run.turn, mode, researcher.corpus, settings.thread_memory_tokens
            )
        answer = await researcher.ask(question, mode, filters=filters, settings=settings, emit=stored, memory=memory)
        status, result, error = run_status(answer), answer, run_error(answer)
        remember(run.id, answer)
    except asyncio.CancelledError:
        status, error = "cancelled", "cancelled by the user"
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        latency = round(time.monotonic() - started, 3)
        data = result.model_dump(mode="json") if result is not None else None
        await asyncio.shield(asyncio.to_thread(_settle, store, run.id, seq, status, data, error, latency))
    return TurnResult(run.id, run.thread_id, run.turn, result)


def _settle(store: RunStore, run_id: str, seq: int, status: str, result: dict | None, error: str | None, latency: float) -> None:
    store.append(run_id, Event("status", {"status": status, "error": error, "latency_s": latency}), seq + 1)
    store.finish(run_id, status=status, result=result, error=error, latency_s=latency)


async def _ended(store: RunStore, run_id: str) -> None:
    """Until the run (executing in another process) has ended, by its stored status."""
    while True:
        run = await asyncio.to_thread(store.get, run_id)
        if run is None or run.status not in ACTIVE:
            return
        await asyncio.sleep(POLL_S)


def recent_threads(store: RunStore, limit: int = 10) -> list[tuple[Thread, int, str | None]]:
    """The newest threads of this database (every key's: the terminal is the machine's owner): thread, turns, last status."""
    rows, _ = ThreadStore(store.sessions).list(limit=limit, offset=0)
    return [(r.thread, r.turns, r.last_status) for r in rows]
