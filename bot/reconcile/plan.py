"""What a reconciliation walk does, decided from what GitHub listed and what the store knew (no I/O).

GitHub's answers are read as hostile data like any payload: a pull request or a delivery-log entry
whose fields have the wrong types is skipped and counted, never a traceback, and only a validated
integer ever reaches a URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.service.jobs import DELIVERY_ID

SHA = re.compile(r"[0-9a-f]{40}")
REPO_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")  # owner/name, as GitHub allows them
MAX_ID = 2**63 - 1  # ids are int64 in GitHub's description
REDELIVERY_WINDOW = timedelta(days=3)  # GitHub redelivers only deliveries of the last 3 days


@dataclass(frozen=True, slots=True)
class Listed:
    """One open pull request as the list of open pull requests shows it."""

    number: int
    head_sha: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Known:
    """What the last walk saw of a pull request whose head had this app's completed triage."""

    head_sha: str
    updated_at: str


@dataclass
class WalkPlan:
    check: list[Listed] = field(default_factory=list)  # head unknown: one call asks whether it was triaged
    review: list[Listed] = field(default_factory=list)  # activity since the last walk: the review job derives it
    keep: dict[int, Known] = field(default_factory=dict)  # the store after the walk (closed PRs drop out)


def repo_name(value: Any) -> str | None:
    """`owner/name` when it is one (it goes into a URL path), else None."""
    return value if isinstance(value, str) and REPO_NAME.fullmatch(value) and ".." not in value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID else None


def parse_pull(raw: Any) -> Listed | None:
    """A listed pull request, or None when its number, head SHA or date is not what GitHub sends."""
    if not isinstance(raw, dict):
        return None
    number, head, updated = _int(raw.get("number")), raw.get("head"), raw.get("updated_at")
    sha = head.get("sha") if isinstance(head, dict) else None
    if number is None or not isinstance(sha, str) or not SHA.fullmatch(sha) or not isinstance(updated, str) \
            or len(updated) > 40:
        return None
    return Listed(number, sha, updated)


def plan_walk(listed: Iterable[Listed], known: Mapping[int, Known]) -> WalkPlan:
    """Unknown heads are checked; a known head whose PR changed since the last walk gets its review job.

    A list that changed while it was paged may show a PR twice (the first sighting counts) or skip one
    (the next walk sees it): either way nothing runs twice and nothing is lost for good."""
    plan = WalkPlan()
    seen: set[int] = set()
    for pull in listed:
        if pull.number in seen:
            continue
        seen.add(pull.number)
        before = known.get(pull.number)
        if before is None or before.head_sha != pull.head_sha:
            plan.check.append(pull)
            continue
        if before.updated_at != pull.updated_at:
            plan.review.append(pull)
        plan.keep[pull.number] = Known(pull.head_sha, pull.updated_at)
    return plan


@dataclass
class Redeliveries:
    ids: list[int] = field(default_factory=list)  # delivery ids to redeliver, newest first
    newest: int = 0  # the newest delivery id looked at: the next walk stops there
    skipped: int = 0  # entries that were not what GitHub sends
    reached_last_look: bool = False  # the pages went back as far as the previous walk's newest


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def failed_deliveries(entries: Iterable[Any], *, last_look: int, seen: Callable[[str], bool], now: datetime,
                      limit: int) -> Redeliveries:
    """The failed deliveries newer than `last_look` to redeliver: one per event (guid), none that intake
    recorded (`seen`: a later attempt got through), none older than GitHub's window, at most `limit`."""
    out = Redeliveries(newest=last_look)
    guids: set[str] = set()
    for raw in entries:
        entry = raw if isinstance(raw, dict) else {}
        delivery_id, guid, code = _int(entry.get("id")), entry.get("guid"), entry.get("status_code")
        when = _when(entry.get("delivered_at"))
        if delivery_id is None or not isinstance(guid, str) or not DELIVERY_ID.fullmatch(guid) \
                or not isinstance(code, int) or isinstance(code, bool) or when is None:
            out.skipped += 1
            continue
        if delivery_id <= last_look:  # looked at by an earlier walk
            out.reached_last_look = True
            continue
        out.newest = max(out.newest, delivery_id)
        if 200 <= code < 300 or guid in guids or now - when > REDELIVERY_WINDOW:
            guids.add(guid)
            continue
        guids.add(guid)
        if not seen(guid) and len(out.ids) < limit:
            out.ids.append(delivery_id)
    return out
