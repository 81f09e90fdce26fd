"""Events in, handlers out: each handler module has its own router; the service joins them.

As in CPython's bedevere bot, each concern is a small module with its own `router = Router()`
whose functions register with `@router.on("pull_request", "opened", ..., name="triage")`. The
router knows no handler module: `bot.service.handlers.load_handlers` imports them and joins their
routers into one; a job stores its route's explicit name,
and `Router.dispatch` runs it on the router it is called on. A name no route has (a job queued
by an older release) raises `UnknownRoute` once: the queue marks it done and says so loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.forges.forge import Forge
from bot.service.jobs import QUEUES, TRIAGE_QUEUE, Job, UnknownRoute, head_sha_of, pull_request_numbers
from bot.triage.render import AnnotationLimits

if TYPE_CHECKING:
    from bot.dashboard.store import Store
    from bot.triage.indexes import IndexStore

Wants = Callable[[str, dict[str, Any]], bool]  # (event, payload): is a job worth its API calls?


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """What a handler gets besides its job: the repository's forge and the bot's settings for handlers."""

    forge: Forge
    skip_checks: tuple[str, ...] = ()
    indexes: IndexStore | None = None  # when the duplicate check has an index
    annotation_limits: AnnotationLimits = field(default_factory=AnnotationLimits)
    store: Store | None = None  # the dashboard's and the lifecycle's memory (none in dry runs)
    # The model concerns' own setups (`bot.precheck.handler.PrecheckSetup`, `bot.generate.handler.GenerateSetup`),
    # typed loosely so that the router imports no handler module.
    precheck: Any = None  # None: the model's precheck is off
    generate: Any = None  # None: `/generate` is off


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    handler: Callable[[Job, HandlerContext], Any]
    events: frozenset[tuple[str, str | None]]
    coalesce: bool
    per_pull_request: bool = True
    on_failure: Callable[[Job, HandlerContext, str], Any] | None = None  # when retries are spent
    wants: Wants | None = None  # decided from the payload at intake; None: every matching event
    queue: str = TRIAGE_QUEUE  # the named queue its jobs go to: `model` for model work


CHECK_EVENTS = {"check_run": "check_run", "check_suite": "check_suite"}  # event -> the payload key holding `app`


@dataclass
class Router:
    routes: dict[str, Route] = field(default_factory=dict)
    app_id: int | None = None  # this app's id: check runs and suites of other apps make no job (zero API calls)

    def on(self, event: str, *actions: str, name: str, coalesce: bool = False, per_pull_request: bool = True,
           on_failure: Callable[..., Any] | None = None,
           wants: Wants | None = None, queue: str = TRIAGE_QUEUE) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the decorated `handler(job, ctx)` as route `name` for `event` with any of `actions`
        (all when none). `name` is stored in queued jobs: keep it when the function is renamed.

        `coalesce`: a newer job for the same PR makes an older one a no-op. `per_pull_request`:
        one job per PR the event names (else one per repository). `on_failure(job, ctx, reason)`
        reports on the PR when retries are spent. `wants(event, payload)`: False makes no job (no
        API call for, say, a comment without a command). `queue`: the named queue (`bot.service.jobs.QUEUES`)
        whose workers run it: `model` for work that waits on a model.
        Stacked decorators add events to one route."""

        if queue not in QUEUES:
            raise ValueError(f"route {name!r}: unknown queue {queue!r} (known: {', '.join(QUEUES)})")

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            old = self.routes.get(name)
            if old is not None and old.handler is not handler:
                raise ValueError(f"route name {name!r} is already taken by {old.handler.__qualname__}")
            keys = {(event, a) for a in actions} if actions else {(event, None)}
            events = frozenset(keys | (set(old.events) if old else set()))
            self.routes[name] = Route(name, handler, events, coalesce, per_pull_request, on_failure, wants, queue)
            return handler

        return register

    @classmethod
    def join(cls, *routers: Router) -> Router:
        """One router holding every route of `routers`; a name taken twice is an error at start-up."""
        joined = cls()
        for router in routers:
            for name, route in router.routes.items():
                if name in joined.routes and joined.routes[name] != route:
                    raise ValueError(f"route name {name!r} is registered by two handler modules")
                joined.routes[name] = route
        return joined

    def matching(self, event: str, action: str | None) -> list[Route]:
        return [r for r in self.routes.values() if (event, action) in r.events or (event, None) in r.events]

    def own_check(self, event: str, payload: dict[str, Any]) -> bool:
        """False for a check run or suite that another app made (when this app's id is known): GitHub sends
        every app's `check_run` events to every app subscribed, and each one would cost reads."""
        if event not in CHECK_EVENTS or self.app_id is None:
            return True
        check = payload.get(CHECK_EVENTS[event])
        app = check.get("app") if isinstance(check, dict) else None
        return isinstance(app, dict) and app.get("id") == self.app_id

    def jobs_for(self, event: str, delivery: str, payload: dict[str, Any], received_at: float) -> list[Job]:
        """The jobs one delivery makes: for each matching handler that wants it, one per pull request."""
        action = payload.get("action")
        if not self.own_check(event, payload):
            return []
        repo = payload.get("repository", {}).get("full_name", "")
        installation = payload.get("installation", {}).get("id")
        numbers = pull_request_numbers(event, payload)
        jobs = []
        for route in self.matching(event, action):
            if route.wants is not None and not route.wants(event, payload):
                continue
            targets: list[int | None] = list(numbers) if route.per_pull_request else [None]
            jobs += [Job(route.name, event, action, delivery, repo, installation, n, head_sha_of(event, payload),
                         payload, received_at, route.coalesce) for n in targets]
        return jobs

    def route(self, job: Job) -> Route:
        route = self.routes.get(job.route)
        if route is None:
            raise UnknownRoute(f"job {job.key} names route {job.route!r}, which no handler module registers "
                               f"(known: {', '.join(sorted(self.routes))})")
        return route

    def queue_of(self, job: Job) -> str:
        """The named queue whose workers run `job`, decided by its route now (never by what an older
        release stored with it); a job naming no known route goes to triage, which fails it loudly."""
        route = self.routes.get(job.route)
        return TRIAGE_QUEUE if route is None else route.queue

    def dispatch(self, job: Job, ctx: HandlerContext) -> Any:
        """Run the job's handler on this router; its return value is for the dry run."""
        return self.route(job).handler(job, ctx)

