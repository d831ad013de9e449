"""The API's tables in the catalog's database: migrated with their own Alembic history (version table sleuth_api_version)."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import Engine

from corpus.db import run_migrations


def migrate(engine: Engine) -> None:
    """Bring the API tables to the newest revision (idempotent)."""
    run_migrations(engine, str(files("api") / "migrations"), "the API tables")
