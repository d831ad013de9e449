"""Runs, their events, votes and API keys in SQL: every event is committed before anyone can stream it."""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agent.events import Event
from api.models import ApiKey, Run, RunEvent, Thread, Vote
from corpus.processes import pid_running

ACTIVE = ("queued", "running")
OWNER = f"{socket.gethostname()}:{os.getpid()}"
STALE_S = 120  # a run whose process has not refreshed its heartbeat for this long is taken for dead
KEY_PREFIX = "slk_"


TITLE_CHARS = 200


class ThreadGone(Exception):
    """The thread a follow-up names was deleted while the run was being stored."""

    def __init__(self, thread_id: str) -> None:
        super().__init__(f"thread {thread_id} not found")
        self.thread_id = thread_id


class TooManyActive(Exception):
    """The key (or the open server's one user) already has its most runs and jobs queued or running."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} runs or jobs are already queued or running")
        self.limit = limit


def now() -> datetime:
    return datetime.now(UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class RunStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._keyed = False

    # --- runs ---

    def create_run(
        self,
        *,
        mode: str,
        question: str,
        filters: dict | None,
        model: str,
        budgets: dict | None,
        key_id: int | None,
        max_active: int | None = None,
        threaded: bool = False,
        thread_id: str | None = None,
    ) -> Run:
        """Store a queued run; with `max_active`, TooManyActive when the key already has that many queued or running.

        The count and the insert are one step under a lock per key that every process and replica shares (a
        transaction-scoped advisory lock on PostgreSQL, SQLite's write lock), so concurrent requests cannot all pass.
        A `threaded` run (research) is the next turn of `thread_id`, or the first of a new thread titled by its question.
        """
        for attempt in range(3):  # two turns of one thread stored at once (an admin and the owner): the loser renumbers
            try:
                return self._create_run(mode, question, filters, model, budgets, key_id, max_active, threaded, thread_id)
            except IntegrityError:
                if thread_id is None or attempt == 2:
                    raise
                with self.sessions() as session:
                    if session.get(Thread, thread_id) is None:
                        raise ThreadGone(thread_id) from None
        raise AssertionError("unreachable")

    def _create_run(
        self,
        mode: str,
        question: str,
        filters: dict | None,
        model: str,
        budgets: dict | None,
        key_id: int | None,
        max_active: int | None,
        threaded: bool,
        thread_id: str | None,
    ) -> Run:
        run = Run(
            id=str(uuid.uuid4()),
            mode=mode,
            question=question,
            filters=filters,
            model=model,
            budgets=budgets,
            status="queued",
            key_id=key_id,
            created_at=now(),
            owner=OWNER,
            heartbeat_at=now(),
        )
        with self.sessions.begin() as session:
            if max_active is not None:
                _lock_key(session, key_id)
                if (
                    session.scalar(select(func.count()).select_from(Run).where(Run.status.in_(ACTIVE), Run.key_id == key_id))
                    >= max_active
                ):
                    raise TooManyActive(max_active)
            if threaded:
                _place_in_thread(session, run, thread_id, key_id)
            session.add(run)
        return run

    def get(self, run_id: str) -> Run | None:
        with self.sessions() as session:
            return session.get(Run, run_id)

    def list(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        mode: str | None = None,
        q: str | None = None,
        key_id: int | None = None,
    ) -> tuple[Sequence[Run], int]:
        query = select(Run)
        if status:
            query = query.where(Run.status == status)
        if mode:
            query = query.where(Run.mode == mode)
        if q:  # literal text: % and _ in it match themselves
            query = query.where(func.lower(Run.question).contains(q.lower(), autoescape=True))
        if key_id is not None:
            query = query.where(Run.key_id == key_id)
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(Run.created_at.desc(), Run.id).offset(offset).limit(limit)).all()
        return rows, total

    def mark_running(self, run_id: str) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Run).where(Run.id == run_id).values(status="running", started_at=now()))

    def finish(self, run_id: str, *, status: str, result: dict | None, error: str | None, latency_s: float | None) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(status=status, result=result, error=error, finished_at=now(), latency_s=latency_s)
            )

    def interrupt_active(self) -> list[str]:
        """At start-up: runs whose process is gone (same host, pid not alive; or no heartbeat for STALE_S) become
        interrupted, their events kept. Runs of live processes (other workers, other replicas) are left alone."""
        host = OWNER.rsplit(":", 1)[0]
        stale = now().timestamp() - STALE_S
        with self.sessions() as session:
            rows = session.execute(select(Run.id, Run.owner, Run.heartbeat_at).where(Run.status.in_(ACTIVE))).all()
        dead = [
            run_id
            for run_id, owner, beat in rows
            if (beat is None or _aware(beat).timestamp() < stale) or (owner or "").rsplit(":", 1)[0] == host and not _alive(owner)
        ]
        if dead:  # RETURNING: with several workers starting at once, each run is marked (and gets its event) once
            with self.sessions.begin() as session:
                dead = list(
                    session.scalars(
                        update(Run)
                        .where(Run.id.in_(dead), Run.status.in_(ACTIVE))
                        .values(status="interrupted", finished_at=now(), error="the server stopped while this run was in flight")
                        .returning(Run.id)
                    )
                )
        for run_id in dead:
            self.append(
                run_id, Event("status", {"status": "interrupted", "message": "the server stopped while this run was in flight"})
            )
        return dead

    def heartbeat(self, run_ids: list[str]) -> None:
        if run_ids:
            with self.sessions.begin() as session:
                session.execute(update(Run).where(Run.id.in_(run_ids)).values(heartbeat_at=now()))

    def count_active(self, key_id: int | None) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(Run).where(Run.status.in_(ACTIVE), Run.key_id == key_id)) or 0

    # --- events ---

    def last_seq(self, run_id: str) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run_id)) or 0

    def append(self, run_id: str, event: Event, seq: int | None = None) -> int:
        """Store the event as the run's event `seq` (default: the next one) and commit; returns its seq.

        The run's one writer (the runner) passes `seq` itself, so an event costs one INSERT.
        """
        seq = seq if seq is not None else self.last_seq(run_id) + 1
        self.append_rows([event_row(run_id, seq, event)])
        return seq

    def append_rows(self, rows: list[dict[str, Any]]) -> None:
        """Commit several runs' events in one transaction (rows as `event_row` makes them)."""
        with self.sessions.begin() as session:
            session.execute(insert(RunEvent), rows)

    def unstored_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Those of `rows` (as `event_row` makes them) not in the database yet: what a retry of a failed batch must insert."""
        keys = {(row["run_id"], row["seq"]) for row in rows}
        with self.sessions() as session:
            stored = set(
                session.execute(
                    select(RunEvent.run_id, RunEvent.seq).where(
                        RunEvent.run_id.in_({k[0] for k in keys}), RunEvent.seq.in_({k[1] for k in keys})
                    )
                ).all()
            )
        return [row for row in rows if (row["run_id"], row["seq"]) not in stored]

    def events(self, run_id: str, after: int = 0, limit: int = 1000) -> Sequence[RunEvent]:
        with self.sessions() as session:
            query = select(RunEvent).where(RunEvent.run_id == run_id, RunEvent.seq > after).order_by(RunEvent.seq).limit(limit)
            return session.scalars(query).all()

    # --- votes ---

    def vote(self, run_id: str, winner: str, note: str | None, model: str, key_id: int | None) -> Vote:
        """The caller's vote on the run: one per run and voter (key, or the open server's one user); a second replaces the first."""
        voter = "open" if key_id is None else f"key:{key_id}"
        values = {
            "run_id": run_id,
            "winner": winner,
            "note": note,
            "model": model,
            "key_id": key_id,
            "voter": voter,
            "created_at": now(),
        }
        with self.sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            elif dialect == "sqlite":
                from sqlalchemy.dialects.sqlite import insert as upsert
            else:  # pragma: no cover - the API supports SQLite and PostgreSQL
                raise NotImplementedError(f"votes need SQLite or PostgreSQL, not {dialect}")
            statement = upsert(Vote).values(**values)
            statement = statement.on_conflict_do_update(
                index_elements=["run_id", "voter"],
                set_={k: statement.excluded[k] for k in ("winner", "note", "model", "created_at")},
            )
            session.execute(statement)
            return session.scalars(select(Vote).where(Vote.run_id == run_id, Vote.voter == voter)).one()

    def votes(self) -> Sequence[Vote]:
        with self.sessions() as session:
            return session.scalars(select(Vote).order_by(Vote.created_at, Vote.id)).all()

    # --- keys ---

    def create_key(self, name: str, admin: bool = False) -> tuple[ApiKey, str]:
        """A new key: the secret is returned once and only its hash is stored."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(name=name, prefix=secret[:12], key_hash=hash_key(secret), created_at=now(), admin=admin)
        with self.sessions.begin() as session:
            session.add(key)
        return key, secret

    def keys(self) -> Sequence[ApiKey]:
        with self.sessions() as session:
            return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()

    def key_count(self) -> int:
        """Keys ever created: once there is one, every request needs a key (revoking the last one does not open the API)."""
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(ApiKey)) or 0

    def keyed(self) -> bool:
        """Whether any key was ever created. Keys are never deleted, so once true it stays true and is not asked again."""
        if not self._keyed:
            self._keyed = self.key_count() > 0
        return self._keyed

    def active_key_count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_(None))) or 0

    def revoke(self, ident: str) -> ApiKey | None:
        """Revoke by id or prefix; None when no such live key."""
        with self.sessions.begin() as session:
            key = session.scalars(
                select(ApiKey).where(
                    ApiKey.revoked_at.is_(None), or_(ApiKey.prefix == ident, ApiKey.id == (int(ident) if ident.isdigit() else -1))
                )
            )
            found = key.first()
            if found is not None:
                found.revoked_at = now()
            return found

    def check_key(self, secret: str) -> ApiKey | None:
        with self.sessions() as session:
            key = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(secret), ApiKey.revoked_at.is_(None))).first()
            if key is not None and (key.last_used_at is None or (now() - _aware(key.last_used_at)).total_seconds() > 60):
                key.last_used_at = now()  # at most once a minute: not a write per request
                session.commit()
            return key


def _place_in_thread(session: Session, run: Run, thread_id: str | None, key_id: int | None) -> None:
    """Make the run the next turn of its thread (a new thread, titled by the question, when `thread_id` is None)."""
    if thread_id is None:
        thread = Thread(id=str(uuid.uuid4()), title=title_of(run.question), key_id=key_id, created_at=now(), updated_at=now())
        session.add(thread)
        session.flush()
        run.thread_id, run.turn = thread.id, 1
        return
    if session.execute(update(Thread).where(Thread.id == thread_id).values(updated_at=now())).rowcount == 0:
        raise ThreadGone(thread_id)
    run.thread_id = thread_id
    run.turn = (session.scalar(select(func.max(Run.turn)).where(Run.thread_id == thread_id)) or 0) + 1


def title_of(question: str) -> str:
    """A thread's title: its first question on one line, cut to TITLE_CHARS."""
    flat = " ".join(question.split())
    return flat if len(flat) <= TITLE_CHARS else flat[: TITLE_CHARS - 1] + "…"


def _lock_key(session: Session, key_id: int | None) -> None:
    """Hold the key's run-creation lock until the transaction ends (PostgreSQL: across replicas; SQLite: the database's write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"sleuth-runs:{key_id}".encode()).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": int.from_bytes(digest[:8], "big", signed=True)})
    else:  # a write first: SQLite takes its one write lock now, so the count below cannot go stale before the insert
        session.execute(update(Run).where(Run.id == "").values(status=Run.status))


def event_row(run_id: str, seq: int, event: Event) -> dict[str, Any]:
    """The run_events row of an event (inserted with Core: the ORM's unit of work costs more than the row)."""
    return {
        "run_id": run_id,
        "seq": seq,
        "type": event.type,
        "arm": event.arm,
        "agent": event.agent,
        "ts": event.ts,
        "data": json_safe(event.data),
    }


def _alive(owner: str | None) -> bool:
    """Whether the process named "host:pid" (on this host) still runs; ours counts as gone (it is starting up)."""
    try:
        pid = int((owner or "").rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return False
    return pid != os.getpid() and pid_running(pid)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns naive datetimes


def json_safe(value: Any) -> Any:
    """Event data as strict JSON: NaN/Infinity become null (PostgreSQL JSON and browsers reject them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    return value
