"""Reconciliation's decisions, from what GitHub listed and what the store knew (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.reconcile.plan import Known, Listed, failed_deliveries, parse_pull, plan_walk
from bot.reconcile.run import next_link

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def sha(n: int) -> str:
    return f"{n:040x}"


def entry(delivery_id: int, guid: str, code: int, minutes_ago: float = 5) -> dict:
    when = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": delivery_id, "guid": guid, "delivered_at": when, "redelivery": False, "duration": 0.1,
            "status": "x", "status_code": code, "event": "pull_request", "action": "opened",
            "installation_id": 1, "repository_id": 2}


def test_unknown_and_moved_heads_are_checked_and_known_quiet_ones_cost_nothing() -> None:
    known = {1: Known(sha(1), "t1"), 2: Known(sha(2), "t2"), 3: Known(sha(3), "t3"), 9: Known(sha(9), "t9")}
    listed = [Listed(1, sha(1), "t1"), Listed(2, sha(22), "t2b"), Listed(3, sha(3), "t3b"), Listed(4, sha(4), "t4")]
    plan = plan_walk(listed, known)
    assert [p.number for p in plan.check] == [2, 4]  # a new push, a PR never seen
    assert [p.number for p in plan.review] == [3]  # a comment or a review since the last walk
    assert plan.keep == {1: Known(sha(1), "t1"), 3: Known(sha(3), "t3b")}  # 9 was closed: dropped


def test_a_pull_listed_twice_counts_once() -> None:
    plan = plan_walk([Listed(5, sha(5), "a"), Listed(5, sha(6), "b")], {})
    assert plan.check == [Listed(5, sha(5), "a")]


def test_a_listed_pull_must_have_githubs_fields() -> None:
    good = {"number": 7, "head": {"sha": sha(7)}, "updated_at": "2026-12-07T10:00:00Z"}
    assert parse_pull(good) == Listed(7, sha(7), "2026-12-07T10:00:00Z")
    assert parse_pull({**good, "number": True}) is None
    assert parse_pull({**good, "head": {"sha": "main"}}) is None


def test_failed_deliveries_newer_than_the_last_look_are_redelivered_once_per_event() -> None:
    entries = [entry(9, "g-ok-later", 202), entry(8, "g-down", 502), entry(7, "g-down", 502),
               entry(6, "g-ok-later", 503), entry(5, "g-seen", 503), entry(4, "g-old", 502, minutes_ago=5 * 24 * 60),
               entry(3, "g-before", 502)]
    chosen = failed_deliveries(entries, last_look=3, seen=lambda guid: guid == "g-seen", now=NOW, limit=10)
    assert chosen.ids == [8]  # the newest attempt of the one event that never got through
    assert chosen.newest == 9 and chosen.reached_last_look and chosen.skipped == 0


def test_redeliveries_stop_at_the_limit() -> None:
    entries = [entry(100 - n, f"g{n}", 502) for n in range(10)]
    assert failed_deliveries(entries, last_look=0, seen=lambda g: False, now=NOW, limit=3).ids == [100, 99, 98]


def test_next_link_reads_githubs_link_header() -> None:
    header = '<https://api.github.com/app/hook/deliveries?per_page=2&cursor=v1_5>; rel="next", <x>; rel="last"'
    assert next_link(header) == "https://api.github.com/app/hook/deliveries?per_page=2&cursor=v1_5"
    assert next_link('<x>; rel="prev"') is None and next_link(None) is None
