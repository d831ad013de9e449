"""Exports run in their own processes (pebble): a bounded number at once, a bounded queue, a time and memory limit."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from api.exports.content import Content
from api.exports.pack import Images, build
from api.exports.settings import ExportSettings


class ExportBusy(Exception):
    """Every export process is busy and the queue is full; retry shortly."""


class ExportFailed(Exception):
    """The export ran out of memory, or its writer failed; the message says which."""


class ExportTimeout(ExportFailed):
    """The export took longer than SLEUTH_EXPORT_TIMEOUT_S and its process was stopped."""


def _start_worker(memory_mb: int) -> None:
    import api.exports.pack  # noqa: F401  (imports count before the first export's time, not in it)
    from corpus.workers import limit_memory

    limit_memory(memory_mb)


class ExportPool:
    """Export processes, spawned on first use; one export past its time limit kills only its own process."""

    def __init__(self, settings: ExportSettings | None = None) -> None:
        self.settings = settings or ExportSettings()
        self._pool: Any = None
        self._pending = 0

    def _ready(self) -> Any:
        from pebble import ProcessPool

        if self._pool is None or not self._pool.active:
            self._pool = ProcessPool(
                max_workers=self.settings.workers,
                initializer=_start_worker,
                initargs=(self.settings.memory_mb,),
                context=multiprocessing.get_context("spawn"),  # the server holds threads and connections: never fork them
            )
        return self._pool

    async def export(self, fmt: str, content: Content, images: Images | None, folder: Path) -> Path:
        """The export's file in `folder`; ExportBusy past the queue's bound, ExportFailed past the time or memory limit."""
        from pebble import ProcessExpired

        s = self.settings
        if self._pending >= s.workers + s.max_waiting:
            raise ExportBusy(
                f"{self._pending} exports are being written or waiting (SLEUTH_EXPORT_WORKERS={s.workers}, "
                f"SLEUTH_EXPORT_MAX_WAITING={s.max_waiting}); retry in a few seconds"
            )
        self._pending += 1
        try:
            future = self._ready().schedule(build, args=(fmt, content, images, folder), timeout=s.timeout_s)
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise ExportTimeout(
                f"the {fmt} export took longer than {s.timeout_s:g} s (SLEUTH_EXPORT_TIMEOUT_S) and was stopped"
            ) from None
        except ProcessExpired as exc:
            raise ExportFailed(
                f"the {fmt} export process died (exit {exc.exitcode}); past SLEUTH_EXPORT_MEMORY_MB={s.memory_mb}?"
            ) from None
        except (RuntimeError, OSError, MemoryError) as exc:
            raise ExportFailed(f"the {fmt} export failed: {exc}") from None
        finally:
            self._pending -= 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
