"""The team-membership cache: one API call per (user, team) within its lifetime."""

from __future__ import annotations

import pytest

from bot.review.membership import TeamCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_answers_are_cached_for_their_lifetime_then_asked_again() -> None:
    asked: list[tuple[str, str]] = []
    clock = Clock()

    def fetch(user: str, team: str) -> bool:
        asked.append((user, team))
        return user == "tina"

    is_member = TeamCache(ttl_s=60, clock=clock).membership(fetch)
    assert is_member("tina", "org/t") and is_member("TINA", "ORG/T") and not is_member("sam", "org/t")
    assert asked == [("tina", "org/t"), ("sam", "org/t")]
    clock.now = 61
    assert is_member("tina", "org/t")
    assert len(asked) == 3


def test_a_failed_lookup_raises_and_is_not_cached() -> None:
    calls = 0

    def fetch(user: str, team: str) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("API down")
        return True

    is_member = TeamCache().membership(fetch)
    with pytest.raises(ConnectionError):
        is_member("tina", "org/t")
    assert is_member("tina", "org/t") and calls == 2
