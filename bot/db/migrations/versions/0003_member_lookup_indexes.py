"""indexes for members' commands at scale: a member's seats, reviews and cohorts without a scan

``/review status``, ``/review history`` and the review counts of ``/progress`` look a member up by
user id; without these they scanned every seat or review of every round (history grows weekly).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("review_group_members", "ix_review_group_members_user_id", ["user_id"]),
    ("review_completions", "ix_review_completions_reviewer_round", ["reviewer_id", "round_id"]),
    ("review_completions", "ix_review_completions_reviewee_round", ["reviewee_id", "round_id"]),
    ("review_participants", "ix_review_participants_guild_user", ["guild_id", "user_id"]),
    ("cohort_members", "ix_cohort_members_guild_user", ["guild_id", "user_id"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
