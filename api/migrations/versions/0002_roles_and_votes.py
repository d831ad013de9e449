"""Key roles (admin) and one vote per run and voter.

Revision ID: api_0002
Revises: api_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "api_0002"
down_revision = "api_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("votes") as batch:
        batch.add_column(sa.Column("voter", sa.String(32), nullable=False, server_default="open"))
    votes = sa.table(
        "votes",
        sa.column("id", sa.Integer),
        sa.column("run_id", sa.String),
        sa.column("key_id", sa.Integer),
        sa.column("voter", sa.String),
    )
    op.execute(
        votes.update().where(votes.c.key_id.is_not(None)).values(voter=sa.literal("key:") + sa.cast(votes.c.key_id, sa.String))
    )
    # Keep each voter's last vote on a run (earlier duplicates were counted wrongly), then enforce one per run and voter.
    latest = sa.select(sa.func.max(votes.c.id)).group_by(votes.c.run_id, votes.c.voter).scalar_subquery()
    op.execute(votes.delete().where(votes.c.id.not_in(latest)))
    op.create_index("ux_votes_run_voter", "votes", ["run_id", "voter"], unique=True)
    op.create_index("ix_runs_key_created", "runs", ["key_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_key_created", "runs")
    op.drop_index("ux_votes_run_voter", "votes")
    with op.batch_alter_table("votes") as batch:
        batch.drop_column("voter")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("admin")
