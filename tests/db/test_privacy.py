"""Members' data requests and erasure, and the on-leave purge, over a real SQLite file."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import String, Text, func, select

from bot.container import Services
from bot.db.models import (
    AuditEntry,
    Base,
    CheckpointCompletion,
    Cohort,
    CohortMember,
    CustomPrompt,
    MemberDeparture,
    ReviewCompletion,
    ReviewGroupMember,
    ReviewParticipant,
)
from bot.exports.formats import ExportFormat
from bot.exports.service import ExportKind
from bot.privacy.rules import erasure_phrases
from bot.privacy.service import PURGE_GRACE
from tests.db.conftest import FakeClock
from tests.db.test_exports import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    EVE,
    GUILD,
    MOD,
    NOW,
    OTHER_GUILD,
    Seeded,
    at,
    csv_rows,
    seed_server,
)


@pytest.fixture
async def seeded(services: Services, clock: FakeClock) -> Seeded:
    found = await seed_server(services, clock)
    async with services.sessions.begin() as session:
        session.add(
            ReviewParticipant(
                guild_id=GUILD, cohort_id=found.spring_id, user_id=ALICE, languages="python", joined_at=NOW
            )
        )
        session.add(ReviewParticipant(guild_id=GUILD, cohort_id=found.spring_id, user_id=BOB, joined_at=NOW))
    # Alice is also a member in the other server.
    await services.cohorts.join(OTHER_GUILD, "Spring", ALICE, "Alice elsewhere")
    await services.progress.complete(OTHER_GUILD, ALICE, "crud-api")
    return found


async def count(services: Services, model: Any, *conditions: Any) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def progress_ids(services: Services, guild: int = GUILD) -> list[str]:
    out = io.BytesIO()
    await services.exports.write(guild, None, ExportKind.PROGRESS, ExportFormat.CSV, out, actor_id=MOD)
    return [row["member_id"] for row in csv_rows(out.getvalue())]


# ------------------------------------------------------------------------------------ access


async def test_my_data_holds_exactly_the_callers_rows_in_this_server(
    services: Services, seeded: Seeded
) -> None:
    data = await services.privacy.my_data(GUILD, ALICE)
    document = json.loads(data.payload)

    assert (document["kind"], document["schema_version"]) == ("personal_data", 1)
    assert (document["guild_id"], document["user_id"]) == (str(GUILD), str(ALICE))
    sections = document["sections"]
    assert sections["memberships"] == [
        {
            "cohort": "Spring",
            "roadmap": "python-europe",
            "display_name": "Alice",
            "joined_at": "2026-01-05T10:00:00Z",
            "left_at": None,
        }
    ]
    # Her three completions here (the retired key too: it is still her data), not the other server's.
    assert [row["checkpoint_key"] for row in sections["checkpoint_completions"]] == [
        "python-oop-async",
        "crud-api",
        "retired-checkpoint",
    ]
    assert sections["checkpoint_completions"][0]["evidence_url"] == "https://github.com/alice/oop"
    assert [row["languages"] for row in sections["review_participation"]] == ["python"]
    assert [(row["round_week"], row["group_id"]) for row in sections["review_groups"]] == [
        (7, str(seeded.groups["pair"])),
        (8, str(seeded.groups["trio"])),
    ]
    assert [row["link"] for row in sections["reviews_given"]] == ["https://github.com/bob/pr/1"]
    # Eve's review of Alice happened in the other server: not here.
    assert [row["link"] for row in sections["reviews_received"]] == ["https://github.com/alice/pr/2"]
    assert sections["departures"] == []
    assert sections["cohorts_created"] == []
    assert data.records == 1 + 3 + 1 + 2 + 1 + 1 + 4  # and her scores: week, month, all
    # Nobody else's id appears: partners and reviewers are left out.
    text = data.payload.decode()
    assert f'"{BOB}"' not in text
    assert "reviewer_id" not in text


async def test_my_data_of_a_moderator_lists_what_they_created_and_did(
    services: Services, seeded: Seeded
) -> None:
    async with services.sessions.begin() as session:
        session.add(
            CustomPrompt(
                guild_id=GUILD,
                cohort_id=seeded.spring_id,
                week=3,
                text="Draw your schema.",
                author_id=MOD,
                created_at=NOW,
            )
        )
    await progress_ids(services)  # an export by the moderator

    sections = json.loads((await services.privacy.my_data(GUILD, MOD)).payload)["sections"]

    assert [row["cohort"] for row in sections["cohorts_created"]] == ["Spring", "Sprint"]
    assert [row["text"] for row in sections["custom_prompts_written"]] == ["Draw your schema."]
    assert [row["action"] for row in sections["audit_entries_as_actor"]] == ["export.progress"]
    assert sections["memberships"] == []


async def test_my_data_request_is_audited(services: Services, seeded: Seeded) -> None:
    await services.privacy.my_data(GUILD, BOB)

    entries = await services.exports.recent_audit(GUILD)
    assert [(entry.actor_id, entry.action) for entry in entries] == [(BOB, "privacy.my_data")]


# ----------------------------------------------------------------------------------- erasure


async def test_forget_me_deletes_and_anonymises_only_the_callers_rows(
    services: Services, seeded: Seeded
) -> None:
    await services.privacy.my_data(GUILD, ALICE)  # an earlier request, by her
    clock_now = NOW

    report = await services.privacy.forget_me(GUILD, ALICE)

    assert report.counts == {
        "memberships": 1,
        "checkpoint_completions": 3,
        "review_opt_ins": 1,
        "departures": 0,
        "roadmap_versions_anonymised": 0,
        "reminder_settings": 0,
        "reminders_sent": 0,
        "milestone_roles_received": 0,
        "scores": 4,
        "leaderboard_choices": 0,
        "review_group_seats_anonymised": 2,
        "reviews_given_anonymised": 1,
        "reviews_received_anonymised": 1,
        "custom_prompts_anonymised": 0,
        "cohorts_created_anonymised": 0,
        "milestone_roles_anonymised": 0,
        "data_requests_anonymised": 1,
    }
    assert "3 checkpoint completions deleted" in erasure_phrases(report.counts)
    here = (CohortMember.guild_id == GUILD, CohortMember.user_id == ALICE)
    assert await count(services, CohortMember, *here) == 0
    assert (
        await count(services, CheckpointCompletion, CheckpointCompletion.user_id == ALICE) == 1
    )  # elsewhere
    assert await count(services, ReviewParticipant, ReviewParticipant.user_id == ALICE) == 0
    assert await count(services, ReviewGroupMember, ReviewGroupMember.user_id == ALICE) == 0
    assert await count(services, ReviewGroupMember, ReviewGroupMember.user_id.is_(None)) == 2
    # History keeps its shape: Bob's seats and his reviews stay, Alice's side is empty.
    assert await count(services, ReviewGroupMember, ReviewGroupMember.user_id == BOB) == 2
    assert await count(services, ReviewCompletion, ReviewCompletion.guild_id == GUILD) == 3
    assert (
        await count(services, ReviewCompletion, ReviewCompletion.reviewee_id == ALICE) == 1
    )  # the other server
    # Bob's data is untouched.
    assert await count(services, ReviewParticipant, ReviewParticipant.user_id == BOB) == 1
    # The audit log says an erasure happened, not who asked.
    entries = await services.exports.recent_audit(GUILD)
    assert [(entry.actor_id, entry.action) for entry in entries] == [
        (None, "privacy.forget_me"),
        (None, "privacy.my_data"),
    ]
    assert entries[0].detail == (
        "a member erased their data: 1 cohort membership deleted; 3 checkpoint completions deleted;"
        " 1 review opt-in deleted; 4 leaderboard scores deleted; 2 review group seats anonymised;"
        " 1 review given anonymised;"
        " 1 review received anonymised; 1 data request in the audit log anonymised"
    )
    assert entries[0].created_at == clock_now


async def test_after_forget_me_exports_and_my_data_no_longer_show_the_member(
    services: Services, seeded: Seeded
) -> None:
    assert str(ALICE) in await progress_ids(services)

    await services.privacy.forget_me(GUILD, ALICE)

    assert await progress_ids(services) == [str(BOB), str(CAROL)]
    out = io.BytesIO()
    await services.exports.write(GUILD, None, ExportKind.REVIEWS, ExportFormat.CSV, out, actor_id=MOD)
    reviews = csv_rows(out.getvalue())
    assert str(ALICE) not in {row["reviewer_id"] for row in reviews} | {row["reviewee_id"] for row in reviews}
    # The same rounds and pairs, with Alice's side empty. The review of Bob whose reviewer was
    # erased earlier now matches the trio's anonymous seat, so it joins that pair's row.
    trio = [
        (row["reviewer_id"], row["reviewee_id"], row["completed_at_utc"])
        for row in reviews
        if row["round_week"] == "8"
    ]
    assert trio == [
        ("", str(BOB), "2026-02-26T12:00:00Z"),
        ("", str(DAVE), ""),
        (str(BOB), "", "2026-02-25T11:00:00Z"),
        (str(BOB), str(DAVE), ""),
        (str(DAVE), "", ""),
        (str(DAVE), str(BOB), ""),
    ]
    assert len(reviews) == 2 + 6 + 1
    sections = json.loads((await services.privacy.my_data(GUILD, ALICE)).payload)["sections"]
    assert all(records == [] for records in sections.values())
    # Her membership in the other server is still there.
    assert await progress_ids(services, OTHER_GUILD) == [str(ALICE), str(EVE)]


async def text_values(services: Services, guild: int) -> set[str]:
    """Every text value stored for one server, in every table and column."""
    found: set[str] = set()
    async with services.sessions() as session:
        for table in Base.metadata.tables.values():
            texts = [column for column in table.columns if isinstance(column.type, String | Text)]
            if not texts or "guild_id" not in table.columns:
                continue
            for row in await session.execute(select(*texts).where(table.c.guild_id == guild)):
                found.update(value for value in row if isinstance(value, str))
    return found


async def review_export(services: Services) -> list[dict[str, str]]:
    out = io.BytesIO()
    await services.exports.write(GUILD, None, ExportKind.REVIEWS, ExportFormat.CSV, out, actor_id=MOD)
    return csv_rows(out.getvalue())


async def test_forget_me_removes_the_review_links_the_member_wrote_and_keeps_the_others(
    services: Services, seeded: Seeded
) -> None:
    """Issue: after forget-me the review links she wrote were still in /export reviews."""
    written_by_alice = "https://github.com/bob/pr/1"  # her review of Bob
    written_by_bob = "https://github.com/alice/pr/2"  # Bob's review of her: his words
    assert written_by_alice in {row["link"] for row in await review_export(services)}

    await services.privacy.forget_me(GUILD, ALICE)

    rows = await review_export(services)
    assert written_by_alice not in {row["link"] for row in rows}
    # Bob's record stays whole: his review of her (his link), and hers of him, done, by nobody named.
    (his,) = [row for row in rows if row["link"] == written_by_bob]
    assert (his["reviewer_id"], his["reviewee_id"]) == (str(BOB), "")
    (hers,) = [row for row in rows if row["round_week"] == "7" and row["reviewee_id"] == str(BOB)]
    assert (hers["reviewer_id"], hers["completed_at_utc"], hers["link"]) == ("", "2026-02-18T10:00:00Z", "")
    # Nothing she wrote or chose is left anywhere in this server: name, evidence, note, opt-in, link.
    left = await text_values(services, GUILD)
    assert not {"Alice", "https://github.com/alice/oop", "python", written_by_alice} & left
    assert written_by_bob in left
    # The other server keeps Eve's link to her review of Alice.
    async with services.sessions() as session:
        elsewhere = await session.scalar(
            select(ReviewCompletion.link).where(ReviewCompletion.guild_id == OTHER_GUILD)
        )
    assert elsewhere == "https://elsewhere.example"


async def test_forget_me_of_a_reviewee_keeps_the_reviewers_link(services: Services, seeded: Seeded) -> None:
    await services.privacy.forget_me(GUILD, BOB)

    links = {row["link"] for row in await review_export(services)}
    assert "https://github.com/bob/pr/1" in links  # Alice wrote it about Bob's code
    assert "https://github.com/alice/pr/2" not in links  # Bob wrote it


async def test_forget_me_of_a_moderator_anonymises_what_they_authored(
    services: Services, seeded: Seeded
) -> None:
    async with services.sessions.begin() as session:
        session.add(
            CustomPrompt(
                guild_id=GUILD,
                cohort_id=seeded.spring_id,
                week=3,
                text="Hi there.",
                author_id=MOD,
                created_at=NOW,
            )
        )
    await progress_ids(services)

    report = await services.privacy.forget_me(GUILD, MOD)

    assert report.counts["cohorts_created_anonymised"] == 2
    assert report.counts["custom_prompts_anonymised"] == 1
    assert report.counts["data_requests_anonymised"] == 0  # exports stay attributed
    assert await count(services, Cohort, Cohort.created_by == MOD) == 1  # the other server's cohort
    assert await count(services, CustomPrompt, CustomPrompt.author_id.is_(None)) == 1
    assert await count(services, AuditEntry, AuditEntry.actor_id == MOD) == 1


async def test_forget_me_with_nothing_stored_reports_nothing(services: Services, seeded: Seeded) -> None:
    report = await services.privacy.forget_me(GUILD, 424242)

    assert report.total == 0
    assert erasure_phrases(report.counts) == []
    assert (await services.exports.recent_audit(GUILD))[
        0
    ].detail == "a member erased their data: nothing was stored"


# ------------------------------------------------------------------------- leaving the server


async def test_departure_is_recorded_only_for_members_with_data(services: Services, seeded: Seeded) -> None:
    assert await services.privacy.record_departure(GUILD, ALICE, NOW)
    assert await services.privacy.record_departure(GUILD, ALICE, NOW + timedelta(hours=1))  # left again
    assert not await services.privacy.record_departure(GUILD, 424242, NOW)

    async with services.sessions() as session:
        departures = (await session.execute(select(MemberDeparture.user_id, MemberDeparture.left_at))).all()
    assert [(user, left_at) for user, left_at in departures] == [(ALICE, NOW + timedelta(hours=1))]
    assert await services.privacy.cancel_departure(GUILD, ALICE)
    assert not await services.privacy.cancel_departure(GUILD, ALICE)


async def test_purge_follows_the_policy_and_the_grace_period(services: Services, seeded: Seeded) -> None:
    await services.privacy.record_departure(GUILD, ALICE, NOW)
    await services.privacy.record_departure(OTHER_GUILD, EVE, NOW)
    await services.guild_config.set_on_leave_policy(OTHER_GUILD, "keep")

    # Keep is the default: nothing is purged, however long ago they left.
    report = await services.privacy.purge_due(NOW + timedelta(days=30))
    assert report.members_purged == 0

    await services.guild_config.set_on_leave_policy(GUILD, "purge")
    before_grace = await services.privacy.purge_due(NOW + PURGE_GRACE - timedelta(minutes=1))
    assert before_grace.members_purged == 0
    assert str(ALICE) in await progress_ids(services)

    after_grace = await services.privacy.purge_due(NOW + PURGE_GRACE)
    assert after_grace.members_purged == 1
    assert after_grace.rows > 5
    assert str(ALICE) not in await progress_ids(services)
    assert await count(services, MemberDeparture, MemberDeparture.guild_id == GUILD) == 0
    # The other server (policy keep) still has both its members and Eve's departure.
    assert await progress_ids(services, OTHER_GUILD) == [str(ALICE), str(EVE)]
    assert await count(services, MemberDeparture, MemberDeparture.guild_id == OTHER_GUILD) == 1
    entry = (await services.exports.recent_audit(GUILD))[0]
    assert (entry.actor_id, entry.action) == (None, "privacy.purge")
    assert entry.detail.startswith("a member who left on 2026-03-02 was purged after 7 days")
    # Running again finds nothing left to do.
    assert (await services.privacy.purge_due(NOW + PURGE_GRACE)).members_purged == 0


async def test_purge_spares_a_member_who_is_back(services: Services, seeded: Seeded) -> None:
    await services.guild_config.set_on_leave_policy(GUILD, "purge")
    await services.privacy.record_departure(GUILD, ALICE, NOW)
    await services.privacy.record_departure(GUILD, BOB, NOW)

    report = await services.privacy.purge_due(
        NOW + timedelta(days=8), still_member=lambda guild, user: user == ALICE
    )

    assert (report.members_purged, report.departures_cancelled) == (1, 1)
    assert await progress_ids(services) == [str(ALICE), str(CAROL)]
    assert await count(services, MemberDeparture) == 0


async def test_a_member_who_rejoins_in_time_keeps_their_data(
    services: Services, seeded: Seeded, clock: FakeClock
) -> None:
    await services.guild_config.set_on_leave_policy(GUILD, "purge")
    await services.privacy.record_departure(GUILD, BOB, at("2026-03-01T00:00:00"))
    await services.privacy.cancel_departure(GUILD, BOB)

    assert (await services.privacy.purge_due(NOW + timedelta(days=30))).members_purged == 0
    assert str(BOB) in await progress_ids(services)
