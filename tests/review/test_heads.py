"""The dating rule of the head commit (`bot.forges.heads.head_since`): LGTMs are bound to this moment."""

from __future__ import annotations

from bot.forges.heads import head_since
from bot.review.state import Push
from tests.review.helpers import at

A, B, C, P = "a" * 40, "b" * 40, "c" * 40, "d" * 40


def test_the_heads_first_check_run_dates_it() -> None:
    assert head_since(A, [Push(A, at(0)), Push(A, at(9))], []) == at(0)  # a /recheck does not re-date it


def test_no_sighting_of_the_head_is_unknown() -> None:
    assert head_since(B, [Push(A, at(0))], []) is None


def test_an_ordinary_push_is_dated_by_its_check_run() -> None:
    assert head_since(B, [Push(A, at(0)), Push(B, at(5))], []) == at(5)


def test_a_force_push_back_is_dated_by_the_force_push_not_the_old_check_run() -> None:
    # A, then B (its check run at 5; B is no longer in the PR's commits), then force-pushed back to A at 10
    runs = [Push(A, at(0))]
    assert head_since(A, runs, [Push(A, at(10))]) == at(10)
    assert head_since(A, [*runs, Push(A, at(11))], [Push(A, at(10))]) == at(10)


def test_a_force_push_away_from_the_head_bounds_its_later_sightings() -> None:
    # force-pushed to C at 10 (C's run at 11), then B pushed on top of C: B's old run at 5 does not date it
    assert head_since(B, [Push(B, at(5)), Push(C, at(11))], [Push(C, at(10))]) is None
    assert head_since(B, [Push(B, at(5)), Push(C, at(11)), Push(B, at(12))], [Push(C, at(10))]) == at(12)


def test_a_fast_forward_back_after_a_force_push_to_an_ancestor_is_unknown_until_a_new_run() -> None:
    # A at 0, force-pushed to its parent P at 10 (P's run at 11), fast-forwarded to A again: no event for that
    runs, forced = [Push(A, at(0)), Push(P, at(11))], [Push(P, at(10))]
    assert head_since(A, runs, forced) is None
    assert head_since(A, [*runs, Push(A, at(20))], forced) == at(20)


def test_a_sighting_in_the_same_second_as_another_commits_does_not_date_the_head() -> None:
    assert head_since(B, [Push(A, at(5)), Push(B, at(5))], []) is None
