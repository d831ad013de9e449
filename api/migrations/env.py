"""Alembic environment of the API tables (version table sleuth_api_version), run on the connection api.models.migrate hands over."""

from __future__ import annotations

from alembic import context

from api.models import ApiBase

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=ApiBase.metadata, render_as_batch=True, version_table="sleuth_api_version"
)
with context.begin_transaction():
    context.run_migrations()
