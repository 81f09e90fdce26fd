"""Events in, handlers out: handler modules register for the events they care about.

As in CPython's bedevere bot, each concern is a small module that decorates its functions
with `@router.on("pull_request", "opened", ...)`. The router also turns a webhook into
jobs: one per (handler, pull request), keyed so that jobs a newer push makes stale coalesce.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Handler modules, imported by `load_handlers`. The review workflow adds its module here.
HANDLER_MODULES = ("bot.handlers.triage", "bot.handlers.index", "bot.review.handler", "bot.handlers.precheck",
                   "bot.handlers.generate")


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
    priority: int = 0  # the queue runs higher first: triage 0, the model's precheck below it

    @property
    def key(self) -> str:
        """Jobs sharing a key coalesce: only the newest runs."""
        target = f"{self.repo}#{self.pr}" if self.pr is not None else self.repo
        return f"{self.route}:{target}" if self.coalesce else f"{self.route}:{target}:{self.delivery}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    handler: Callable[..., Any]
    events: frozenset[tuple[str, str | None]]
    coalesce: bool
    per_pull_request: bool = True
    on_failure: Callable[..., Any] | None = None  # (job, ctx, reason) when retries are spent
    priority: int = 0


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


@dataclass
class Router:
    routes: dict[str, Route] = field(default_factory=dict)
    review_section: Callable[..., str | None] | None = None

    def on(self, event: str, *actions: str, coalesce: bool = False, per_pull_request: bool = True,
           on_failure: Callable[..., Any] | None = None, priority: int = 0
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated `handler(job, ctx)` for `event` with any of `actions` (all when none).

        `coalesce`: a newer job for the same PR makes an older one a no-op. `per_pull_request`:
        one job per PR the event names (else one per repository). `on_failure(job, ctx, reason)`
        reports on the PR when retries are spent. `priority`: the queue runs higher first. Stacked
        decorators add events to one route."""

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            name = f"{handler.__module__}.{handler.__qualname__}"
            keys = {(event, a) for a in actions} if actions else {(event, None)}
            old = self.routes.get(name)
            events = frozenset(keys | (set(old.events) if old else set()))
            self.routes[name] = Route(name, handler, events, coalesce, per_pull_request, on_failure, priority)
            return handler

        return register

    def provide_review_section(self, provider: Callable[..., str | None]) -> None:
        """The review workflow renders the sticky comment's review state through this."""
        self.review_section = provider

    def matching(self, event: str, action: str | None) -> list[Route]:
        return [r for r in self.routes.values() if (event, action) in r.events or (event, None) in r.events]

    def jobs_for(self, event: str, delivery: str, payload: dict[str, Any], received_at: float) -> list[Job]:
        """The jobs one delivery makes: for each matching handler, one per pull request it is about."""
        action = payload.get("action")
        repo = payload.get("repository", {}).get("full_name", "")
        installation = payload.get("installation", {}).get("id")
        numbers = pull_request_numbers(event, payload)
        jobs = []
        for route in self.matching(event, action):
            targets: list[int | None] = list(numbers) if route.per_pull_request else [None]
            jobs += [Job(route.name, event, action, delivery, repo, installation, n, head_sha_of(event, payload),
                         payload, received_at, route.coalesce, route.priority) for n in targets]
        return jobs


router = Router()


def load_handlers() -> Router:
    """Import every handler module so its routes are registered; returns the shared router."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return router


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """What a handler gets besides its job: the repository's forge and the bot's check settings."""

    forge: Any  # bot.forge.Forge
    skip_checks: tuple[str, ...] = ()
    indexes: Any = None  # bot.indexes.IndexStore, when the duplicate check has an index
    review_section: Callable[..., str | None] | None = None
    precheck: Any = None  # bot.handlers.precheck.PrecheckSetup; None: the model's precheck is off
    generate: Any = None  # bot.handlers.generate.GenerateSetup; None: `/generate` is off


def dispatch(job: Job, ctx: HandlerContext) -> Any:
    """Run the job's handler; its return value is for the dry run."""
    return router.routes[job.route].handler(job, ctx)
