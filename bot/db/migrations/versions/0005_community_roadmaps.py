"""server_roadmap_versions: a server's own roadmaps, every imported version kept

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_roadmap_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("current", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("imported_by", sa.BigInteger(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_roadmap_versions")),
        sa.UniqueConstraint(
            "guild_id", "key", "version", name=op.f("uq_server_roadmap_versions_guild_id_key_version")
        ),
    )
    with op.batch_alter_table("server_roadmap_versions", schema=None) as batch_op:
        batch_op.create_index("ix_server_roadmap_versions_current", ["guild_id", "current"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("server_roadmap_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_server_roadmap_versions_current")
    op.drop_table("server_roadmap_versions")
