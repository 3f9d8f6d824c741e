"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_key", sa.String(length=50), nullable=False),
        sa.Column("roadmap_key", sa.String(length=60), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("slot_time", sa.Time(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prompts_paused", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("mention_role_id", sa.BigInteger(), nullable=True),
        sa.Column("attention_reason", sa.String(length=300), nullable=True),
        sa.Column("attention_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_enabled", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("review_weekday", sa.Integer(), nullable=True),
        sa.Column("review_time", sa.Time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint("guild_id", "name_key", name=op.f("uq_cohorts_guild_id_name_key")),
    )
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cohorts_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("moderator_role_id", sa.BigInteger(), nullable=True),
        sa.Column("on_leave", sa.String(length=10), server_default="keep", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_settings")),
    )
    op.create_table(
        "member_departures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_departures")),
        sa.UniqueConstraint("guild_id", "user_id", name=op.f("uq_member_departures_guild_id_user_id")),
    )
    op.create_table(
        "checkpoint_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_key", sa.String(length=60), nullable=False),
        sa.Column("evidence_url", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_checkpoint_completions_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_completions")),
        sa.UniqueConstraint(
            "cohort_id",
            "user_id",
            "checkpoint_key",
            name=op.f("uq_checkpoint_completions_cohort_id_user_id_checkpoint_key"),
        ),
    )
    with op.batch_alter_table("checkpoint_completions", schema=None) as batch_op:
        batch_op.create_index("ix_checkpoint_completions_guild_user", ["guild_id", "user_id"], unique=False)

    op.create_table(
        "cohort_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_cohort_members_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_members")),
        sa.UniqueConstraint("cohort_id", "user_id", name=op.f("uq_cohort_members_cohort_id_user_id")),
    )
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cohort_members_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "custom_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_custom_prompts_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_prompts")),
        sa.UniqueConstraint("cohort_id", "week", name=op.f("uq_custom_prompts_cohort_id_week")),
    )
    with op.batch_alter_table("custom_prompts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_prompts_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "prompt_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_prompt_posts_cohort_id_cohorts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_posts")),
        sa.UniqueConstraint("cohort_id", "week", name=op.f("uq_prompt_posts_cohort_id_week")),
    )
    with op.batch_alter_table("prompt_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompt_posts_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "review_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("languages", sa.String(length=200), server_default="", nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("snoozed_until_week", sa.Integer(), nullable=True),
        sa.Column("missed_streak", sa.Integer(), server_default="0", nullable=False),
        sa.Column("auto_snooze_notice", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_review_participants_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_participants")),
        sa.UniqueConstraint("cohort_id", "user_id", name=op.f("uq_review_participants_cohort_id_user_id")),
    )
    with op.batch_alter_table("review_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_participants_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "review_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announcement_message_id", sa.BigInteger(), nullable=True),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_review_rounds_cohort_id_cohorts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rounds")),
        sa.UniqueConstraint("cohort_id", "week", name=op.f("uq_review_rounds_cohort_id_week")),
    )
    with op.batch_alter_table("review_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_rounds_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "review_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=True),
        sa.Column("reviewee_id", sa.BigInteger(), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_rounds.id"],
            name=op.f("fk_review_completions_round_id_review_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_completions")),
        sa.UniqueConstraint(
            "round_id",
            "reviewer_id",
            "reviewee_id",
            name=op.f("uq_review_completions_round_id_reviewer_id_reviewee_id"),
        ),
    )
    with op.batch_alter_table("review_completions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_completions_guild_id"), ["guild_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_completions_round_id"), ["round_id"], unique=False)

    op.create_table(
        "review_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_rounds.id"],
            name=op.f("fk_review_groups_round_id_review_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_groups")),
    )
    with op.batch_alter_table("review_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_groups_guild_id"), ["guild_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_groups_round_id"), ["round_id"], unique=False)

    op.create_table(
        "review_group_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["review_groups.id"],
            name=op.f("fk_review_group_members_group_id_review_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_group_members")),
    )
    with op.batch_alter_table("review_group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_group_members_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_group_members_guild_id"), ["guild_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_group_members_guild_id"))
        batch_op.drop_index(batch_op.f("ix_review_group_members_group_id"))

    op.drop_table("review_group_members")
    with op.batch_alter_table("review_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_groups_round_id"))
        batch_op.drop_index(batch_op.f("ix_review_groups_guild_id"))

    op.drop_table("review_groups")
    with op.batch_alter_table("review_completions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_completions_round_id"))
        batch_op.drop_index(batch_op.f("ix_review_completions_guild_id"))

    op.drop_table("review_completions")
    with op.batch_alter_table("review_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_rounds_guild_id"))

    op.drop_table("review_rounds")
    with op.batch_alter_table("review_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_participants_guild_id"))

    op.drop_table("review_participants")
    with op.batch_alter_table("prompt_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_posts_guild_id"))

    op.drop_table("prompt_posts")
    with op.batch_alter_table("custom_prompts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_prompts_guild_id"))

    op.drop_table("custom_prompts")
    with op.batch_alter_table("cohort_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohort_members_guild_id"))

    op.drop_table("cohort_members")
    with op.batch_alter_table("checkpoint_completions", schema=None) as batch_op:
        batch_op.drop_index("ix_checkpoint_completions_guild_user")

    op.drop_table("checkpoint_completions")
    op.drop_table("member_departures")
    op.drop_table("guild_settings")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohorts_guild_id"))

    op.drop_table("cohorts")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_guild_id"))

    op.drop_table("audit_log")
