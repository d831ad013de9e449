"""Threads: research runs become turns of a thread (thread_id, turn); each earlier research run is a thread of one turn.

Revision ID: api_0003
Revises: api_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "api_0003"
down_revision = "api_0002"
branch_labels = None
depends_on = None

RESEARCH = ("agentic", "rag", "compare")


def upgrade() -> None:
    op.create_table(
        "threads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("key_id", sa.Integer, sa.ForeignKey("api_keys.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_threads_updated_at", "threads", ["updated_at"])
    op.create_index("ix_threads_key_updated", "threads", ["key_id", "updated_at"])
    if op.get_bind().dialect.name == "sqlite":
        # Not a batch copy of `runs`: dropping the old table would delete every run's events and votes (foreign keys are on).
        op.execute("ALTER TABLE runs ADD COLUMN thread_id VARCHAR(36) REFERENCES threads (id) ON DELETE CASCADE")
        op.execute("ALTER TABLE runs ADD COLUMN turn INTEGER")
    else:
        op.add_column("runs", sa.Column("thread_id", sa.String(36)))
        op.add_column("runs", sa.Column("turn", sa.Integer))
        op.create_foreign_key("fk_runs_thread_id", "runs", "threads", ["thread_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_runs_thread_id", "runs", ["thread_id"])
    op.create_index("ux_runs_thread_turn", "runs", ["thread_id", "turn"], unique=True)
    # Every earlier research run becomes the one turn of its own thread (the thread takes the run's id).
    runs = sa.table(
        "runs",
        sa.column("id", sa.String),
        sa.column("mode", sa.String),
        sa.column("question", sa.Text),
        sa.column("key_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("finished_at", sa.DateTime(timezone=True)),
        sa.column("thread_id", sa.String),
        sa.column("turn", sa.Integer),
    )
    threads = sa.table(
        "threads",
        sa.column("id", sa.String),
        sa.column("title", sa.String),
        sa.column("key_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    research = runs.c.mode.in_(RESEARCH)
    op.execute(
        threads.insert().from_select(
            ["id", "title", "key_id", "created_at", "updated_at"],
            sa.select(
                runs.c.id, sa.func.substr(runs.c.question, 1, 200), runs.c.key_id, runs.c.created_at, runs.c.created_at
            ).where(research),
        )
    )
    op.execute(runs.update().where(research).values(thread_id=runs.c.id, turn=1))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite drops a foreign-key column only by copying the table (see upgrade)
        raise NotImplementedError("api_0003 cannot be downgraded on SQLite without losing run events; restore a backup instead")
    op.drop_index("ux_runs_thread_turn", "runs")
    op.drop_index("ix_runs_thread_id", "runs")
    op.drop_constraint("fk_runs_thread_id", "runs", type_="foreignkey")
    op.drop_column("runs", "turn")
    op.drop_column("runs", "thread_id")
    op.drop_index("ix_threads_key_updated", "threads")
    op.drop_index("ix_threads_updated_at", "threads")
    op.drop_table("threads")
