"""The durable job model and what the intake reads off a webhook payload to make jobs.

A `Job` is what the queue stores: JSON-serialisable, naming its handler by the route's explicit,
stable name (`bot.service.router.Router.on(name=...)`), never by a function's module path, so renaming
or moving a function never strands a queued job.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

# The named queues: model work (precheck, `/generate`) has its own, so a running model job never holds
# the worker a triage or a review is waiting for (`taxonomist bot worker --queue triage|model|all`).
TRIAGE_QUEUE, MODEL_QUEUE = "triage", "model"
QUEUES = (TRIAGE_QUEUE, MODEL_QUEUE)
DELIVERY_ID = re.compile(r"[0-9A-Za-z-]{1,64}")  # GitHub's delivery guids are UUIDs; bounded, a safe key and log field


class UnknownRoute(LookupError):
    """A job names a route no handler module registers (queued by an older release): it can never run."""


@dataclass(frozen=True, slots=True)
class Job:
    """One handler to run for one pull request (or repository) of one delivery; JSON-serialisable."""

    route: str
    event: str
    action: str | None
    delivery: str
    repo: str
    installation: int | None
    pr: int | None
    head_sha: str | None
    payload: dict[str, Any]
    received_at: float
    coalesce: bool

    @property
    def key(self) -> str:
        """Jobs sharing a key coalesce: only the newest runs."""
        target = f"{self.repo}#{self.pr}" if self.pr is not None else self.repo
        return f"{self.route}:{target}" if self.coalesce else f"{self.route}:{target}:{self.delivery}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """A journalled job; fields an older release wrote and this one dropped (`priority`) are ignored."""
        return cls(**{name: data[name] for name in _FIELDS if name in data})


def pull_request_numbers(event: str, payload: dict[str, Any]) -> list[int]:
    """The pull requests an event is about (several for a check suite, none for a push)."""
    if event in ("pull_request", "pull_request_review"):
        number = payload.get("number") or payload.get("pull_request", {}).get("number")
        return [int(number)] if number else []
    if event == "issue_comment":
        issue = payload.get("issue", {})
        return [int(issue["number"])] if issue.get("pull_request") is not None and issue.get("number") else []
    if event in ("check_run", "check_suite"):
        return [int(p["number"]) for p in payload.get(event, {}).get("pull_requests", []) if p.get("number")]
    return []


def head_sha_of(event: str, payload: dict[str, Any]) -> str | None:
    if event in ("pull_request", "pull_request_review"):
        return payload.get("pull_request", {}).get("head", {}).get("sha")
    if event in ("check_run", "check_suite"):
        return payload.get(event, {}).get("head_sha")
    if event == "push":
        return payload.get("after")
    return None


_FIELDS = tuple(f.name for f in fields(Job))
