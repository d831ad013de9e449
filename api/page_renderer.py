"""Page images and glyph boxes, made in a separate process with a time and memory limit, cached on disk."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import sys
import uuid
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.page_image import Glyph, RenderedPage, page_glyphs, render_page

log = logging.getLogger(__name__)
GLYPH_CACHE_BYTES = 64 << 20  # glyph tables kept in memory, all pages together (a full page of 200k glyphs is ~8 MB)
FAILURE_CACHE_PAGES = 1024  # renders that ran out of time or memory, remembered so they are not tried again
STARTUP_TIMEOUT_S = 120  # spawning the render process imports the server's modules: seconds on a loaded machine
RENDER_VERSION = 1  # part of every cache name and ETag: bump when rendering changes


class RenderBusy(Exception):
    """Too many renders are waiting; the caller should retry shortly."""


class TooManyRenders(RenderBusy):
    """This caller already has its most renders in flight."""


class RenderFailed(Exception):
    """The render process ran out of time or memory; the message names the limit."""


@dataclass(frozen=True)
class RenderLimits:
    dpi: int = 144
    max_side_px: int = 2400
    max_pixels: int = 6_000_000
    timeout_s: float = 20.0
    memory_mb: int = 1536
    workers: int = 3
    max_waiting: int = 16
    per_caller: int = 2  # renders one caller may wait on at once (a page's image and its boxes are two); cached pages cost none


@dataclass(frozen=True)
class GlyphTable:
    """A page's glyphs stored compactly (one string, two arrays: ~40 bytes a glyph, not ~350 as Glyph objects);
    a read-only sequence of Glyph for find_boxes."""

    chars: str
    boxes: array  # x0, y0, x1, y1 per glyph ("d")
    lines: array  # the printed line of each glyph ("l")

    @classmethod
    def of(cls, glyphs: list[Glyph]) -> GlyphTable:
        chars = "".join(g.char[:1] or " " for g in glyphs)  # PyMuPDF gives one character per glyph
        return cls(chars, array("d", [v for g in glyphs for v in (g.x0, g.y0, g.x1, g.y1)]), array("l", [g.line for g in glyphs]))

    def __len__(self) -> int:
        return len(self.chars)

    def __getitem__(self, i: int) -> Glyph:
        b = self.boxes
        return Glyph(self.chars[i], b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3], self.lines[i])

    def __iter__(self) -> Iterator[Glyph]:
        return (self[i] for i in range(len(self.chars)))

    @property
    def nbytes(self) -> int:
        return sys.getsizeof(self.chars) + self.boxes.itemsize * len(self.boxes) + self.lines.itemsize * len(self.lines) + 256


@dataclass(frozen=True)
class CompactGlyphs:
    """PageGlyphs with its glyphs in a GlyphTable: what the render process returns and the cache keeps."""

    width: int
    height: int
    page_count: int
    glyphs: GlyphTable


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
    for path, data in (
        (png_path, rendered.png),
        (png_path.with_suffix(".json"), json.dumps({"width": rendered.width, "height": rendered.height}).encode()),
    ):
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


def _glyphs(path: str, page: int, limits: RenderLimits) -> CompactGlyphs:
    found = page_glyphs(Path(path), page, dpi=limits.dpi, max_side_px=limits.max_side_px, max_pixels=limits.max_pixels)
    return CompactGlyphs(found.width, found.height, found.page_count, GlyphTable.of(found.glyphs))  # compact before it is sent


class PageRenderer:
    """Render processes, each running one render at a time (spawned on first use); a render past the time limit
    kills only its own process, which is made anew. Time counts from the start of the render, not from the queue."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._pools: list[ProcessPoolExecutor | None] = [None] * self.limits.workers
        self._started: list[Any] = [None] * self.limits.workers  # each process's start-up (a concurrent.futures.Future)
        self._idle = list(range(self.limits.workers))
        self._free = asyncio.Semaphore(self.limits.workers)
        self._waiting = 0
        self._rendering: dict[tuple[str, str, int], asyncio.Future] = {}
        self._claims: Counter[tuple[str, tuple[str, str, int]]] = Counter()  # (caller, render) -> its requests waiting
        self._renders_of: Counter[str] = Counter()  # caller -> renders it waits on
        self._failed: OrderedDict[tuple[str, str, int], str] = OrderedDict()
        self._glyph_cache: OrderedDict[tuple[str, int], CompactGlyphs] = OrderedDict()
        self._glyph_bytes = 0

    def cache_name(self, page: int) -> str:
        return f"v{RENDER_VERSION}-{self.limits.dpi}dpi-p{page}"

    async def image(self, original: Path, cache_dir: Path, page: int, who: str = "") -> tuple[bytes, int, int]:
        """PNG bytes with width and height; from the cache when this page was rendered before (one render per page at once)."""
        png_path = cache_dir / f"{self.cache_name(page)}.png"
        cached = await asyncio.to_thread(_read_cached, png_path)
        if cached is not None:
            return cached
        return await self._shared(("image", str(original), page), who, lambda: self._render_to_cache(original, png_path, page))

    async def _render_to_cache(self, original: Path, png_path: Path, page: int) -> tuple[bytes, int, int]:
        rendered: RenderedPage = await self._call(_render, str(original), page)
        await asyncio.to_thread(_write_cached, png_path, rendered)
        return rendered.png, rendered.width, rendered.height

    async def glyphs(self, original: Path, page: int, who: str = "") -> CompactGlyphs:
        """The page's characters with their boxes in the image's pixels; recent pages are kept, up to GLYPH_CACHE_BYTES."""
        key = (str(original), page)  # originals are content-addressed: a path names one version of a file
        if key in self._glyph_cache:
            self._glyph_cache.move_to_end(key)
            return self._glyph_cache[key]
        return await self._shared(("glyphs", *key), who, lambda: self._glyphs_to_cache(key))

    async def _glyphs_to_cache(self, key: tuple[str, int]) -> CompactGlyphs:
        found: CompactGlyphs = await self._call(_glyphs, *key)
        if key not in self._glyph_cache:
            self._glyph_cache[key] = found
            self._glyph_bytes += found.glyphs.nbytes
        while self._glyph_bytes > GLYPH_CACHE_BYTES and len(self._glyph_cache) > 1:
            self._glyph_bytes -= self._glyph_cache.popitem(last=False)[1].glyphs.nbytes
        return found

    async def _shared(self, key: tuple[str, str, int], who: str, work: Any) -> Any:
        """One render per (kind, file, page) at once, shared by every request for it; failures are remembered."""
        if key in self._failed:
            self._failed.move_to_end(key)
            raise RenderFailed(self._failed[key])
        with self._claim(who, key):
            if key not in self._rendering:
                self._rendering[key] = asyncio.ensure_future(self._remember_failure(key, work()))
                self._rendering[key].add_done_callback(lambda _: self._rendering.pop(key, None))
            return await asyncio.shield(self._rendering[key])  # a request that goes away leaves the render to the others

    async def _remember_failure(self, key: tuple[str, str, int], work: Any) -> Any:
        try:
            return await work
        except RenderFailed as exc:
            self._failed[key] = str(exc)
            while len(self._failed) > FAILURE_CACHE_PAGES:
                self._failed.popitem(last=False)
            raise

    @contextlib.contextmanager
    def _claim(self, who: str, key: tuple[str, str, int]) -> Iterator[None]:
        """Count a render against its caller (a second request for one it already waits on does not count again)."""
        mine = (who, key)
        if not self._claims[mine] and self._renders_of[who] >= self.limits.per_caller:
            raise TooManyRenders(
                f"you already have {self.limits.per_caller} page renders in progress (SLEUTH_API_KEY_MAX_RENDERS); "
                "try again when one is done (pages shown before come from the cache at once)"
            )
        self._renders_of[who] += not self._claims[mine]
        self._claims[mine] += 1
        try:
            yield
        finally:
            self._claims[mine] -= 1
            if not self._claims[mine]:
                del self._claims[mine]
                self._renders_of[who] -= 1
                if not self._renders_of[who]:
                    del self._renders_of[who]

    async def _call(self, fn: Any, *args: Any) -> Any:
        if self._waiting >= self.limits.max_waiting:
            raise RenderBusy(f"{self._waiting} page renders are in progress; try again in a few seconds")
        self._waiting += 1
        try:
            async with self._free:  # wait for an idle render process: waiting does not count against the time limit
                worker = self._idle.pop()
                try:
                    return await self._run(worker, fn, *args)
                finally:
                    self._idle.append(worker)
        finally:
            self._waiting -= 1

    async def _run(self, worker: int, fn: Any, *args: Any) -> Any:
        pool = await self._ready_pool(worker)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(pool.submit(fn, *args, self.limits)), self.limits.timeout_s)
        except TimeoutError:
            log.warning("page render %s%s ran past %g s; restarting its render process", fn.__name__, args, self.limits.timeout_s)
            self._discard(worker)
            raise RenderFailed(
                f"rendering took longer than {self.limits.timeout_s:g} s (SLEUTH_API_PAGE_RENDER_TIMEOUT_S) and was stopped"
            ) from None
        except BrokenProcessPool:
            self._discard(worker)
            raise RenderFailed(
                f"the render process died (over {self.limits.memory_mb} MB of memory, SLEUTH_API_PAGE_RENDER_MEMORY_MB?)"
            ) from None
        except MemoryError:
            raise RenderFailed(
                f"rendering needed more than {self.limits.memory_mb} MB (SLEUTH_API_PAGE_RENDER_MEMORY_MB)"
            ) from None

    async def _ready_pool(self, worker: int) -> ProcessPoolExecutor:
        """The worker's process, started: starting one (imports) is not counted against a render's time limit."""
        self._start_missing()
        pool = self._pools[worker]
        assert pool is not None
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._started[worker])), STARTUP_TIMEOUT_S)
        except (TimeoutError, BrokenProcessPool):
            self._discard(worker)
            raise RenderBusy(f"the render process did not start within {STARTUP_TIMEOUT_S} s; try again") from None
        return pool

    def _start_missing(self) -> None:
        """Start every missing render process at once (seconds each), so a request does not wait for one's start-up."""
        for worker, pool in enumerate(self._pools):
            if pool is None:
                # spawn, not fork: the server holds threads and database connections that must not be copied.
                pool = self._pools[worker] = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_limit_memory,
                    initargs=(self.limits.memory_mb,),
                )
                self._started[worker] = pool.submit(_started)

    def _discard(self, worker: int) -> None:
        pool, self._pools[worker] = self._pools[worker], None
        if pool is None:
            return
        # The executor cannot stop a running task: end its process (it ran this worker's one render only).
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for worker in range(len(self._pools)):
            self._discard(worker)
