"""member_tallies and leaderboard_choices: scores per period, and who hides from leaderboards

The tallies of existing servers are backfilled from the raw rows (checkpoints completed, reviews
given), with the same rules the bot keeps them by (``bot.momentum.rules.tally``), so boards and
streaks are right from the first command after the upgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.momentum.rules import tally

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "member_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("checkpoints", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reviews", sa.Integer(), server_default="0", nullable=False),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_member_tallies_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_tallies")),
        sa.UniqueConstraint(
            "cohort_id",
            "user_id",
            "kind",
            "period",
            name=op.f("uq_member_tallies_cohort_id_user_id_kind_period"),
        ),
    )
    with op.batch_alter_table("member_tallies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_tallies_guild_id"), ["guild_id"], unique=False)
        batch_op.create_index(
            "ix_member_tallies_board",
            ["cohort_id", "kind", "period", sa.text("points DESC"), "reached_at", "user_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_member_tallies_member",
            ["cohort_id", "user_id", "kind", "period", "points", "reached_at"],
            unique=False,
        )
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.create_index("ix_cohort_members_cohort_left", ["cohort_id", "left_at"], unique=False)
    op.create_table(
        "tally_buckets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_tally_buckets_cohort_id_cohorts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tally_buckets")),
        sa.UniqueConstraint(
            "cohort_id",
            "kind",
            "period",
            "points",
            name=op.f("uq_tally_buckets_cohort_id_kind_period_points"),
        ),
    )
    with op.batch_alter_table("tally_buckets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tally_buckets_guild_id"), ["guild_id"], unique=False)
    op.create_table(
        "leaderboard_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_choices")),
        sa.UniqueConstraint("guild_id", "user_id", name=op.f("uq_leaderboard_choices_guild_id_user_id")),
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("leaderboard_choices")
    with op.batch_alter_table("tally_buckets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tally_buckets_guild_id"))
    op.drop_table("tally_buckets")
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.drop_index("ix_cohort_members_cohort_left")
    with op.batch_alter_table("member_tallies", schema=None) as batch_op:
        batch_op.drop_index("ix_member_tallies_member")
        batch_op.drop_index("ix_member_tallies_board")
        batch_op.drop_index(batch_op.f("ix_member_tallies_guild_id"))
    op.drop_table("member_tallies")


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _backfill() -> None:
    connection = op.get_bind()
    tallies = sa.table(
        "member_tallies",
        *(sa.column(name) for name in ("guild_id", "cohort_id", "user_id", "kind", "period")),
        *(sa.column(name) for name in ("checkpoints", "reviews", "points")),
        sa.column("reached_at", sa.DateTime(timezone=True)),
    )
    cohorts = connection.execute(sa.text("SELECT id, guild_id, start_date, timezone FROM cohorts")).all()
    for cohort_id, guild_id, start, timezone in cohorts:
        start_date = datetime.fromisoformat(start).date() if isinstance(start, str) else start
        done: dict[int, list[datetime]] = defaultdict(list)
        given: dict[int, list[datetime]] = defaultdict(list)
        for user_id, at in connection.execute(
            sa.text("SELECT user_id, completed_at FROM checkpoint_completions WHERE cohort_id = :cohort"),
            {"cohort": cohort_id},
        ):
            done[user_id].append(_aware(at))
        for user_id, at in connection.execute(
            sa.text(
                "SELECT c.reviewer_id, c.completed_at FROM review_completions c"
                " JOIN review_rounds r ON r.id = c.round_id"
                " WHERE r.cohort_id = :cohort AND c.reviewer_id IS NOT NULL"
            ),
            {"cohort": cohort_id},
        ):
            given[user_id].append(_aware(at))
        rows = []
        for user_id in done.keys() | given.keys():
            for key, score in tally(start_date, timezone, done[user_id], given[user_id]).items():
                rows.append(
                    {
                        "guild_id": guild_id,
                        "cohort_id": cohort_id,
                        "user_id": user_id,
                        "kind": key.kind.value,
                        "period": key.period,
                        "checkpoints": score.checkpoints,
                        "reviews": score.reviews,
                        "points": score.points,
                        "reached_at": score.reached_at
                        if connection.dialect.name != "sqlite"
                        else score.reached_at.replace(tzinfo=None),
                    }
                )
        for first in range(0, len(rows), BATCH):
            connection.execute(tallies.insert(), rows[first : first + BATCH])
    connection.execute(
        sa.text(
            "INSERT INTO tally_buckets (guild_id, cohort_id, kind, period, points, members)"
            " SELECT guild_id, cohort_id, kind, period, points, count(*) FROM member_tallies"
            " GROUP BY guild_id, cohort_id, kind, period, points"
        )
    )
