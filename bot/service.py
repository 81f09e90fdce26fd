"""Wiring for `serve` and `worker`: settings -> GitHub app, queue, router, handler context."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

from bot.dashboard import record
from bot.dashboard.store import Store
from bot.github_forge import GitHubApp
from bot.indexes import IndexStore
from bot.queue import JobQueue, make_huey
from bot.router import HandlerContext, Job, Router, dispatch, load_handlers
from bot.settings import Settings
from bot.triage import TriageOutcome
from checks.registry import select

HEARTBEAT_EVERY = 15.0  # seconds between a worker process's heartbeats on the dashboard


class Service:
    """Runs jobs against GitHub: one per process, shared by its worker threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router: Router = load_handlers()
        self.github = GitHubApp(settings)
        # The duplicate check's index costs an embedding model: kept only when that check can run.
        self.indexes = IndexStore(settings.data_dir / "index") if "duplicate" in select(
            skip=settings.skip_checks) else None
        self.store = Store(settings.data_dir / "dashboard.sqlite3")
        self.queue = JobQueue(make_huey(settings), retries=settings.job_retries, retry_delay=settings.retry_delay,
                              runner=self.run, on_failure=self.report_failure,
                              retention=settings.queue_retention_days * 24 * 3600, lease=settings.job_lease)
        self._beating = threading.Event()

    def context(self, job: Job) -> HandlerContext:
        return HandlerContext(forge=self.github.forge(job.repo, job.installation),
                              skip_checks=self.settings.skip_checks, indexes=self.indexes,
                              review_section=self.router.review_section, store=self.store)

    @staticmethod
    def worker_id() -> str:
        return f"{socket.gethostname()}:{os.getpid()}/{threading.current_thread().name}"

    def run(self, job: Job) -> Any:
        """Run the job, keeping the dashboard's view of the queue, the worker and the PR current."""
        worker = self.worker_id()
        label = f"{job.route.rsplit('.', 1)[-1]} {job.repo}" + (f"#{job.pr}" if job.pr else "")
        self.store.heartbeat(worker, label, time.time())
        self.store.job_running(job.key, job.route, job.repo, job.pr, worker, time.time())
        try:
            result = dispatch(job, self.context(job))
        except Exception as exc:
            self.store.job_state(job.key, "retrying", time.time(), reason=f"{type(exc).__name__}: {exc}",
                                 attempt=True)
            raise
        finally:
            self.store.heartbeat(worker, None, time.time())
        if isinstance(result, TriageOutcome):
            record.on_triage(self.store, job.repo, result)
        self.store.job_state(job.key, "done", time.time())
        return result

    def report_failure(self, job: Job, reason: str) -> None:
        self.store.job_state(job.key, "failed", time.time(), reason=reason)
        route = self.router.routes.get(job.route)
        if route is not None and route.on_failure is not None:
            route.on_failure(job, self.context(job), reason)

    def start_heartbeat(self, workers: int) -> None:
        """Beat for this process's worker threads every HEARTBEAT_EVERY seconds (a daemon thread)."""
        if self._beating.is_set():
            return
        self._beating.set()
        prefix = f"{socket.gethostname()}:{os.getpid()}/"

        def beat() -> None:
            while True:  # the process's own row, then each of its threads that has run a job
                self.store.heartbeat(prefix.rstrip("/"), f"{workers} worker thread(s)", time.time())
                for worker in [w["id"] for w in self.store.workers() if w["id"].startswith(prefix)]:
                    self.store.heartbeat(worker, None, time.time(), keep_job=True)
                time.sleep(HEARTBEAT_EVERY)

        threading.Thread(target=beat, name="taxonomist-heartbeat", daemon=True).start()
