"""Page images and glyph boxes, made in a separate process with a time and memory limit, cached on disk."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.page_image import PageGlyphs, RenderedPage, page_glyphs, render_page

log = logging.getLogger(__name__)
GLYPH_CACHE_PAGES = 32
STARTUP_TIMEOUT_S = 120  # spawning the render process imports the server's modules: seconds on a loaded machine
RENDER_VERSION = 1  # part of every cache name and ETag: bump when rendering changes


class RenderBusy(Exception):
    """Too many renders are waiting; the caller should retry shortly."""


class RenderFailed(Exception):
    """The render process ran out of time or memory; the message names the limit."""


@dataclass(frozen=True)
class RenderLimits:
    dpi: int = 144
    max_side_px: int = 2400
    max_pixels: int = 6_000_000
    timeout_s: float = 20.0
    memory_mb: int = 1536
    workers: int = 1
    max_waiting: int = 16


def _limit_memory(memory_mb: int) -> None:
    """Cap the render process's address space at what it holds now plus `memory_mb` (imports differ between hosts)."""
    import resource

    held = 0
    try:
        with open("/proc/self/status") as status:
            held = next((int(line.split()[1]) << 10 for line in status if line.startswith("VmSize:")), 0)
    except OSError:
        pass
    limit = held + (memory_mb << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _read_cached(png_path: Path) -> tuple[bytes, int, int] | None:
    try:
        meta = json.loads(png_path.with_suffix(".json").read_text())
        return png_path.read_bytes(), int(meta["width"]), int(meta["height"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cached(png_path: Path, rendered: RenderedPage) -> None:
    """PNG first, then its size beside it (the marker that the entry is whole); unique temp names, no fsync: a cache."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    for path, data in ((png_path, rendered.png), (png_path.with_suffix(".json"), json.dumps({"width": rendered.width, "height": rendered.height}).encode())):
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def _started() -> bool:
    return True


def _render(path: str, page: int, limits: RenderLimits) -> RenderedPage:
    return render_page(Path(path), page, dpi=limits.dpi, max_side_px=limits.max_side_px, max_pixels=limits.max_pixels)


def _glyphs(path: str, page: int, limits: RenderLimits) -> PageGlyphs:
    return page_glyphs(Path(path), page, dpi=limits.dpi, max_side_px=limits.max_side_px, max_pixels=limits.max_pixels)


class PageRenderer:
    """One small process pool (spawned on first use); a call past the time limit kills the pool, which is made anew."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._pool: ProcessPoolExecutor | None = None
        self._waiting = 0
        self._rendering: dict[str, asyncio.Future] = {}
        self._starting = asyncio.Lock()
        self._glyph_cache: OrderedDict[tuple[str, int], PageGlyphs] = OrderedDict()

    def cache_name(self, page: int) -> str:
        return f"v{RENDER_VERSION}-{self.limits.dpi}dpi-p{page}"

    async def image(self, original: Path, cache_dir: Path, page: int) -> tuple[bytes, int, int]:
        """PNG bytes with width and height; from the cache when this page was rendered before (one render per page at once)."""
        png_path = cache_dir / f"{self.cache_name(page)}.png"
        cached = await asyncio.to_thread(_read_cached, png_path)
        if cached is not None:
            return cached
        key = str(png_path)
        if key not in self._rendering:  # concurrent requests for one page share its render
            self._rendering[key] = asyncio.ensure_future(self._render_to_cache(original, png_path, page))
            self._rendering[key].add_done_callback(lambda _: self._rendering.pop(key, None))
        return await asyncio.shield(self._rendering[key])

    async def _render_to_cache(self, original: Path, png_path: Path, page: int) -> tuple[bytes, int, int]:
        rendered: RenderedPage = await self._call(_render, str(original), page)
        await asyncio.to_thread(_write_cached, png_path, rendered)
        return rendered.png, rendered.width, rendered.height

    async def glyphs(self, original: Path, page: int) -> PageGlyphs:
        """The page's characters with their boxes in the image's pixels; the last few pages asked for are kept in memory."""
        key = (str(original), page)  # originals are content-addressed: a path names one version of a file
        if key in self._glyph_cache:
            self._glyph_cache.move_to_end(key)
            return self._glyph_cache[key]
        glyphs: PageGlyphs = await self._call(_glyphs, str(original), page)
        self._glyph_cache[key] = glyphs
        while len(self._glyph_cache) > GLYPH_CACHE_PAGES:
            self._glyph_cache.popitem(last=False)
        return glyphs

    async def _call(self, fn: Any, *args: Any) -> Any:
        if self._waiting >= self.limits.max_waiting:
            raise RenderBusy(f"{self._waiting} page renders are in progress; try again in a few seconds")
        self._waiting += 1
        try:
            pool = await self._ready_pool()
            future = pool.submit(fn, *args, self.limits)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), self.limits.timeout_s)
            except TimeoutError:
                log.warning("page render %s%s ran past %g s; restarting the render process", fn.__name__, args, self.limits.timeout_s)
                self._discard(pool)
                raise RenderFailed(f"rendering took longer than {self.limits.timeout_s:g} s (SLEUTH_API_PAGE_RENDER_TIMEOUT_S) and was stopped") from None
            except BrokenProcessPool:
                if self._pool is not pool:  # another call ran out of time and stopped the process this one was waiting on
                    raise RenderBusy("the render process was restarted; try again") from None
                self._discard(pool)
                raise RenderFailed(
                    f"the render process died (over {self.limits.memory_mb} MB of memory, SLEUTH_API_PAGE_RENDER_MEMORY_MB?)"
                ) from None
            except MemoryError:
                raise RenderFailed(f"rendering needed more than {self.limits.memory_mb} MB (SLEUTH_API_PAGE_RENDER_MEMORY_MB)") from None
        finally:
            self._waiting -= 1

    async def _ready_pool(self) -> ProcessPoolExecutor:
        """The pool, its process started: starting one (imports) is not counted against a render's time limit."""
        async with self._starting:
            if self._pool is not None:
                return self._pool
            pool = self._ensure_pool()
            try:
                await asyncio.wait_for(asyncio.wrap_future(pool.submit(_started)), STARTUP_TIMEOUT_S)
            except (TimeoutError, BrokenProcessPool):
                self._discard(pool)
                raise RenderBusy(f"the render process did not start within {STARTUP_TIMEOUT_S} s; try again") from None
            return pool

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the server holds threads and database connections that must not be copied.
            self._pool = ProcessPoolExecutor(
                max_workers=self.limits.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_limit_memory,
                initargs=(self.limits.memory_mb,),
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        # The executor cannot stop a running task: end its processes (the pool is not reused).
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._discard(self._pool)
