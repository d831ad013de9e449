"""The API's tables in the catalog's database: migrated with their own Alembic history."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import Engine

from corpus.db import DatabaseError


def migrate(engine: Engine) -> None:
    """Bring the API tables to the newest revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("api") / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        raise DatabaseError(
            f"cannot migrate the API tables at {engine.url.render_as_string(hide_password=True)}: {exc}. "
            "Check SLEUTH_DATABASE_URL and that the database server is running."
        ) from exc
