"""Tables of the research API (threads, runs, their events, votes on compare runs, API keys) beside the catalog, and their migration."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

from sqlalchemy import JSON, Boolean, DateTime, Engine, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from corpus.database import run_migrations


class ApiBase(DeclarativeBase):
    """The API's own metadata and migrations (version table sleuth_api_version), so corpus/ never imports api/."""


class ApiKey(ApiBase):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # shown in listings; the key itself is never stored
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the whole key
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    admin: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # may upload, replace and delete documents, sees every run


class Thread(ApiBase):
    """A conversation of research runs (its turns), owned by the key that started it."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_key_updated", "key_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))  # the first question, cut; editable
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # when its last turn was asked


class Run(ApiBase):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_created", "created_at"),
        Index("ix_runs_key_created", "key_id", "created_at"),
        Index("ux_runs_thread_turn", "thread_id", "turn", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), index=True)
    question: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict | None] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(200))
    budgets: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(
        String(16), index=True
    )  # queued, running, answered, unsure, truncated, failed, cancelled, interrupted
    result: Mapped[dict | None] = mapped_column(JSON)  # the Answer (or Comparison) as JSON
    error: Mapped[str | None] = mapped_column(Text)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    latency_s: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(String(100))  # "host:pid" of the process executing it
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # refreshed while it executes
    thread_id: Mapped[str | None] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )  # research runs only (jobs have none)
    turn: Mapped[int | None] = mapped_column(Integer)  # 1, 2, ... within its thread


class RunEvent(ApiBase):
    __tablename__ = "run_events"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, ... per run: the SSE event id
    type: Mapped[str] = mapped_column(String(32))
    arm: Mapped[str | None] = mapped_column(String(16))
    agent: Mapped[str] = mapped_column(String(32))
    ts: Mapped[float] = mapped_column(Float)
    data: Mapped[dict] = mapped_column(JSON)


class Vote(ApiBase):
    __tablename__ = "votes"
    __table_args__ = (Index("ux_votes_run_voter", "run_id", "voter", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    winner: Mapped[str] = mapped_column(String(8))  # agentic, rag, tie
    note: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    voter: Mapped[str] = mapped_column(String(32), default="open")  # "key:<id>", or "open" (no keys): one vote per run and voter
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def migrate(engine: Engine) -> None:
    """Bring the API tables to the newest revision of their own Alembic history (idempotent)."""
    run_migrations(engine, str(files("api") / "migrations"), "the API tables")
