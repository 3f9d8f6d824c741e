"""What `/privacy` says, from the service's results alone."""

from __future__ import annotations

from cogs.privacy.render import erasure_message, my_data_message


def test_an_erasure_lists_what_was_deleted_and_anonymised_in_a_fixed_order() -> None:
    message = erasure_message({"reviews_given_anonymised": 1, "memberships": 2, "departures": 0})

    assert message == (
        "Done. Waypoint no longer holds your data on this server:\n"
        "• 2 cohort memberships deleted\n"
        "• 1 review given anonymised"
    )


def test_an_erasure_of_nothing_says_so() -> None:
    assert erasure_message({"memberships": 0}) == (
        "There was nothing stored about you on this server, so nothing was deleted."
    )


def test_the_download_counts_records_and_non_empty_sections() -> None:
    message = my_data_message("Study Hall", {"memberships": 1, "checkpoint_completions": 3, "departures": 0})

    assert message.startswith(
        "Everything Waypoint stores about you on **Study Hall**: 4 records in 2 sections"
    )
