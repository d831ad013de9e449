"""edgar: documents.accession (the EDGAR accession number of a fetched filing)

Revision ID: 0003_edgar
Revises: 0002_facts
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_edgar"
down_revision = "0002_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("accession", sa.String(length=20), nullable=True))
        batch.create_index("ix_documents_accession", ["accession"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_accession")
        batch.drop_column("accession")
