"""The suite on two processes (pytest-xdist, as `make test` runs it): which tests share a process, which run alone.

- All tests of a module run in one worker (its module fixtures are built once), and all of tests/web in one worker:
  one live server and one browser whose state the UI modules share, in their order.
- The longest modules are handed out first, so the run does not end waiting on one of them.
- A test marked `serial` (a wall-clock bound: latency, a timeout, throughput) runs while the other worker waits:
  every test holds a lock shared with the other worker's test, a serial test holds it alone.
- A session fixture that several workers need (real filings ingested) is built by the first worker that needs it and
  copied by the others (`built_once`).

Without xdist (a plain `pytest`, or `make test PYTEST_ARGS=...` without -n) none of this changes anything.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Modules (or folders) that take a minute or more; they start first. Measured with --durations on 2 cores.
LONG_FIRST = (
    "tests/corpus/test_financebench_corpus.py",  # all 181 filings ingested: ~2 min
    "tests/web/",  # one server, Chromium flows: ~3 min in one worker
    "tests/tools/test_financebench_tools.py",
    "tests/api/test_fairness.py",
)


def worker() -> str | None:
    """This process's xdist worker id (gw0, gw1, ...), or None when the tests run in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def _group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return "tests/web/" if path.startswith("tests/web/") else path


def _rank(item: pytest.Item) -> int:
    group = _group(item.nodeid)
    return next((n for n, prefix in enumerate(LONG_FIRST) if group.startswith(prefix)), len(LONG_FIRST))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if worker() is not None:
        items.sort(key=_rank)  # stable: the order inside a module and among the other modules is kept


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's scope scheduling (work handed out a module at a time, in collection order), with tests/web one unit."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return ModuleScheduling(config, log)


def _shared_dir(config: pytest.Config) -> Path:
    """The run's base temporary directory, which all its workers share (each works in a folder of its own below it)."""
    return config._tmp_path_factory.getbasetemp().parent  # noqa: SLF001 - what the tmp_path_factory fixture returns


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def _turn(shared: Path, alone: bool) -> Iterator[None]:
    """A shared turn, or the only one. A serial test first closes the gate (no other test starts), then waits until
    the room is empty; other tests pass the gate only to enter the room, so a serial test is never starved."""
    gate, room = shared / "serial.gate", shared / "serial.room"
    if alone:
        with _flock(gate, fcntl.LOCK_EX), _flock(room, fcntl.LOCK_EX):
            yield
        return
    with _flock(gate, fcntl.LOCK_SH):
        fd = os.open(room, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        yield
    finally:
        os.close(fd)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Setup, call and teardown of each test inside its turn (module and session teardowns included)."""
    if worker() is None:
        return (yield)
    with _turn(_shared_dir(item.config), item.get_closest_marker("serial") is not None):
        return (yield)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A data directory made by `build(path)`: in one process, built in place; under xdist, built once for the run by
    whichever worker comes first (the others wait), and copied into this worker's own folder, so no two processes
    ever write to one catalog."""
    if worker() is None:
        target = tmp_path_factory.mktemp(name)
        build(target)
        return target
    shared = tmp_path_factory.getbasetemp().parent / f"built-{name}"
    with _flock(shared.with_name(f"{shared.name}.lock"), fcntl.LOCK_EX):
        if not (shared / ".complete").is_file():
            shutil.rmtree(shared, ignore_errors=True)  # a build that failed half-way
            shared.mkdir()
            build(shared)
            (shared / ".complete").touch()
    target = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(shared, target, ignore=shutil.ignore_patterns(".complete"))
    return target
