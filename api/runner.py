"""Research runs in the background: a bounded pool, queue positions, cancel, and events stored before they are announced."""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.answer import Answer, Comparison
from agent.events import Emit, Event
from agent.report import ReportPlan
from agent.scope import Filters
from agent.session import Researcher
from api.metrics import Metrics
from api.run_store import ACTIVE, RunStore, event_row
from api.thread_store import ThreadStore
from api.thread_turns import remember, thread_memories

log = logging.getLogger(__name__)

ResearcherFor = Callable[[str | None], Awaitable[Researcher]]  # model name (None: the default) -> a researcher using it
Work = Callable[[Emit], Awaitable[tuple[str, dict | None, str | None]]]  # a job: emits its steps, returns (status, result, error)


BATCH_WINDOW_S = 0.005
RETRY_DELAYS_S = (0.05, 0.25, 1.0, 3.0)  # a failed commit is tried again this often before its events are given up


class EventWriter:
    """One task commits queued events in batches (all that wait, one transaction), in order, then reports them."""

    def __init__(self, store: RunStore, on_commit: Callable[[list[dict[str, Any]]], None]) -> None:
        self.store = store
        self.on_commit = on_commit
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def put(self, row: dict[str, Any]) -> asyncio.Future[None]:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-writer")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((row, done))
        return done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(BATCH_WINDOW_S)  # let a run's burst of events (a turn, its tool calls) share one commit
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            rows = [row for row, _ in batch]
            try:
                await self._commit(rows)
            except Exception as exc:  # the runs waiting on these events learn it at their end
                log.exception("could not store %d run events after %d tries", len(rows), len(RETRY_DELAYS_S) + 1)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self.on_commit(rows)
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _commit(self, rows: list[dict[str, Any]]) -> None:
        """Commit the batch, retrying a failure (a dropped connection, a locked database) before giving up.

        A retry first drops the rows that did reach the database (a commit can succeed and still report an error).
        """
        for delay in (*RETRY_DELAYS_S, None):
            try:
                await asyncio.to_thread(self.store.append_rows, rows)
                return
            except Exception:
                if delay is None:
                    raise
                log.warning("storing %d run events failed; trying again in %.2f s", len(rows), delay, exc_info=True)
                await asyncio.sleep(delay)
                try:
                    rows = await asyncio.to_thread(self.store.unstored_rows, rows)
                except Exception:  # the database is still away: retry the whole batch
                    pass
                if not rows:
                    return

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        if self._task is None:
            return
        while not self._queue.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def run_status(result: Answer | Comparison) -> str:
    """A compare run's status is its weaker arm's, leaving out an arm that failed while the other answered (each arm
    keeps its own status in the result, so the one answer is shown and the failure is named beside it)."""
    if isinstance(result, Answer):
        return result.status
    order = ["failed", "cancelled", "truncated", "unsure", "answered"]
    arms = [a.status for a in (result.agentic, result.rag) if a.status != "failed"] or ["failed"]
    return min(arms, key=order.index)


def run_error(result: Answer | Comparison) -> str | None:
    """The run's error; a compare run names the arm it came from."""
    if isinstance(result, Answer):
        return result.error
    errors = [f"{arm} arm {a.status}: {a.error}" for arm, a in (("agentic", result.agentic), ("rag", result.rag)) if a.error]
    return "; ".join(errors) or None


@dataclass
class ThreadTurn:
    """Where a research run sits in its thread: its turn, and the earlier turn still in flight that it waits for."""

    thread_id: str
    turn: int
    after: str | None = None  # the previous turn's run id while it is queued or running


@dataclass
class ActiveRun:
    """A run waiting or executing in this process: its pool, task, event numbering, committed events and write state."""

    pool: str
    task: asyncio.Task[None] | None = None
    seq: int = 0  # the last event number given out
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) when events are committed
    live: list[dict[str, Any]] = field(default_factory=list)  # committed events, for live streams
    last_write: asyncio.Future[None] | None = None
    lost: BaseException | None = None  # why some of its events were given up


class RunManager:
    """Executes runs as asyncio tasks, at most `max_running` at once; the rest wait in order."""

    def __init__(
        self,
        store: RunStore,
        researcher_for: ResearcherFor,
        metrics: Metrics,
        max_running: int,
        pools: dict[str, int] | None = None,
        plan_expiry_s: float | None = None,
    ) -> None:
        self.store = store
        self.plan_expiry_s = plan_expiry_s  # report plans waiting longer for approval are cancelled by the heartbeat
        self.researcher_for = researcher_for
        self.metrics = metrics
        # Research runs share `max_running` slots; other kinds of job (ingest) have pools of their own, so they cannot starve runs.
        self._slots = {
            "runs": asyncio.Semaphore(max_running),
            **{name: asyncio.Semaphore(n) for name, n in (pools or {}).items()},
        }
        self._runs: dict[str, ActiveRun] = {}
        self._waiting: list[str] = []  # runs waiting for a slot, in the order they came
        self._writer = EventWriter(store, self._committed)
        self._closing = False
        self._beat: asyncio.Task[None] | None = None

    def watch(self) -> None:
        """Start the heartbeat now (the server's start): it also cancels report plans nobody approved in time."""
        if self._beat is None:
            self._beat = asyncio.create_task(self._heartbeat(), name="run-heartbeat")

    async def _heartbeat(self) -> None:
        """Tell other processes (and the next start-up) that our runs are alive; cancel plans that waited too long."""
        while True:
            try:
                if self.plan_expiry_s is not None:
                    await asyncio.to_thread(self.store.expire_plans, self.plan_expiry_s)
            except Exception:
                log.exception("cancelling expired report plans failed")
            await asyncio.sleep(30)
            try:
                await asyncio.to_thread(self.store.heartbeat, list(self._runs))
            except Exception:  # a missed beat is retried; it must not stop the loop
                log.exception("heartbeat failed")

    # --- queries ---

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next run to start; None when the run is not waiting."""
        if run_id not in self._waiting:
            return None
        pool = self._runs[run_id].pool
        return [r for r in self._waiting if self._runs[r].pool == pool].index(run_id) + 1

    def queued(self) -> int:
        return len(self._waiting)

    def running(self) -> int:
        return len(self._runs) - len(self._waiting)

    def research_active(self) -> int:
        """Research runs running or waiting here (ingest jobs aside)."""
        return sum(1 for run_id in self._tasks if self._pool.get(run_id) == "runs")

    def is_active(self, run_id: str) -> bool:
        return run_id in self._runs

    def live_events(self, run_id: str, after: int) -> list[dict[str, Any]] | None:
        """Committed events after `after` of a run executing in this process (None: read them from the database)."""
        run = self._runs.get(run_id)
        if run is None:
            return None
        events = run.live
        # By seq, not by position: events given up after a failed commit leave gaps in the numbering.
        return events[bisect.bisect_right(events, after, key=lambda e: e["seq"]) :]

    async def wait_for_change(self, run_id: str, timeout: float) -> None:
        """Until the run has a new event (or `timeout`); streams call it between reads of the stored events."""
        run = self._runs.get(run_id)
        if run is None:
            await asyncio.sleep(min(timeout, 1.0))  # another process runs it (or it is over): poll
            return
        try:
            await asyncio.wait_for(run.changed.wait(), timeout)
        except TimeoutError:
            pass

    # --- commands ---

    def submit(
        self,
        run_id: str,
        question: str,
        mode: str,
        filters: Filters | None,
        model: str | None,
        budgets: dict[str, Any] | None,
        *,
        approve: bool = False,
        plan: ReportPlan | None = None,
        seq: int = 0,
        thread: ThreadTurn | None = None,
    ) -> None:
        """Queue a research run; a follow-up (turn 2 on) starts once its previous turn has ended, with the thread's memory
        (a report: the thread's last report, whose sections it may revise). A report stops at its plan (status planned)
        unless `approve`; an approved one goes on from `plan`, its events numbered after `seq`."""

        async def work(emit: Emit) -> tuple[str, dict | None, str | None]:
            researcher = await self.researcher_for(model)
            settings = researcher.settings.model_copy(update=budgets or {})
            follow_up = thread is not None and thread.turn > 1
            if mode == "report":
                previous = await asyncio.to_thread(self._previous_report, thread) if follow_up else None
                done = await researcher.report(
                    question, filters=filters, settings=settings, emit=emit, plan=plan, approve=approve, previous=previous
                )
                if isinstance(done, ReportPlan):
                    return "planned", {"plan": done.model_dump(mode="json")}, None
                answer = done
            else:
                memory = None
                if follow_up:
                    memory = await asyncio.to_thread(self._memory, thread, mode, researcher, settings.thread_memory_tokens)
                answer = await researcher.ask(question, mode, filters=filters, settings=settings, emit=emit, memory=memory)  # type: ignore[arg-type]
            self.metrics.observe(mode, answer)
            remember(run_id, answer)  # a follow-up in this process reuses it as is
            return run_status(answer), answer.model_dump(mode="json"), run_error(answer)

        self.submit_job(run_id, mode, work, after=thread.after if thread else None, seq=seq)

    def _memory(self, thread: ThreadTurn, mode: str, researcher: Researcher, budget: int) -> dict[str, Any]:
        started = time.perf_counter()
        memory = thread_memories(self.store.sessions, thread.thread_id, thread.turn, mode, researcher.corpus, budget)
        log.debug(
            "thread %s turn %d: memory built in %.1f ms", thread.thread_id, thread.turn, 1000 * (time.perf_counter() - started)
        )
        return memory

    def _previous_report(self, thread: ThreadTurn) -> Answer | None:
        """The thread's latest finished report before this turn (what a report follow-up revises), if any."""
        runs = ThreadStore(self.store.sessions).runs(thread.thread_id, before_turn=thread.turn)
        for run in reversed(runs):
            if run.mode == "report" and run.result and run.result.get("report"):
                return Answer.model_validate(run.result)
        return None

    def submit_job(self, run_id: str, mode: str, work: Work, pool: str = "runs", after: str | None = None, seq: int = 0) -> None:
        """Queue any job whose steps are events (research runs, ingest of uploads) in its pool of slots; with `after`, it
        takes a slot only once that run has ended (a thread's follow-up waits for its previous turn); its events are
        numbered after `seq` (a report going on after its approval)."""
        self.watch()
        run = self._runs[run_id] = ActiveRun(pool if pool in self._slots else "runs", seq=seq)
        self._waiting.append(run_id)
        run.task = asyncio.create_task(self._execute(run_id, mode, work, after), name=f"run-{run_id}")
        self.metrics.queue_depth.set(len(self._waiting))

    async def _ended(self, run_id: str) -> None:
        """Until the run has ended: its task here, or (run by another process) its stored status, polled."""
        while True:
            active = self._runs.get(run_id)
            if active is not None and active.task is not None:
                await asyncio.wait({active.task})
                return
            stored = await asyncio.to_thread(self.store.get, run_id)
            if stored is None or stored.status not in ACTIVE:
                return
            await asyncio.sleep(1.0)

    async def cancel(self, run_id: str) -> bool:
        run = self._runs.get(run_id)
        if run is None or run.task is None:
            return False
        task = run.task
        task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), 10)
        except (asyncio.CancelledError, TimeoutError):
            pass
        return True

    async def shutdown(self) -> None:
        """Stop every run in flight; they are stored as interrupted (their events stay)."""
        self._closing = True
        if self._beat is not None:
            self._beat.cancel()
        tasks = [run.task for run in self._runs.values() if run.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._writer.close()

    async def emit(self, run_id: str, event: Event) -> None:
        """Queue the event for the writer; streams see it once it is committed. The run goes on meanwhile."""
        run = self._runs[run_id]
        run.seq += 1
        write = run.last_write = self._writer.put(event_row(run_id, run.seq, event))
        write.add_done_callback(lambda done: self._note_lost(run_id, done))
        self.metrics.events.inc()

    def _note_lost(self, run_id: str, write: asyncio.Future[None]) -> None:
        """Remember the first event of the run the database refused for good (its end says so)."""
        run = self._runs.get(run_id)
        if run is not None and run.lost is None and not write.cancelled() and write.exception() is not None:
            run.lost = write.exception()

    def _committed(self, rows: list[dict[str, Any]]) -> None:
        """The writer committed these rows: only now do streams get them."""
        for row in rows:
            run = self._runs.get(row["run_id"])
            if run is not None:
                run.live.append({k: row[k] for k in ("seq", "type", "arm", "agent", "ts", "data")})
                run.changed.set()
                run.changed = asyncio.Event()

    async def flushed(self, run_id: str) -> None:
        """Until every event of the run so far is committed (raises if the database refused any of them)."""
        run = self._runs.get(run_id)
        if run is None:
            return
        if run.last_write is not None:
            await asyncio.shield(run.last_write)
        if run.lost is not None:
            raise run.lost

    # --- the run ---

    async def _execute(self, run_id: str, mode: str, work: Work, after: str | None = None) -> None:
        started = time.monotonic()

        async def emit(event: Event) -> None:
            await self.emit(run_id, event)

        status, result, error = "failed", None, None
        try:
            queued = {"status": "queued", "position": self.queue_position(run_id)} | ({"after": after} if after else {})
            await emit(Event("status", queued))
            if after is not None:
                await self._ended(after)
            async with self._slots[self._runs[run_id].pool]:
                self._waiting.remove(run_id)
                self.metrics.queue_depth.set(len(self._waiting))
                await asyncio.to_thread(self.store.mark_running, run_id)
                await emit(Event("status", {"status": "running"}))
                self.metrics.running.inc()
                try:
                    status, result, error = await work(emit)
                finally:
                    self.metrics.running.dec()
        except asyncio.CancelledError:
            status = "interrupted" if self._closing else "cancelled"
            error = "the server stopped while this run was in flight" if self._closing else "cancelled by the user"
        except Exception as exc:  # one broken run must not take the server down
            log.exception("run %s failed", run_id)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            if run_id in self._waiting:
                self._waiting.remove(run_id)
            latency = round(time.monotonic() - started, 3)
            try:
                await asyncio.shield(self._settle(run_id, status, result, error, latency))
            finally:
                self.metrics.runs.labels(mode=mode, status=status).inc()
                self.metrics.latency.labels(mode=mode).observe(latency)
                run = self._runs.pop(run_id, None)
                if run is not None:
                    run.changed.set()

    async def _settle(self, run_id: str, status: str, result: dict | None, error: str | None, latency: float) -> None:
        """Store the final status event, then the run's end; the end is written even when its events could not be."""
        await self.emit(run_id, Event("status", {"status": status, "error": error, "latency_s": latency}))
        try:
            await self.flushed(run_id)  # the run is marked finished only once all its events are stored
        except Exception as exc:  # the answer is kept; the trace has gaps, and the run says so
            lost = f"some of this run's events could not be stored ({type(exc).__name__}: {exc})"
            error = f"{error}; {lost}" if error else lost
        for delay in (*RETRY_DELAYS_S, None):
            try:
                await asyncio.to_thread(self.store.finish, run_id, status=status, result=result, error=error, latency_s=latency)
                return
            except Exception:
                if delay is None:
                    raise  # logged by the caller's task; start-up marks the run interrupted
                log.warning("storing the end of run %s failed; trying again in %.2f s", run_id, delay, exc_info=True)
                await asyncio.sleep(delay)
