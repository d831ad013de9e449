"""The API's Alembic history upgrades a database that has data: api_0001 -> api_0002 keeps each voter's last vote on a
run (earlier duplicates were counted), gives existing keys the user role, and then enforces one vote per run and voter."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from corpus.database import make_engine


def _upgrade(engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(files("api") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_roles_and_votes_migration_on_existing_data(database_url):
    engine = create_engine(database_url)
    try:
        _upgrade(engine, "api_0001")
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES ('old', 'slk_x', 'h1', :t)"), {"t": now}
            )
            conn.execute(
                text(
                    "INSERT INTO runs (id, mode, question, model, status, created_at, key_id) VALUES ('r1', 'compare', 'q', 'm', 'answered', :t, 1)"
                ),
                {"t": now},
            )
            for winner, key_id in [("agentic", 1), ("agentic", 1), ("rag", 1), ("tie", None), ("rag", None)]:
                conn.execute(
                    text("INSERT INTO votes (run_id, winner, model, key_id, created_at) VALUES ('r1', :w, 'm', :k, :t)"),
                    {"w": winner, "k": key_id, "t": now},
                )
        _upgrade(engine, "head")
        with engine.begin() as conn:
            votes = conn.execute(text("SELECT voter, winner FROM votes ORDER BY voter")).all()
            assert [tuple(v) for v in votes] == [("key:1", "rag"), ("open", "rag")]
            assert conn.execute(text("SELECT admin FROM api_keys")).scalar_one() in (False, 0)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO votes (run_id, winner, model, key_id, voter, created_at) VALUES ('r1', 'tie', 'm', 1, 'key:1', :t)"
                ),
                {"t": now},
            )
    finally:
        engine.dispose()


def test_threads_migration_makes_each_research_run_a_thread_and_keeps_events(database_url):
    engine = make_engine(database_url)  # as the app opens it: SQLite with foreign keys on
    try:
        _upgrade(engine, "api_0002")
        now = datetime.now(UTC)
        with engine.begin() as conn:
            for run_id, mode in [("r1", "compare"), ("j1", "ingest")]:
                conn.execute(
                    text(
                        "INSERT INTO runs (id, mode, question, model, status, created_at) VALUES (:id, :mode, :q, 'm', 'answered', :t)"
                    ),
                    {"id": run_id, "mode": mode, "q": "What was 3M's capex? " * 20, "t": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO run_events (run_id, seq, type, agent, ts, data) VALUES (:id, 1, 'status', 'main', 0, '{}')"
                    ),
                    {"id": run_id},
                )
        _upgrade(engine, "head")
        with engine.begin() as conn:
            runs = conn.execute(text("SELECT id, thread_id, turn FROM runs ORDER BY id")).all()
            assert [tuple(r) for r in runs] == [("j1", None, None), ("r1", "r1", 1)]
            title = conn.execute(text("SELECT title FROM threads WHERE id = 'r1'")).scalar_one()
            assert len(title) == 200 and title.startswith("What was 3M's capex?")
            assert conn.execute(text("SELECT count(*) FROM run_events")).scalar_one() == 2  # no event lost on SQLite
        with engine.begin() as conn:  # deleting the thread deletes its run and the run's events
            conn.execute(text("DELETE FROM threads WHERE id = 'r1'"))
        with engine.begin() as conn:
            assert conn.execute(text("SELECT id FROM runs")).scalars().all() == ["j1"]
            assert conn.execute(text("SELECT run_id FROM run_events")).scalars().all() == ["j1"]
    finally:
        engine.dispose()
