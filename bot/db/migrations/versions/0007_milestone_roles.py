"""milestone_roles and milestone_grants: roles earned by finishing a roadmap phase

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "milestone_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("roadmap_key", sa.String(length=60), nullable=False),
        sa.Column("phase_key", sa.String(length=60), nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.Column("configured_by", sa.BigInteger(), nullable=True),
        sa.Column("configured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_roles")),
        sa.UniqueConstraint(
            "guild_id",
            "roadmap_key",
            "phase_key",
            name=op.f("uq_milestone_roles_guild_id_roadmap_key_phase_key"),
        ),
    )
    op.create_table(
        "milestone_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("roadmap_key", sa.String(length=60), nullable=False),
        sa.Column("phase_key", sa.String(length=60), nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_milestone_grants_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_grants")),
        sa.UniqueConstraint(
            "guild_id",
            "user_id",
            "roadmap_key",
            "phase_key",
            name=op.f("uq_milestone_grants_guild_id_user_id_roadmap_key_phase_key"),
        ),
    )
    with op.batch_alter_table("milestone_grants", schema=None) as batch_op:
        batch_op.create_index("ix_milestone_grants_guild_state", ["guild_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestone_grants_cohort_id"), ["cohort_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("milestone_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_grants_cohort_id"))
        batch_op.drop_index("ix_milestone_grants_guild_state")
    op.drop_table("milestone_grants")
    op.drop_table("milestone_roles")
