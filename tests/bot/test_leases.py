"""Leases on huey's real SQLite storage: one holder per key, expiry of a dead holder's lease."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from huey import SqliteHuey

from bot.service.leases import Leases


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def storage(tmp_path: Path) -> object:
    return SqliteHuey("t", filename=str(tmp_path / "queue.sqlite3")).storage


def test_one_holder_at_a_time_until_it_gives_the_lease_back(storage: object) -> None:
    clock = Clock()
    first, second = Leases(storage, 30, clock), Leases(storage, 30, clock)
    assert first.acquire("pr-1")
    assert not second.acquire("pr-1")
    assert second.acquire("pr-2")  # other keys are free
    first.release("pr-1")
    assert second.acquire("pr-1")


def test_a_lease_nobody_renews_expires_and_is_taken_over(storage: object) -> None:
    clock = Clock()
    dead, alive = Leases(storage, 30, clock), Leases(storage, 30, clock)
    assert dead.acquire("pr-1")  # then its worker is killed: no renewal, no release
    clock.now += 29
    assert not alive.acquire("pr-1")
    clock.now += 2
    assert alive.acquire("pr-1")
    assert not dead.renew("pr-1")  # the old holder learns it lost the lease
    dead.release("pr-1")  # and giving it back leaves the new holder's lease alone
    assert not Leases(storage, 30, clock).acquire("pr-1")


def test_renewing_keeps_a_long_job_s_lease(storage: object) -> None:
    clock = Clock()
    holder, other = Leases(storage, 30, clock), Leases(storage, 30, clock)
    assert holder.acquire("pr-1")
    for _ in range(5):
        clock.now += 20
        assert holder.renew("pr-1")
        assert not other.acquire("pr-1")


def test_hold_renews_in_the_background_and_releases_at_the_end(storage: object) -> None:
    holder, other = Leases(storage, 1.5), Leases(storage, 1.5)
    with holder.hold("pr-1") as held:
        assert held
        time.sleep(2.5)  # well past one lease: only the renewals (every 0.5 s) keep it
        assert not other.acquire("pr-1")
        with other.hold("pr-1") as also:
            assert not also
    assert other.acquire("pr-1")
