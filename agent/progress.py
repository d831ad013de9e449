"""A model turn in progress: its streamed reply as throttled model_progress events, so a slow model is seen writing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from agent.events import MODEL_PROGRESS, Event
from agent.llm import LLMResponse
from agent.state import AgentRun

TAIL_CHARS = 240  # the end of the reply so far that an event carries


async def complete_streaming(
    run: AgentRun, messages: list[dict[str, Any]], schemas: list[dict[str, Any]], step: int, **options: Any
) -> LLMResponse:
    """`run.llm.complete`, streamed when the settings say so: every `progress_every_s` at most, one event with how much
    the model has written (deltas, about one token each) and the last TAIL_CHARS characters of it."""
    if not run.settings.stream:
        return await run.llm.complete(messages, schemas, **options)
    every = run.settings.progress_every_s
    parts: list[str] = []
    arrived = asyncio.Event()
    started = time.monotonic()

    def on_text(delta: str) -> None:
        parts.append(delta)
        arrived.set()

    async def report() -> None:
        while True:
            await arrived.wait()  # set by each delta: there is something new to report
            arrived.clear()
            text = "".join(parts)
            data = {
                "step": step,
                "tokens": len(parts),
                "chars": len(text),
                "seconds": round(time.monotonic() - started, 1),
                "tail": text[-TAIL_CHARS:],
            }
            await run.emit(Event(MODEL_PROGRESS, data, agent=run.agent))
            await asyncio.sleep(every)

    reporter = asyncio.create_task(report())
    try:
        return await run.llm.complete(messages, schemas, on_text=on_text, **options)
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
