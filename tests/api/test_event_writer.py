"""Runs survive a database that refuses event commits: batches are retried, the end is always stored, live streams go by seq."""

from __future__ import annotations

import asyncio

import pytest

from agent.events import Event
from api import runner as runner_module
from api.metrics import Metrics
from api.models import migrate
from api.run_store import RunStore
from api.runner import ActiveRun, RunManager
from corpus.database import make_engine, session_factory


class FlakyStore(RunStore):
    """A real store whose event commits fail while `fail` says so (a dropped connection, a locked database)."""

    def __init__(self, sessions, fail) -> None:  # noqa: ANN001
        super().__init__(sessions)
        self.fail = fail
        self.calls = 0

    def append_rows(self, rows):  # noqa: ANN001, ANN201
        self.calls += 1
        if self.fail(self.calls, rows):
            raise RuntimeError("connection lost")
        return super().append_rows(rows)


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(runner_module, "RETRY_DELAYS_S", (0.01, 0.02))


def _run(store: RunStore, events: int) -> tuple[str, RunManager]:
    async def main() -> tuple[str, RunManager]:
        manager = RunManager(store, None, Metrics(), max_running=2)  # type: ignore[arg-type]
        run = store.create_run(mode="ingest", question="q", filters=None, model="-", budgets=None, key_id=None)

        async def work(emit):  # noqa: ANN001, ANN202
            for n in range(events):
                await emit(Event("tick", {"n": n}))
                await asyncio.sleep(0.02)  # one commit per event
            return "done", {"ok": True}, None

        manager.submit_job(run.id, "ingest", work)
        await asyncio.gather(*(r.task for r in manager._runs.values()), return_exceptions=True)
        await manager.shutdown()
        return run.id, manager

    return asyncio.run(main())


def test_a_failed_commit_is_retried_and_the_run_ends_answered(sessions):
    store = FlakyStore(sessions, lambda call, rows: call == 3)  # the third batch fails once
    run_id, _ = _run(store, 5)
    run = store.get(run_id)
    assert run.status == "done" and run.result == {"ok": True} and run.error is None
    seqs = [e.seq for e in store.events(run_id)]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 5 + 3  # queued, running, 5 ticks, final status


def test_a_commit_that_reached_the_database_is_not_inserted_twice(sessions):
    store = RunStore(sessions)
    real = store.append_rows
    failed = []

    def commit_then_fail(rows):  # noqa: ANN001, ANN202
        real(rows)
        if not failed:
            failed.append(rows)
            raise RuntimeError("connection lost after commit")

    store.append_rows = commit_then_fail  # type: ignore[method-assign]
    run_id, _ = _run(store, 3)
    run = store.get(run_id)
    assert run.status == "done" and run.error is None
    seqs = [e.seq for e in store.events(run_id)]
    assert seqs == list(range(1, 7))


def test_a_batch_that_never_commits_still_ends_the_run(sessions):
    store = FlakyStore(sessions, lambda call, rows: any(r["data"].get("n") == 2 for r in rows))
    run_id, _ = _run(store, 5)
    run = store.get(run_id)
    assert run.status not in ("queued", "running")  # before: 'running' forever
    assert run.result == {"ok": True}  # the answer is kept
    assert "could not be stored" in run.error
    seqs = [e.seq for e in store.events(run_id)]
    assert 5 not in seqs and seqs[-1] == 8  # the lost tick is a gap; the final status is stored


def test_live_events_are_indexed_by_seq_not_position(sessions):
    manager = RunManager(RunStore(sessions), None, Metrics(), max_running=1)  # type: ignore[arg-type]
    # committed events of a run whose seq 3-4 batch was given up
    manager._runs["r"] = ActiveRun("runs", live=[{"seq": s} for s in (1, 2, 5, 6, 7)])
    assert [e["seq"] for e in manager.live_events("r", 2)] == [5, 6, 7]  # position-based: [6, 7] (5 skipped)
    assert [e["seq"] for e in manager.live_events("r", 5)] == [6, 7]
    assert [e["seq"] for e in manager.live_events("r", 0)] == [1, 2, 5, 6, 7]
    assert manager.live_events("r", 7) == []
