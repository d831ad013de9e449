"""Schema migrations: Alembic's head equals the models, on SQLite and PostgreSQL, and migrating twice is a no-op."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from corpus.database import make_engine, migrate
from corpus.models import Base


def test_migrations_match_models_and_are_idempotent(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)
        assert {"documents", "sections", "cross_references", "alembic_version"} <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models changed without a migration: {diff}"
    finally:
        engine.dispose()


def test_unreachable_database_names_the_setting(tmp_path):
    import pytest

    from corpus.database import DatabaseError

    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseError, match="SLEUTH_DATABASE_URL"):
        migrate(engine)
