"""Database engine and schema migrations for the catalog (SQLite by default, any SQLAlchemy URL)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from corpus.errors import CorpusError


class DatabaseError(CorpusError):
    """The catalog database cannot be reached or migrated."""


def make_engine(url: str) -> Engine:
    """Engine for `url`; SQLite gets its directory created, foreign keys on, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the catalog schema to the newest Alembic revision (idempotent)."""
    run_migrations(engine, str(files("corpus") / "migrations"), "the catalog")


def run_migrations(engine: Engine, script_location: str, what: str) -> None:
    """Upgrade the Alembic history at `script_location` to head on `engine`; DatabaseError names `what` failed."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", script_location)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        raise DatabaseError(
            f"cannot migrate {what} at {engine.url.render_as_string(hide_password=True)}: {exc}. "
            "Check SLEUTH_DATABASE_URL and that the database server is running."
        ) from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
