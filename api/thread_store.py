"""Threads in SQL: a thread's turns (its runs, in order), listings with each thread's last turn, rename and delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.models import Run, Thread
from api.run_store import ACTIVE, title_of


@dataclass
class ThreadSummary:
    """A thread with what a listing shows of it: how many turns, and its last turn's question, status and mode."""

    thread: Thread
    turns: int
    last_question: str | None
    last_status: str | None
    mode: str | None


class ThreadStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def get(self, thread_id: str) -> Thread | None:
        with self.sessions() as session:
            return session.get(Thread, thread_id)

    def list(
        self, *, limit: int, offset: int, q: str | None = None, key_id: int | None = None
    ) -> tuple[list[ThreadSummary], int]:
        """Threads newest updated first; `q` matches the title or any turn's question; `key_id` None: everyone's."""
        query = select(Thread)
        if key_id is not None:
            query = query.where(Thread.key_id == key_id)
        if q:  # literal text: % and _ in it match themselves
            needle = q.lower()
            asked = exists().where(Run.thread_id == Thread.id, func.lower(Run.question).contains(needle, autoescape=True))
            query = query.where(or_(func.lower(Thread.title).contains(needle, autoescape=True), asked))
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(query.order_by(Thread.updated_at.desc(), Thread.id).offset(offset).limit(limit)).all()
            return self._summaries(session, rows), total

    def summary(self, thread: Thread) -> ThreadSummary:
        with self.sessions() as session:
            return self._summaries(session, [thread])[0]

    def _summaries(self, session: Session, threads: Sequence[Thread]) -> list[ThreadSummary]:
        ids = [t.id for t in threads]
        if not ids:
            return []
        counts = dict(
            session.execute(select(Run.thread_id, func.count()).where(Run.thread_id.in_(ids)).group_by(Run.thread_id)).all()
        )
        last_turn = (
            select(Run.thread_id, func.max(Run.turn).label("turn"))
            .where(Run.thread_id.in_(ids))
            .group_by(Run.thread_id)
            .subquery()
        )
        last = {
            row.thread_id: row
            for row in session.execute(
                select(Run.thread_id, Run.question, Run.status, Run.mode).join(
                    last_turn, (Run.thread_id == last_turn.c.thread_id) & (Run.turn == last_turn.c.turn)
                )
            ).all()
        }
        out = []
        for t in threads:
            row = last.get(t.id)
            out.append(
                ThreadSummary(
                    t,
                    counts.get(t.id, 0),
                    row.question if row else None,
                    row.status if row else None,
                    row.mode if row else None,
                )
            )
        return out

    def runs(self, thread_id: str, before_turn: int | None = None) -> Sequence[Run]:
        """The thread's runs in turn order (only turns before `before_turn` when given)."""
        query = select(Run).where(Run.thread_id == thread_id)
        if before_turn is not None:
            query = query.where(Run.turn < before_turn)
        with self.sessions() as session:
            return session.scalars(query.order_by(Run.turn)).all()

    def previous_active(self, thread_id: str, turn: int) -> str | None:
        """The id of the turn before `turn` while it is still queued or running (a follow-up waits for it), else None."""
        with self.sessions() as session:
            return session.scalar(
                select(Run.id)
                .where(Run.thread_id == thread_id, Run.turn < turn, Run.status.in_(ACTIVE))
                .order_by(Run.turn.desc())
            )

    def active_runs(self, thread_id: str) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(Run.id).where(Run.thread_id == thread_id, Run.status.in_(ACTIVE))))

    def rename(self, thread_id: str, title: str) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Thread).where(Thread.id == thread_id).values(title=title_of(title)))

    def delete(self, thread_id: str) -> None:
        """Delete the thread; the database deletes its runs, and theirs events and votes, with it (ON DELETE CASCADE)."""
        with self.sessions.begin() as session:
            session.execute(delete(Thread).where(Thread.id == thread_id))
