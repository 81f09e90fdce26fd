"""The reconciliation walk: installations, their repositories, their open pull requests, and the delivery log.

GitHub never redelivers a failed delivery by itself, so a PR opened while every bot process was down
(or answered 503 while busy) would never be triaged. On start-up and every few minutes (`bot serve`),
or by hand (`taxonomist bot reconcile`), the bot:

- lists each repository's open PRs (100 a call) and compares each head with the store of heads known
  to have this app's completed triage (`bot.reconcile.store`): an unknown head costs one call (this app's
  `taxonomist/triage` check runs on it); a head without a completed one gets the jobs its missed
  `pull_request` delivery would have made (triage, the model's precheck, review, lifecycle);
- queues the review job of a PR with activity since the last walk (a comment or review whose delivery
  was lost): it derives the review state from the PR as it is and applies what is pending, nothing when
  nothing is;
- reads the app's delivery log (`GET /app/hook/deliveries`) back to where it last looked and redelivers
  each failed delivery that intake never recorded (`POST /app/hook/deliveries/{id}/attempts`).

With nothing missing a walk costs about one call per 100 open PRs, plus one per installation and per
100 repositories. Jobs it queues coalesce with the webhook's own, so a walk racing a delivery runs
nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from github.GithubException import GithubException

from bot.forges.github import GitHubApp
from bot.forges.heads import CHECK_RUN_NAME
from bot.reconcile.plan import Known, Listed, failed_deliveries, parse_pull, plan_walk, repo_name
from bot.reconcile.store import ReconcileStore
from bot.service import metrics
from bot.service.leases import Leases
from bot.service.queue import JobQueue
from bot.service.router import Router

log = logging.getLogger(__name__)
PER_PAGE = 100
MAX_PULL_PAGES = 100  # 10,000 open PRs a repository; beyond, the walk says it was cut
MAX_REPOSITORY_PAGES = 20
MAX_INSTALLATION_PAGES = 10
MAX_DELIVERY_PAGES = 10  # 1,000 log entries a walk; the rest wait for the next
MAX_REDELIVERIES = 100  # a walk; the rest wait for the next
MISSED_ROUTES = ("triage", "precheck", "review", "lifecycle")  # what a missed `pull_request` delivery makes
WALK_LEASE = "reconcile:walk"


@dataclass
class Report:
    """What one walk did; `taxonomist bot reconcile` prints it as JSON."""

    repositories: int = 0
    open_pulls: int = 0
    checked: int = 0  # unknown heads asked about
    triage_queued: list[str] = field(default_factory=list)  # owner/name#N
    review_queued: list[str] = field(default_factory=list)
    redelivered: list[int] = field(default_factory=list)
    skipped: int = 0  # items of GitHub's answers that were not what it sends
    cut: list[str] = field(default_factory=list)  # lists cut at a limit (the next walk goes on)
    failed: list[str] = field(default_factory=list)  # what GitHub refused (a repository, a redelivery), and why


def next_link(link: str | None) -> str | None:
    """The `rel="next"` URL of a `Link` header (GitHub's pagination, pages and cursors alike)."""
    for part in (link or "").split(","):
        url, _, rel = part.partition(";")
        if rel.strip() == 'rel="next"' and url.strip().startswith("<") and url.strip().endswith(">"):
            return url.strip()[1:-1]
    return None


def pages(requester: Any, path: str, params: dict[str, Any], key: str | None, limit: int,
          cut: Callable[[], None]) -> Iterator[list[Any]]:
    """The pages of a listing (the list itself, or under `key`), at most `limit`; `cut()` when more were left."""
    url: str | None = path
    for number in range(limit):
        headers, data = requester.requestJsonAndCheck("GET", url, parameters=params if number == 0 else None)
        items = data.get(key) if key is not None and isinstance(data, dict) else data
        yield items if isinstance(items, list) else []
        url = next_link(headers.get("link"))
        if url is None:
            return
    cut()


class Reconciler:
    def __init__(self, app: GitHubApp, queue: JobQueue, router: Router,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.queue = queue
        self.router = router
        self.clock = clock
        self.store = ReconcileStore(queue.storage)

    def run(self, repo: str | None = None) -> Report:
        """Walk every installation and the delivery log, or one repository's open PRs (`repo`)."""
        report = Report()
        if repo is not None:
            self._walk_repository(repo, None, report)
            return report
        for installation in self._installations(report):
            try:
                names = self._repositories(installation, report)
            except GithubException as exc:  # suspended, uninstalled meanwhile: the others are still walked
                report.failed.append(f"installation {installation}: GitHub answered {exc.status}")
                continue
            for full_name in names:
                try:
                    self._walk_repository(full_name, installation, report)
                except GithubException as exc:  # access lost, repository gone: the others are still walked
                    report.failed.append(f"{full_name}: GitHub answered {exc.status}")
                    log.warning("reconciliation skipped a repository", extra={"repo": full_name,
                                                                             "status": exc.status})
        self._redeliver(report)
        self.store.set_last_walk(self.clock())
        log.info("reconciled", extra={"repositories": report.repositories, "open_pulls": report.open_pulls,
                                      "checked": report.checked, "triage_queued": len(report.triage_queued),
                                      "review_queued": len(report.review_queued),
                                      "redelivered": len(report.redelivered), "skipped": report.skipped})
        return report

    def _installations(self, report: Report) -> list[int]:
        found = []
        for page in pages(self.app.integration.requester, "/app/installations", {"per_page": PER_PAGE}, None,
                          MAX_INSTALLATION_PAGES, lambda: report.cut.append("installations")):
            for item in page:
                number = item.get("id") if isinstance(item, dict) else None
                if isinstance(number, int) and not isinstance(number, bool) and number > 0:
                    found.append(number)
                else:
                    report.skipped += 1
        return found

    def _repositories(self, installation: int, report: Report) -> list[str]:
        found = []
        requester = self.app.installation_requester(installation)
        for page in pages(requester, "/installation/repositories", {"per_page": PER_PAGE}, "repositories",
                          MAX_REPOSITORY_PAGES, lambda: report.cut.append(f"repositories of installation "
                                                                         f"{installation}")):
            for item in page:
                name = repo_name(item.get("full_name") if isinstance(item, dict) else None)
                if name is not None:
                    found.append(name)
                else:
                    report.skipped += 1
        return found

    def _walk_repository(self, repo: str, installation: int | None, report: Report) -> None:
        installation = installation if installation is not None else self.app.installation_of(repo)
        forge = self.app.forge(repo, installation)
        listed: list[Listed] = []
        for page in pages(forge.requester, f"/repos/{repo}/pulls",
                          {"state": "open", "sort": "created", "direction": "asc", "per_page": PER_PAGE}, None,
                          MAX_PULL_PAGES, lambda: report.cut.append(f"open pull requests of {repo}")):
            for item in page:
                pull = parse_pull(item)
                if pull is None:
                    report.skipped += 1
                else:
                    listed.append(pull)
        report.repositories += 1
        report.open_pulls += len(listed)
        plan = plan_walk(listed, self.store.heads(repo))
        for pull in plan.check:
            report.checked += 1
            run = forge.find_check_run(pull.head_sha, CHECK_RUN_NAME, pr=pull.number)
            if run is not None and run.status == "completed":
                plan.keep[pull.number] = Known(pull.head_sha, pull.updated_at)
            else:  # remembered only once triaged: the next walk asks again
                self._submit(repo, installation, pull, missed_head=True)
                report.triage_queued.append(f"{repo}#{pull.number}")
                metrics.RECONCILED.labels("triage").inc()
        for pull in plan.review:
            self._submit(repo, installation, pull, missed_head=False)
            report.review_queued.append(f"{repo}#{pull.number}")
            metrics.RECONCILED.labels("review").inc()
        self.store.set_heads(repo, plan.keep)

    def _submit(self, repo: str, installation: int, pull: Listed, *, missed_head: bool) -> None:
        """A head without triage: the jobs a `pull_request synchronize` delivery for it would make (a push it
        is). Activity on a triaged head: the review job that this app's triage run completing makes (never
        a push: that would treat `changes-requested` as answered)."""
        common = {"repository": {"full_name": repo}, "installation": {"id": installation}}
        if missed_head:
            event, routes = "pull_request", MISSED_ROUTES
            payload = {**common, "action": "synchronize", "number": pull.number,
                       "pull_request": {"number": pull.number, "head": {"sha": pull.head_sha}}}
        else:
            event, routes = "check_run", ("review",)
            payload = {**common, "action": "completed", "check_run": {
                "name": CHECK_RUN_NAME, "head_sha": pull.head_sha, "pull_requests": [{"number": pull.number}]}}
        delivery = f"reconcile-{pull.head_sha[:12]}-{int(self.clock())}"
        for job in self.router.jobs_for(event, delivery, payload, time.time()):
            if job.route in routes:
                self.queue.submit(job)

    def _redeliver(self, report: Report) -> None:
        requester = self.app.integration.requester
        last_look = self.store.last_delivery()
        newest = last_look
        now = datetime.now(UTC)
        for page in pages(requester, "/app/hook/deliveries", {"per_page": PER_PAGE}, None, MAX_DELIVERY_PAGES,
                          lambda: report.cut.append("the delivery log")):
            chosen = failed_deliveries(page, last_look=last_look, seen=self.queue.seen_delivery, now=now,
                                       limit=MAX_REDELIVERIES - len(report.redelivered))
            report.skipped += chosen.skipped
            newest = max(newest, chosen.newest)
            for delivery_id in chosen.ids:
                try:
                    requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{delivery_id}/attempts")
                except GithubException as exc:  # too old, or gone: the rest are still redelivered
                    report.failed.append(f"delivery {delivery_id}: GitHub answered {exc.status}")
                    continue
                report.redelivered.append(delivery_id)
                metrics.REDELIVERED.inc()
            if chosen.reached_last_look:
                break
        self.store.set_last_delivery(newest)


def reconciling(lifespan: Callable[[Any], Any] | None, reconciler: Reconciler, every: float) -> Callable[[Any], Any]:
    """The web app's lifespan (`lifespan`, the workers', when there is one) with reconciliation running beside
    it: the first walk 2 s after the app starts (its socket listens by then: redeliveries reach it), the
    last when it stops."""

    @asynccontextmanager
    async def run(app: Any) -> AsyncIterator[None]:
        async with lifespan(app) if lifespan is not None else nullcontext():
            stop = reconcile_periodically(reconciler, every)
            try:
                yield
            finally:
                stop.set()

    return run


def reconcile_periodically(reconciler: Reconciler, every: float, *, first_after: float = 2.0) -> threading.Event:
    """Walk soon after start-up, then every `every` seconds, in a daemon thread; set the returned event to
    stop it. With several web processes on one shared store, a lease and the last walk's time keep it to
    one walk per period in all. The start-up walk is skipped only when another process walked after this
    one started: a walk from before a restart says nothing of what was missed while every process was down."""
    stop = threading.Event()
    leases = Leases(reconciler.queue.storage, duration=max(60.0, every))

    started = reconciler.clock()

    def loop() -> None:
        wait, first = first_after, True
        while not stop.wait(wait):
            wait = every
            try:
                with leases.hold(WALK_LEASE) as held:
                    last = reconciler.store.last_walk()
                    due = last < started if first else reconciler.clock() - last >= every * 0.9
                    if held and due:
                        reconciler.run()
                first = False
            except Exception:  # GitHub down, a bad answer: the next period tries again
                log.exception("reconciliation failed; trying again next period")

    threading.Thread(target=loop, name="taxonomist-reconcile", daemon=True).start()
    return stop
