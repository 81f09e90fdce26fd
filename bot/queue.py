"""The durable job queue: huey (SQLite by default, Redis to scale out) plus a journal for recovery.

huey removes a task from its queue when a worker takes it, so a worker killed mid-job would lose
it. The journal closes that gap: every job is written to huey's key-value store before it is
enqueued (`pending:<key>`, newest job wins, which is also how jobs coalesce) and marked
`done:<key>` when it finishes. A worker starting up re-enqueues every pending job not done, so a
job runs at least once; a stale or already-finished copy is a no-op when it runs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.constants import EmptyData

from bot import metrics
from bot.logs import log_scope
from bot.router import Job
from bot.settings import Settings

log = logging.getLogger(__name__)
PENDING, DONE, DELIVERY = "pending:", "done:", "delivery:"
TASK_NAME = "taxonomist.run_job"

Runner = Callable[[Job], Any]
FailureReporter = Callable[[Job, str], None]


def make_huey(settings: Settings) -> Huey:
    """SQLite in the data directory unless the queue URL names Redis."""
    if settings.queue_url:
        return RedisHuey("taxonomist", url=settings.queue_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("taxonomist", filename=str(settings.queue_path))


def _token(job: Job) -> str:
    return f"{job.delivery}:{job.head_sha or ''}"


class JobQueue:
    """Submit jobs from the web process; run them in workers with retries, backoff and recovery."""

    def __init__(self, huey: Huey, *, retries: int = 5, retry_delay: float = 2.0,
                 runner: Runner | None = None, on_failure: FailureReporter | None = None) -> None:
        self.huey = huey
        self.storage = huey.storage
        self.runner = runner
        self.on_failure = on_failure
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._task = huey.task(retries=retries, retry_delay=retry_delay, retry_backoff=2, context=True,
                               name=TASK_NAME)(self._execute)

    # intake side ----------------------------------------------------------------------------
    def seen_delivery(self, delivery: str) -> bool:
        """A delivery id already accepted: GitHub's redelivery of it is not queued twice."""
        return bool(self.storage.has_data_for_key(DELIVERY + delivery))

    def record_delivery(self, delivery: str) -> None:
        """Recorded after its jobs are journalled, so a crash in between loses nothing."""
        self.storage.put_data(DELIVERY + delivery, b"1")

    def submit(self, job: Job) -> None:
        """Journal the job (superseding an older one with the same key), then enqueue it."""
        self.storage.put_data(PENDING + job.key, json.dumps(job.to_dict()).encode())
        self._task(job.key, _token(job))
        metrics.QUEUED.labels(job.route).inc()

    # worker side ----------------------------------------------------------------------------
    def _pending(self, key: str) -> Job | None:
        raw = self.storage.peek_data(PENDING + key)
        return None if raw is EmptyData else Job.from_dict(json.loads(raw))

    def _done(self, key: str) -> str | None:
        raw = self.storage.peek_data(DONE + key)
        return None if raw is EmptyData else raw.decode() if isinstance(raw, bytes) else str(raw)

    def unfinished(self) -> list[Job]:
        """Journalled jobs with no matching done mark: what a crash may have left behind."""
        items = self.storage.result_items()
        out = []
        for k, raw in items.items():
            key = k.decode() if isinstance(k, bytes) else k
            if not key.startswith(PENDING):
                continue
            job = Job.from_dict(json.loads(raw))
            done = items.get(DONE + job.key, items.get((DONE + job.key).encode()))
            if done is None or (done.decode() if isinstance(done, bytes) else done) != _token(job):
                out.append(job)
        return out

    def recover(self) -> int:
        """Re-enqueue unfinished jobs (run at worker start); duplicates are no-ops when they run."""
        jobs = self.unfinished()
        for job in jobs:
            self._task(job.key, _token(job))
        if jobs:
            log.info("re-enqueued unfinished jobs", extra={"jobs": len(jobs)})
        return len(jobs)

    def _execute(self, key: str, token: str, task: Any = None) -> None:
        with self._locks[key]:
            job = self._pending(key)
            if job is None or _token(job) != token:
                metrics.COALESCED.labels(job.route if job else "unknown").inc()
                return  # a newer job for this PR superseded this one
            if self._done(key) == token:
                return  # a recovered duplicate of a job that already ran
            self._run(job, token, task)

    def _run(self, job: Job, token: str, task: Any) -> None:
        assert self.runner is not None, "a worker needs a runner"
        with log_scope(delivery=job.delivery, repo=job.repo, pr=job.pr, head_sha=job.head_sha):
            log.info("job started", extra={"route": job.route, "event": job.event, "action": job.action})
            metrics.RUNNING.inc()
            try:
                self.runner(job)
            except Exception as exc:
                if task is not None and task.retries > 0:
                    metrics.RETRIED.labels(job.route).inc()
                    log.warning("job failed, will retry", extra={"route": job.route, "retries_left": task.retries,
                                                                 "reason": f"{type(exc).__name__}: {exc}"})
                    raise
                self._give_up(job, token, exc)
                return
            finally:
                metrics.RUNNING.dec()
            self.storage.put_data(DONE + job.key, token.encode())
            metrics.SUCCEEDED.labels(job.route).inc()
            metrics.LATENCY.labels(job.route).observe(time.time() - job.received_at)
            log.info("job done", extra={"route": job.route, "seconds": round(time.time() - job.received_at, 3)})

    def _give_up(self, job: Job, token: str, exc: Exception) -> None:
        """Retries spent: report on the PR; if even that fails, keep the job for the next recovery."""
        reason = f"{type(exc).__name__}: {exc}"
        metrics.FAILED.labels(job.route).inc()
        log.error("job failed, retries spent", extra={"route": job.route, "reason": reason})
        if self.on_failure is not None:
            self.on_failure(job, reason)  # raising here leaves the job unfinished in the journal
        self.storage.put_data(DONE + job.key, token.encode())
