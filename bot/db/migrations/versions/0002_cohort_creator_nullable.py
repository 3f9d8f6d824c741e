"""cohorts.created_by may be NULL: the creator's id is removed when they ask to be forgotten

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE cohorts SET created_by = 0 WHERE created_by IS NULL")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.BigInteger(), nullable=False)
