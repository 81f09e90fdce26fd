"""Issue 22.8: the stale clock moves only on real activity (a push, a new comment or review by a person).

The attack: an old comment edited in silence (or a label added and removed) every few weeks keeps an
abandoned PR from ever going stale.
"""

from __future__ import annotations

from pathlib import Path

from bot.dashboard import record
from bot.dashboard.store import Store

NOW, DAY = 1_800_000_000.0, 86400.0
PR = {"number": 7, "title": "t", "user": {"login": "carla"}, "state": "open", "created_at": "2027-01-15T08:00:00Z",
      "head": {"sha": "b" * 40}, "base": {"ref": "main"}}
REPO = {"full_name": "o/t"}
PERSON = {"login": "carla", "type": "User"}


def _deliver(store: Store, event: str, action: str, at: float, **extra: object) -> float:
    payload = {"action": action, "repository": REPO, "sender": PERSON, **extra}
    record.on_delivery(store, event, f"d{at}", payload, [], at)
    row = store.pull("o/t", 7)
    assert row is not None
    return row.activity_at


def test_edits_deletions_labels_and_titles_do_not_move_the_stale_clock(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    start = _deliver(store, "pull_request", "opened", NOW, pull_request=PR)
    assert start == NOW
    issue = {"issue": {"number": 7, "pull_request": {}}, "comment": {"id": 1, "body": "x", "user": PERSON}}
    assert _deliver(store, "issue_comment", "edited", NOW + 10 * DAY, **issue) == NOW
    assert _deliver(store, "issue_comment", "deleted", NOW + 11 * DAY, **issue) == NOW
    assert _deliver(store, "pull_request", "labeled", NOW + 12 * DAY, pull_request=PR) == NOW
    assert _deliver(store, "pull_request", "edited", NOW + 13 * DAY, pull_request=PR) == NOW
    review = {"pull_request": {"number": 7}, "review": {"id": 3, "user": PERSON}}
    assert _deliver(store, "pull_request_review", "edited", NOW + 14 * DAY, **review) == NOW
    assert _deliver(store, "pull_request_review", "dismissed", NOW + 15 * DAY, **review) == NOW


def test_a_push_a_new_comment_or_a_review_move_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    _deliver(store, "pull_request", "opened", NOW, pull_request=PR)
    issue = {"issue": {"number": 7, "pull_request": {}}, "comment": {"id": 1, "body": "x", "user": PERSON}}
    assert _deliver(store, "issue_comment", "created", NOW + DAY, **issue) == NOW + DAY
    review = {"pull_request": {"number": 7}, "review": {"id": 3, "user": PERSON}}
    assert _deliver(store, "pull_request_review", "submitted", NOW + 2 * DAY, **review) == NOW + 2 * DAY
    assert _deliver(store, "pull_request", "synchronize", NOW + 3 * DAY, pull_request=PR) == NOW + 3 * DAY
