"""Milestone roles decided and worded without Discord or a database (issue 13)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import RoadmapCatalog
from bot.milestones import rules
from bot.milestones.rules import Decision, GrantState
from bot.milestones.views import (
    Cleared,
    CohortTrouble,
    Configured,
    MilestoneRoleView,
    PhaseRef,
    Refusal,
    RoleAction,
    Trouble,
)
from cogs import _milestones
from cogs._milestones import Outcome

STATES = st.one_of(st.none(), st.sampled_from(GrantState))
ROLE = 111
PHASE = PhaseRef("python-europe", "Python Europe", 1, "foundations", "Foundations *of* work")


# --- deciding ------------------------------------------------------------------------------------


@given(done=st.booleans(), role_id=st.one_of(st.none(), st.just(ROLE)), grant=STATES)
def test_a_role_is_only_given_for_a_done_phase_with_a_role_and_never_twice(
    done: bool, role_id: int | None, grant: GrantState | None
) -> None:
    decision = rules.after_done(done=done, role_id=role_id, grant=grant)

    assert decision in (Decision.NOTHING, Decision.GRANT)
    if decision is Decision.GRANT:
        assert done and role_id is not None
        assert grant not in (GrantState.GRANTED, GrantState.CLAIMED)  # granted once


@given(done=st.booleans(), grant=STATES)
def test_an_undo_only_takes_back_what_the_bot_gave_when_the_phase_is_undone(
    done: bool, grant: GrantState | None
) -> None:
    decision = rules.after_undo(done=done, grant=grant)

    if done or grant is None:
        assert decision is Decision.NOTHING
    elif grant is GrantState.FAILED:
        assert decision is Decision.FORGET  # never reached the member: nothing to take back
    else:
        assert decision is Decision.REMOVE


def test_a_refused_grant_or_take_back_is_tried_again_when_the_member_qualifies() -> None:
    for state in (GrantState.FAILED, GrantState.REMOVING, GrantState.REMOVE_FAILED):
        assert rules.after_done(done=True, role_id=ROLE, grant=state) is Decision.GRANT


def test_which_phase_a_checkpoint_finishes(default_catalog: RoadmapCatalog) -> None:
    roadmap = default_catalog.get("python-europe")
    assert roadmap is not None
    foundations = roadmap.phases[0]
    keys = [checkpoint.key for checkpoint in foundations.checkpoints]

    assert rules.phase_of(roadmap, keys[-1]) == foundations
    assert rules.phase_of(roadmap, "no-such-checkpoint") is None
    assert not rules.phase_done(foundations, keys[:-1])
    assert rules.phase_done(foundations, [*keys, "api-authentication"])


@given(
    done_sets=st.dictionaries(
        st.integers(min_value=1, max_value=50), st.sets(st.integers(min_value=0, max_value=5)), max_size=5
    )
)
def test_cohorts_with_the_phase_done_are_exactly_those_holding_every_key(
    done_sets: dict[int, set[int]], default_catalog: RoadmapCatalog
) -> None:
    roadmap = default_catalog.get("python-europe")
    assert roadmap is not None
    phase = roadmap.phases[0]
    names = [checkpoint.key for checkpoint in phase.checkpoints] + ["crud-api-2", "other"]
    completed = {cohort: {names[index] for index in indexes} for cohort, indexes in done_sets.items()}

    found = rules.cohorts_with_phase_done(phase, completed)

    assert found == sorted(c for c, keys in completed.items() if set(names[:4]) <= keys)


def test_phase_numbers_and_keys_round_trip_in_every_roadmap(default_catalog: RoadmapCatalog) -> None:
    for roadmap in default_catalog:
        for number, phase in enumerate(roadmap.phases, start=1):
            assert rules.phase_numbered(roadmap, number) == phase
            assert rules.phase_keyed(roadmap, phase.key) == (number, phase)
        for outside in (0, -1, len(roadmap.phases) + 1, rules.MAX_PHASE_OPTION):
            assert rules.phase_numbered(roadmap, outside) is None
        assert rules.phase_keyed(roadmap, "gone") is None


def test_a_stored_reason_that_is_unknown_reads_as_a_discord_error() -> None:
    assert Refusal.of("no_manage_roles") is Refusal.NO_MANAGE_ROLES
    assert Refusal.of("something new") is Refusal.DISCORD_ERROR
    assert Refusal.of(None) is Refusal.DISCORD_ERROR
    assert set(_milestones.REFUSAL_WORDS) == set(Refusal)


# --- wording -------------------------------------------------------------------------------------


def action(decision: Decision) -> RoleAction:
    return RoleAction(decision, 1, 10, 20, ROLE, PHASE)


@pytest.mark.parametrize(
    ("decision", "outcome", "expected"),
    [
        (Decision.GRANT, Outcome.GRANTED, "earned the <@&111> role"),
        (Decision.GRANT, Outcome.GRANT_FAILED, "your progress is saved"),
        (Decision.REMOVE, Outcome.REMOVED, "took back the <@&111> role"),
        (Decision.REMOVE, Outcome.REMOVE_FAILED, "couldn't take back the <@&111> role"),
    ],
)
def test_the_checkpoint_reply_says_what_happened_to_the_role(
    decision: Decision, outcome: Outcome, expected: str
) -> None:
    line = _milestones.checkpoint_line(action(decision), outcome)

    assert line is not None and expected in line
    assert "*of*" not in line  # the phase title is shown as written, not as markdown


def test_nothing_is_said_when_the_grant_was_undone_on_its_way() -> None:
    assert _milestones.checkpoint_line(action(Decision.GRANT), Outcome.NONE) is None


def test_configuration_answers() -> None:
    assert "now get <@&111>" in _milestones.configured_message(Configured(PHASE, ROLE, None))
    assert "nothing changed" in _milestones.configured_message(Configured(PHASE, ROLE, ROLE))
    assert "replaces <@&7>" in _milestones.configured_message(Configured(PHASE, ROLE, 7))
    assert "nothing changed" in _milestones.cleared_message(Cleared(PHASE, None))
    assert "keep it" in _milestones.cleared_message(Cleared(PHASE, ROLE))


def test_the_overview_lists_roles_live_problems_and_recorded_trouble() -> None:
    views = [
        MilestoneRoleView("python-europe", "Python Europe", "foundations", 1, "Foundations", ROLE, 3, None),
        MilestoneRoleView(
            "python-europe",
            "Python Europe",
            "intermediate",
            2,
            "Intermediate",
            222,
            0,
            Trouble(2, 1, Refusal.ROLE_GONE),
        ),
        MilestoneRoleView("old-map", None, "gone", None, None, None, 0, Trouble(0, 1, Refusal.FORBIDDEN)),
    ]

    lines = _milestones.overview_lines(views, {ROLE: None, 222: Refusal.ROLE_GONE})
    text = "\n".join(lines)

    assert "phase 1 (Foundations) → <@&111> · given to 3" in text
    assert "phase 2 (Intermediate) → <@&222> · not given yet" in text
    assert "I can't give it now: the role was deleted." in text
    assert "2 members finished the phase without getting the role (the role was deleted)" in text
    assert "1 member kept the role after unmarking a checkpoint" in text
    assert (
        "`old-map` (no longer available) phase `gone` (no longer in the roadmap) · no role any more" in text
    )


def test_setting_the_role_again_says_how_many_got_it_and_how_many_still_wait() -> None:
    outcomes = [Outcome.GRANTED, Outcome.GRANTED, Outcome.GRANT_FAILED]

    message = _milestones.retried_message(outcomes, remaining=4)

    assert message.startswith("I gave it to 2 waiting members.")
    assert "5 members still wait" in message
    assert _milestones.retried_message([Outcome.GRANTED], 0).count("still") == 0


def test_the_cohort_field_counts_and_names_nobody() -> None:
    text = _milestones.cohort_trouble_text(CohortTrouble(1, 0, Refusal.NO_MANAGE_ROLES))

    assert text.startswith("⚠️ 1 member finished the phase without getting the role")
    assert "/config milestone-roles" in text
