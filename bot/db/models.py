"""The schema. Every table that holds guild data carries ``guild_id``; content is referenced by key."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.personal import Erasure, member_id, member_text, not_member_data
from bot.db.types import UTCDateTime

COHORT = "cohorts.name as cohort"
ROUND_WEEK = "review_rounds.week as round_week"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class GuildSettings(Base):
    """Per-server configuration set by moderators."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    moderator_role_id: Mapped[int | None] = mapped_column(BigInteger, info=not_member_data("a Discord role"))
    on_leave: Mapped[str] = mapped_column(String(10), default="keep", server_default="keep")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Cohort(Base):
    __tablename__ = "cohorts"
    __table_args__ = (UniqueConstraint("guild_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(50), info=not_member_data("the cohort's name"))
    # Case-folded name: "Spring 2026" and "spring 2026" are the same cohort to people.
    name_key: Mapped[str] = mapped_column(String(50), info=not_member_data("the cohort's name"))
    roadmap_key: Mapped[str] = mapped_column(String(60), info=not_member_data("a roadmap key"))
    channel_id: Mapped[int] = mapped_column(BigInteger, info=not_member_data("a Discord channel"))
    start_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64), info=not_member_data("the cohort's timezone"))
    weekday: Mapped[int] = mapped_column(Integer)
    slot_time: Mapped[time] = mapped_column(Time)
    # NULL once the moderator who opened the cohort asked to be forgotten.
    created_by: Mapped[int | None] = mapped_column(
        BigInteger,
        info=member_id(
            "cohorts_created",
            rank=8,
            shows=("name as cohort", "created_at"),
            order_by=("created_at", "id"),
            erase=Erasure.SET_NULL,
            erased_as="cohorts_created_anonymised",
        ),
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Weekly prompts
    prompts_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    mention_role_id: Mapped[int | None] = mapped_column(BigInteger, info=not_member_data("a Discord role"))
    attention_reason: Mapped[str | None] = mapped_column(
        String(300), info=not_member_data("why the bot needs a moderator")
    )
    attention_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Review rounds: None means "with the prompt slot".
    review_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    review_weekday: Mapped[int | None] = mapped_column(Integer)
    review_time: Mapped[time | None] = mapped_column(Time)

    members: Mapped[list[CohortMember]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", passive_deletes=True
    )


class CohortMember(Base):
    """A member's enrolment. Leaving sets ``left_at``; progress is kept for a later return."""

    __tablename__ = "cohort_members"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id"),
        Index("ix_cohort_members_guild_user", "guild_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "memberships",
            rank=1,
            shows=(COHORT, "cohorts.roadmap_key as roadmap", "display_name", "joined_at", "left_at"),
            order_by=("joined_at", "id"),
            erase=Erasure.DELETE_ROW,
            erased_as="memberships",
        ),
    )
    display_name: Mapped[str] = mapped_column(String(100), info=member_text(Erasure.DELETE_ROW))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cohort: Mapped[Cohort] = relationship(back_populates="members")


class CheckpointCompletion(Base):
    __tablename__ = "checkpoint_completions"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id", "checkpoint_key"),
        Index("ix_checkpoint_completions_guild_user", "guild_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "checkpoint_completions",
            rank=2,
            shows=(COHORT, "checkpoint_key", "completed_at", "evidence_url", "note"),
            order_by=("completed_at", "id"),
            erase=Erasure.DELETE_ROW,
            erased_as="checkpoint_completions",
        ),
    )
    checkpoint_key: Mapped[str] = mapped_column(String(60), info=not_member_data("a checkpoint key"))
    evidence_url: Mapped[str | None] = mapped_column(String(500), info=member_text(Erasure.DELETE_ROW))
    note: Mapped[str | None] = mapped_column(String(300), info=member_text(Erasure.DELETE_ROW))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PromptPost(Base):
    """One weekly post; the unique (cohort, week) key makes posting idempotent across processes."""

    __tablename__ = "prompt_posts"
    __table_args__ = (UniqueConstraint("cohort_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    # claimed -> sent | failed | missed | skipped
    status: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[int | None] = mapped_column(BigInteger, info=not_member_data("a Discord message"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(300))


class CustomPrompt(Base):
    """A moderator's own text for one week, replacing the roadmap's prompt."""

    __tablename__ = "custom_prompts"
    __table_args__ = (UniqueConstraint("cohort_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(
        Text,
        info=member_text(
            Erasure.KEEP,
            kept_because="a moderator's prompt for the whole cohort, posted in its channel: cohort content",
        ),
    )
    author_id: Mapped[int | None] = mapped_column(
        BigInteger,
        info=member_id(
            "custom_prompts_written",
            rank=9,
            shows=(COHORT, "week", "text", "created_at"),
            order_by=("created_at", "id"),
            erase=Erasure.SET_NULL,
            erased_as="custom_prompts_anonymised",
        ),
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewParticipant(Base):
    """A member's opt-in to review pairing in one cohort."""

    __tablename__ = "review_participants"
    __table_args__ = (
        UniqueConstraint("cohort_id", "user_id"),
        Index("ix_review_participants_guild_user", "guild_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "review_participation",
            rank=3,
            shows=(
                COHORT,
                "active",
                "languages",
                "timezone",
                "snoozed_until_week",
                "missed_streak",
                "joined_at",
            ),
            order_by=("id",),
            erase=Erasure.DELETE_ROW,
            erased_as="review_opt_ins",
        ),
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    languages: Mapped[str] = mapped_column(
        String(200), default="", server_default="", info=member_text(Erasure.DELETE_ROW)
    )
    timezone: Mapped[str | None] = mapped_column(String(64), info=member_text(Erasure.DELETE_ROW))
    snoozed_until_week: Mapped[int | None] = mapped_column(Integer)
    missed_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    auto_snooze_notice: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewRound(Base):
    __tablename__ = "review_rounds"
    __table_args__ = (UniqueConstraint("cohort_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    week: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger, info=not_member_data("the pairing's random seed"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    announcement_message_id: Mapped[int | None] = mapped_column(
        BigInteger, info=not_member_data("a Discord message")
    )
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewGroup(Base):
    __tablename__ = "review_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int | None] = mapped_column(BigInteger, info=not_member_data("a Discord thread"))


class ReviewGroupMember(Base):
    """``user_id`` becomes NULL when a member asks to be forgotten: the round's shape stays."""

    __tablename__ = "review_group_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("review_groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        BigInteger,
        index=True,  # a member's seats without a scan of every round
        info=member_id(
            "review_groups",
            rank=4,
            shows=(COHORT, ROUND_WEEK, "review_groups.id as group_id", "review_groups.thread_id"),
            order_by=("review_rounds.created_at", "review_groups.id"),
            erase=Erasure.SET_NULL,
            erased_as="review_group_seats_anonymised",
        ),
    )


class ReviewCompletion(Base):
    __tablename__ = "review_completions"
    __table_args__ = (
        UniqueConstraint("round_id", "reviewer_id", "reviewee_id"),
        # A member's reviews without a scan of every round (review counts, /review status).
        Index("ix_review_completions_reviewer_round", "reviewer_id", "round_id"),
        Index("ix_review_completions_reviewee_round", "reviewee_id", "round_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(
        BigInteger,
        info=member_id(
            "reviews_given",
            rank=5,
            shows=(COHORT, ROUND_WEEK, "completed_at", "link"),
            order_by=("completed_at", "id"),
            erase=Erasure.SET_NULL,
            erased_as="reviews_given_anonymised",
        ),
    )
    reviewee_id: Mapped[int | None] = mapped_column(
        BigInteger,
        info=member_id(
            "reviews_received",
            rank=6,
            shows=(COHORT, ROUND_WEEK, "completed_at", "link"),
            order_by=("completed_at", "id"),
            erase=Erasure.SET_NULL,
            erased_as="reviews_received_anonymised",
        ),
    )
    # The reviewer's words: cleared when the reviewer is erased, kept when the reviewee is.
    link: Mapped[str | None] = mapped_column(
        String(500), info=member_text(Erasure.CLEAR, author="reviewer_id")
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberDeparture(Base):
    """A member who left the server, awaiting purge when the server's policy says so."""

    __tablename__ = "member_departures"
    __table_args__ = (UniqueConstraint("guild_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "departures", rank=7, shows=("left_at",), erase=Erasure.DELETE_ROW, erased_as="departures"
        ),
    )
    left_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Who exported or erased what, for moderators to review."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # Erasure anonymises a member's own data requests; moderators' exports keep their actor.
    actor_id: Mapped[int | None] = mapped_column(
        BigInteger,
        info=member_id(
            "audit_entries_as_actor",
            rank=10,
            shows=("action", "detail", "created_at"),
            order_by=("created_at", "id"),
            erase=Erasure.SET_NULL,
            erased_as="data_requests_anonymised",
            erase_only_if=("action", "privacy."),
        ),
    )
    action: Mapped[str] = mapped_column(String(40), info=not_member_data("an action code"))
    detail: Mapped[str] = mapped_column(
        String(500),
        info=member_text(
            Erasure.KEEP,
            kept_because="written by the bot (kinds, counts, cohort names), never a member's words",
        ),
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderSetting(Base):
    """A member's direct-message reminders in one server: all off until they turn one on."""

    __tablename__ = "reminder_settings"
    __table_args__ = (UniqueConstraint("guild_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "reminder_settings",
            rank=11,
            shows=("review", "streak", "weekly", "dms_closed_at", "updated_at"),
            order_by=("id",),
            erase=Erasure.DELETE_ROW,
            erased_as="reminder_settings",
        ),
    )
    review: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    streak: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    weekly: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Set when Discord refused a DM (50007): every reminder was switched off; told once, then cleared.
    dms_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderSend(Base):
    """One reminder DM, claimed before it is sent: the unique key makes it go out once."""

    __tablename__ = "reminder_sends"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "reminders_sent",
            rank=12,
            shows=(COHORT, "kind", "period", "status", "claimed_at"),
            order_by=("claimed_at", "id"),
            erase=Erasure.DELETE_ROW,
            erased_as="reminders_sent",
        ),
    )
    kind: Mapped[str] = mapped_column(String(10), info=not_member_data("a reminder kind"))
    # The cohort week (weekly, streak) or the review round's week (review).
    period: Mapped[int] = mapped_column(Integer)
    # claimed -> sent | failed
    status: Mapped[str] = mapped_column(String(10), info=not_member_data("a delivery status"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServerRoadmapVersion(Base):
    """One version of a server's own roadmap: the file as imported. Earlier versions stay stored.

    The current version of a key has ``current`` set; removing the roadmap clears it and stamps
    ``removed_at`` on that row. Versions are numbered from 1 per (server, key) and never reused.
    """

    __tablename__ = "server_roadmap_versions"
    __table_args__ = (
        UniqueConstraint("guild_id", "key", "version"),
        Index("ix_server_roadmap_versions_current", "guild_id", "current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(48), info=not_member_data("a roadmap key"))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(
        Text,
        info=member_text(
            Erasure.KEEP,
            kept_because="a server's curriculum, followed by its cohorts: server content, not the importer's",
        ),
    )
    current: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # NULL once the moderator who imported it asked to be forgotten.
    imported_by: Mapped[int | None] = mapped_column(
        BigInteger,
        info=member_id(
            "roadmap_versions_imported",
            rank=22,
            shows=("key", "version", "imported_at"),
            order_by=("imported_at", "id"),
            erase=Erasure.SET_NULL,
            erased_as="roadmap_versions_anonymised",
        ),
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MilestoneRole(Base):
    """A role members earn by finishing one phase of a roadmap; the phase is stored by its key."""

    __tablename__ = "milestone_roles"
    __table_args__ = (UniqueConstraint("guild_id", "roadmap_key", "phase_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    roadmap_key: Mapped[str] = mapped_column(String(60), info=not_member_data("a roadmap key"))
    phase_key: Mapped[str] = mapped_column(String(60), info=not_member_data("a phase key"))
    role_id: Mapped[int] = mapped_column(BigInteger, info=not_member_data("a Discord role"))
    # NULL once the moderator who set it asked to be forgotten.
    configured_by: Mapped[int | None] = mapped_column(
        BigInteger,
        info=member_id(
            "milestone_roles_configured",
            rank=20,
            shows=("roadmap_key", "phase_key", "role_id", "configured_at"),
            order_by=("configured_at", "id"),
            erase=Erasure.SET_NULL,
            erased_as="milestone_roles_anonymised",
        ),
    )
    configured_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MilestoneGrant(Base):
    """A milestone role the bot gave (or tried to give) one member: one per member and phase.

    ``state`` is a ``bot.milestones.rules.GrantState``; ``error`` says why Discord refused, for
    moderators. Forget-me deletes the row; the role itself stays on the member (see the README).
    """

    __tablename__ = "milestone_grants"
    __table_args__ = (
        UniqueConstraint("guild_id", "user_id", "roadmap_key", "phase_key"),
        Index("ix_milestone_grants_guild_state", "guild_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "milestone_roles_received",
            rank=21,
            shows=(
                COHORT,
                "roadmap_key",
                "phase_key",
                "role_id",
                "state",
                "granted_at",
                "failed_at",
                "error",
            ),
            order_by=("claimed_at", "id"),
            erase=Erasure.DELETE_ROW,
            erased_as="milestone_roles_received",
        ),
    )
    # The cohort whose progress finished the phase: its /cohort info shows grants that need attention.
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    roadmap_key: Mapped[str] = mapped_column(String(60), info=not_member_data("a roadmap key"))
    phase_key: Mapped[str] = mapped_column(String(60), info=not_member_data("a phase key"))
    role_id: Mapped[int] = mapped_column(BigInteger, info=not_member_data("a Discord role"))
    state: Mapped[str] = mapped_column(String(20), info=not_member_data("a grant state"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(
        String(100), info=not_member_data("why Discord refused, by code")
    )


class MemberTally(Base):
    """A member's score in one cohort for one period, kept in step with the raw rows it counts.

    ``kind`` is ``week`` (``period`` = cohort week), ``month`` (``period`` = year * 100 + month,
    local to the cohort) or ``all`` (``period`` = 0). Written in the same transaction as the
    checkpoint or review it counts (``bot.momentum.tally``); a recount from raw rows gives the same.
    ``reached_at`` is when the member reached ``points``: the latest event counted.
    """

    __tablename__ = "member_tallies"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "scores",
            rank=13,
            shows=(COHORT, "kind", "period", "checkpoints", "reviews", "points", "reached_at"),
            order_by=("kind", "period", "id"),
            erase=Erasure.DELETE_ROW,
            erased_as="scores",
        ),
    )
    kind: Mapped[str] = mapped_column(String(8), info=not_member_data("a period kind"))
    period: Mapped[int] = mapped_column(Integer)
    checkpoints: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reviews: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The board's order (most points, then who got there first): the top rows and "how many are ahead
# of me" are reads of one index range.
Index(
    "ix_member_tallies_board",
    MemberTally.cohort_id,
    MemberTally.kind,
    MemberTally.period,
    MemberTally.points.desc(),
    MemberTally.reached_at,
    MemberTally.user_id,
)


# One member's rows with their scores: the few unlisted members' rows without a scan of the board.
Index(
    "ix_member_tallies_member",
    MemberTally.cohort_id,
    MemberTally.user_id,
    MemberTally.kind,
    MemberTally.period,
    MemberTally.points,
    MemberTally.reached_at,
)


class TallyBucket(Base):
    """How many members of a cohort have exactly ``points`` in a period (kept with ``MemberTally``).

    A rank is the members in the buckets above plus the few with the same points who got there
    first: a handful of rows read, however large the cohort. No member data: counts only.
    """

    __tablename__ = "tally_buckets"
    __table_args__ = (UniqueConstraint("cohort_id", "kind", "period", "points"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8), info=not_member_data("a period kind"))
    period: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# Members who left a cohort, without a scan of its enrolments: boards leave them out.
Index("ix_cohort_members_cohort_left", CohortMember.cohort_id, CohortMember.left_at)


class LeaderboardChoice(Base):
    """``/privacy leaderboard``: a member who asked to be left off boards and streak highlights."""

    __tablename__ = "leaderboard_choices"
    __table_args__ = (UniqueConstraint("guild_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(
        BigInteger,
        info=member_id(
            "leaderboard_choice",
            rank=14,
            shows=("hidden", "updated_at"),
            order_by=("id",),
            erase=Erasure.DELETE_ROW,
            erased_as="leaderboard_choices",
        ),
    )
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
