"""Extraction out of the calling process: worker processes with a wall-clock and a memory limit per file.

Every ingest (the CLI's batches, the API's uploads) analyses files here, never in the process that asked:
a pathological file can use up its own worker's time or memory, and the worker is killed and replaced,
but the caller (a server answering requests) never stalls. One pool per (workers, memory limit) is kept
for the life of the process, so a series of small ingests does not pay for starting interpreters each time.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, as_completed
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

J = TypeVar("J")
R = TypeVar("R")

_pools: dict[tuple[int, int], Any] = {}
_pools_lock = threading.Lock()


def timeout_reason(seconds: float) -> str:
    return f"extraction took longer than the {seconds:g} s limit per file (SLEUTH_CORPUS_INGEST_TIMEOUT_S); split the file or raise the limit"


def memory_reason(megabytes: int) -> str:
    return f"extraction needed more than the {megabytes:,} MB memory limit per file (SLEUTH_CORPUS_INGEST_MAX_MEMORY_MB); split the file or raise the limit"


def died_reason(exitcode: int | None, megabytes: int) -> str:
    limit = (
        f", most likely over the {megabytes:,} MB memory limit per file (SLEUTH_CORPUS_INGEST_MAX_MEMORY_MB)" if megabytes else ""
    )
    return f"the extraction process died (exit code {exitcode}){limit}; split the file or raise the limit"


def start_worker(megabytes: int) -> None:
    """Runs first in every worker: load the extractors (so a file's time limit is not spent importing them), then cap memory."""
    import lxml.html  # noqa: F401
    import pymupdf  # noqa: F401

    import corpus.ingest  # noqa: F401

    limit_memory(megabytes)


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space; 0 leaves it unlimited."""
    if megabytes <= 0:
        return
    import resource

    limit = megabytes << 20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _pool(workers: int, memory_mb: int):  # noqa: ANN202
    from pebble import ProcessPool

    key = (workers, memory_mb)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None or not pool.active:
            # spawn, not fork: the parent holds database connections and threads that must not be copied.
            pool = ProcessPool(
                max_workers=workers, initializer=start_worker, initargs=(memory_mb,), context=multiprocessing.get_context("spawn")
            )
            _pools[key] = pool
        return pool


def shutdown() -> None:
    """Stop every worker (at exit; tests call it to start afresh)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.stop()
        pool.join(timeout=10)


atexit.register(shutdown)


def run_isolated(
    function: Callable[[J], R],
    jobs: list[J],
    *,
    workers: int,
    timeout_s: float,
    memory_mb: int,
    failed: Callable[[J, str], R],
) -> Iterator[tuple[J, R]]:
    """`function(job)` for every job in worker processes, yielding (job, result) as they finish.

    A job past `timeout_s` is killed; one whose worker dies (the memory limit) ends as `failed(job, reason)`.
    Interrupting the caller (Ctrl-C) stops the workers at once.
    """
    if not jobs:
        return
    pool = _pool(max(1, min(workers, len(jobs))), memory_mb)
    futures: dict[Future, J] = {pool.schedule(function, args=(job,), timeout=timeout_s or None): job for job in jobs}
    try:
        for future in as_completed(futures):
            job = futures[future]
            yield job, _outcome(future, job, timeout_s, memory_mb, failed)
    except BaseException:
        for future in futures:
            future.cancel()  # pebble terminates the worker of a running task it cancels
        raise


def _outcome(future: Future, job: J, timeout_s: float, memory_mb: int, failed: Callable[[J, str], R]) -> R:
    from pebble import ProcessExpired

    try:
        return future.result()
    except FutureTimeout:
        return failed(job, timeout_reason(timeout_s))
    except ProcessExpired as exc:
        return failed(job, died_reason(exc.exitcode, memory_mb))
    except MemoryError:  # the result itself did not fit
        return failed(job, memory_reason(memory_mb))
