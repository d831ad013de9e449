"""subject: documents.subject (an 8-K's items and exhibit headline, an earnings release's headline)

Revision ID: 0004_subject
Revises: 0003_edgar
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_subject"
down_revision = "0003_edgar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("subject", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("subject")
