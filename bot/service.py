"""Wiring for `serve` and `worker`: settings -> GitHub app, queue, router, handler context."""

from __future__ import annotations

from typing import Any

from bot.github_forge import GitHubApp
from bot.handlers.generate import generate_setup
from bot.handlers.precheck import precheck_setup
from bot.indexes import IndexStore
from bot.queue import JobQueue, make_huey
from bot.router import HandlerContext, Job, Router, dispatch, load_handlers
from bot.settings import Settings
from checks.registry import select


class Service:
    """Runs jobs against GitHub: one per process, shared by its worker threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router: Router = load_handlers()
        self.github = GitHubApp(settings)
        # The duplicate check's index costs an embedding model: kept only when that check can run.
        self.indexes = IndexStore(settings.data_dir / "index") if "duplicate" in select(
            skip=settings.skip_checks) else None
        self.precheck = precheck_setup(settings.precheck_model, settings.data_dir / "precheck")
        self.generate = generate_setup(settings.build_config)
        self.queue = JobQueue(make_huey(settings), retries=settings.job_retries, retry_delay=settings.retry_delay,
                              runner=self.run, on_failure=self.report_failure,
                              retention=settings.queue_retention_days * 24 * 3600, lease=settings.job_lease)

    def context(self, job: Job) -> HandlerContext:
        return HandlerContext(forge=self.github.forge(job.repo, job.installation),
                              skip_checks=self.settings.skip_checks, indexes=self.indexes,
                              review_section=self.router.review_section, precheck=self.precheck,
                              generate=self.generate)

    def run(self, job: Job) -> Any:
        return dispatch(job, self.context(job))

    def report_failure(self, job: Job, reason: str) -> None:
        route = self.router.routes.get(job.route)
        if route is not None and route.on_failure is not None:
            route.on_failure(job, self.context(job), reason)
