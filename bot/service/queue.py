"""The durable job queue: huey (SQLite by default, Redis to scale out) plus a journal for recovery.

huey removes a task from its queue when a worker takes it, so a worker killed mid-job would lose
it. The journal closes that gap: every job is written to huey's key-value store before it is
enqueued (`pending:<key>`, newest job wins, which is also how jobs coalesce) and marked
`done:<key>` when it finishes. A worker starting up re-enqueues every pending job not done, so a
job runs at least once; a stale or already-finished copy is a no-op when it runs. A lease per key
(`bot.service.leases`) keeps two workers from running one key's job at the same moment.

Named queues: model work (precheck, `/generate`) goes to a huey queue of its own, so the workers
that take triage and review never wait for a model (`bot.service.jobs.QUEUES`). The router says
which queue a job belongs to when it is submitted and again when it runs: a job that an older
release put in the triage queue (before there was a model queue) is moved to the model queue by
the triage worker that takes it, never run there. Both queues share one store (the triage queue's):
the journal, delivery ids and leases are one, whichever worker runs a job.

Delivery ids and done marks carry the time they were written and are pruned after `retention`
(by a worker at start and then at most hourly), with the journal entry of a finished job: GitHub
redelivers a webhook only within its last 3 days, so the default keeps 4.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.constants import EmptyData
from huey.consumer import Consumer
from huey.exceptions import RetryTask

from bot.service import metrics
from bot.service.jobs import MODEL_QUEUE, QUEUES, TRIAGE_QUEUE, Job, UnknownRoute
from bot.service.leases import DEFAULT_LEASE, Leases
from bot.service.logs import log_scope
from bot.service.settings import Settings

log = logging.getLogger(__name__)
PENDING, DONE, DELIVERY = "pending:", "done:", "delivery:"
# huey names a queued task "<the function's module>.<name>" in every stored message: both are fixed
# for good, whatever module the queue lives in, so a queue filled by an older release still runs.
TASK_MODULE, TASK_NAME = "bot.queue", "taxonomist.run_job"
# huey's queue names: the triage queue keeps the one name there was before the model queue, so jobs
# queued then are still found.
HUEY_NAMES = {TRIAGE_QUEUE: "taxonomist", MODEL_QUEUE: "taxonomist-model"}

DEFAULT_RETENTION = 4 * 24 * 3600.0  # seconds; GitHub redelivers a webhook within 3 days
PRUNE_EVERY = 3600.0  # seconds between a worker's prunes
BUSY_RETRY = 1.0  # seconds before a job whose key another worker holds is tried again
MODEL_NICENESS = 10  # a model worker thread's nice value: on a busy CPU, triage's threads go first

Runner = Callable[[Job], Any]
FailureReporter = Callable[[Job, str], None]
QueueOf = Callable[[Job], str]  # the named queue a job belongs to (`bot.service.router.Router.queue_of`)


def make_hueys(settings: Settings) -> dict[str, Huey]:
    """One huey per named queue: SQLite in the data directory (one file) unless the queue URL names
    Redis. On Redis, huey's priority storage: the one a queue filled by an older release is in."""
    if settings.queue_url:
        return {queue: PriorityRedisHuey(name, url=settings.queue_url) for queue, name in HUEY_NAMES.items()}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {queue: SqliteHuey(name, filename=str(settings.queue_path)) for queue, name in HUEY_NAMES.items()}


def make_queue(settings: Settings, queue_of: QueueOf, **options: Any) -> JobQueue:
    """The bot's queue for these settings: both named queues, jobs placed by `queue_of`."""
    hueys = make_hueys(settings)
    return JobQueue(hueys[TRIAGE_QUEUE], model=hueys[MODEL_QUEUE], queue_of=queue_of, **options)


def _token(job: Job) -> str:
    return f"{job.delivery}:{job.head_sha or ''}"


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _done_mark(raw: Any) -> tuple[str, float]:
    """(token, written at) of a done mark; a mark from before marks were dated counts as written at 0."""
    text = _text(raw)
    if text.startswith("{"):
        mark = json.loads(text)
        return mark["token"], float(mark["at"])
    return text, 0.0


def _recorded_at(raw: Any) -> float:
    """When a delivery id was recorded (an undated one, written as "1", counts as long ago)."""
    try:
        return float(_text(raw))
    except ValueError:
        return 0.0


_niced = threading.local()


def _yield_cpu() -> None:
    """Lower this worker thread's CPU priority, once (Linux schedules threads by their own nice value): a
    model job then takes the CPU that triage leaves, rather than sharing it evenly."""
    if getattr(_niced, "done", False):
        return
    _niced.done = True
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), MODEL_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the thread keeps its priority
        log.debug("model worker thread keeps its CPU priority")


class JobQueue:
    """Submit jobs from the web process; run them in workers with retries, backoff and recovery.

    `huey` is the triage queue and holds the journal; `model` the model queue (None: one queue for
    every job); `queue_of` names each job's queue (None: triage for all)."""

    def __init__(self, huey: Huey, *, model: Huey | None = None, queue_of: QueueOf | None = None,
                 retries: int = 5, retry_delay: float = 2.0,
                 runner: Runner | None = None, on_failure: FailureReporter | None = None,
                 retention: float = DEFAULT_RETENTION, lease: float = DEFAULT_LEASE,
                 clock: Callable[[], float] = time.time) -> None:
        self.huey = huey
        self.hueys = {TRIAGE_QUEUE: huey, MODEL_QUEUE: model or huey}
        self.queue_of: QueueOf = queue_of or (lambda job: TRIAGE_QUEUE)
        self.storage = huey.storage
        self.runner = runner
        self.on_failure = on_failure
        self.retention = retention
        self.clock = clock
        self._last_prune = float("-inf")
        self.leases = Leases(self.storage, lease, clock)

        self._tasks: dict[str, Any] = {}
        for queue in QUEUES:  # one task per huey: queues sharing a huey share its task
            shared = next((t for q, t in self._tasks.items() if self.hueys[q] is self.hueys[queue]), None)
            self._tasks[queue] = shared or self._register(queue, retries, retry_delay)

    def _register(self, queue: str, retries: int, retry_delay: float) -> Any:
        def run_job(key: str, token: str, task: Any = None) -> None:
            self._execute(key, token, task, queue)

        run_job.__module__ = TASK_MODULE
        return self.hueys[queue].task(retries=retries, retry_delay=retry_delay, retry_backoff=2, context=True,
                                      name=TASK_NAME)(run_job)

    def consumers(self, threads: Mapping[str, int]) -> list[Consumer]:
        """huey's consumers for worker threads per named queue (`{"triage": 2, "model": 1}`): threads, no
        periodic tasks, polled every 0.02-0.5 s (the one place these settings live, for `serve` and
        `worker` alike). Queues sharing one huey get one consumer with their threads added up."""
        per_huey: dict[int, tuple[Huey, int]] = {}
        for queue, count in threads.items():
            huey = self.hueys[queue]
            per_huey[id(huey)] = (huey, per_huey.get(id(huey), (huey, 0))[1] + count)
        return [huey.create_consumer(workers=count, worker_type="thread", periodic=False,
                                     initial_delay=0.02, backoff=1.5, max_delay=0.5)
                for huey, count in per_huey.values() if count > 0]

    def run_workers(self, threads: Mapping[str, int]) -> None:
        """Run worker threads for the named queues in this process until SIGINT or SIGTERM (`bot worker`)."""
        consumers = self.consumers(threads)
        for consumer in consumers[:-1]:
            consumer.start()
        try:
            consumers[-1].run()  # the last one owns the signal handlers and the wait
        finally:
            for consumer in consumers[:-1]:
                consumer.stop(graceful=True)

    def pending(self) -> int:
        """Jobs waiting in every named queue."""
        return sum(huey.pending_count() for huey in {id(h): h for h in self.hueys.values()}.values())

    def _enqueue(self, job: Job) -> None:
        self._tasks[self.queue_of(job)](job.key, _token(job))

    # intake side ----------------------------------------------------------------------------
    def seen_delivery(self, delivery: str) -> bool:
        """A delivery id already accepted: GitHub's redelivery of it is not queued twice."""
        return bool(self.storage.has_data_for_key(DELIVERY + delivery))

    def record_delivery(self, delivery: str) -> None:
        """Recorded after its jobs are journalled, so a crash in between loses nothing."""
        self.storage.put_data(DELIVERY + delivery, str(self.clock()).encode())

    def submit(self, job: Job) -> None:
        """Journal the job (superseding an older one with the same key), then enqueue it."""
        self.storage.put_data(PENDING + job.key, json.dumps(job.to_dict()).encode())
        self._enqueue(job)
        metrics.QUEUED.labels(job.route).inc()

    # worker side ----------------------------------------------------------------------------
    def _pending(self, key: str) -> Job | None:
        raw = self.storage.peek_data(PENDING + key)
        return None if raw is EmptyData else Job.from_dict(json.loads(raw))

    def _done(self, key: str) -> str | None:
        raw = self.storage.peek_data(DONE + key)
        return None if raw is EmptyData else _done_mark(raw)[0]

    def _mark_done(self, job: Job, token: str) -> None:
        self.storage.put_data(DONE + job.key, json.dumps({"token": token, "at": self.clock()}).encode())

    def unfinished(self) -> list[Job]:
        """Journalled jobs with no matching done mark: what a crash may have left behind."""
        items = {_text(k): raw for k, raw in self.storage.result_items().items()}
        out = []
        for key, raw in items.items():
            if not key.startswith(PENDING):
                continue
            job = Job.from_dict(json.loads(raw))
            done = items.get(DONE + job.key)
            if done is None or _done_mark(done)[0] != _token(job):
                out.append(job)
        return out

    def prune(self) -> int:
        """Forget delivery ids and finished jobs older than `retention`; returns how many entries went.

        A journal entry goes only with its own done mark, and first: a crash in between leaves a
        done mark alone (harmless), never a pending job without its mark (which would run again).
        An entry that changed since it was read (a new delivery) is put back."""
        cutoff = self.clock() - self.retention
        items = {_text(k): raw for k, raw in self.storage.result_items().items()}
        removed = 0
        for key, raw in items.items():
            if key.startswith(DELIVERY) and _recorded_at(raw) < cutoff:
                removed += self._forget(key, lambda now: _recorded_at(now) < cutoff)
            elif key.startswith(DONE):
                token, at = _done_mark(raw)
                if at >= cutoff:
                    continue
                pending = PENDING + key.removeprefix(DONE)
                if pending in items and _token(Job.from_dict(json.loads(items[pending]))) == token:
                    removed += self._forget(pending, lambda now, t=token: _token(Job.from_dict(json.loads(now))) == t)
                removed += self._forget(key, lambda now: _done_mark(now)[1] < cutoff)
        if removed:
            log.info("pruned the queue store", extra={"entries": removed})
        self._last_prune = self.clock()
        return removed

    def _forget(self, key: str, still_stale: Callable[[Any], bool]) -> int:
        raw = self.storage.pop_data(key)
        if raw is EmptyData:
            return 0
        if not still_stale(raw):  # rewritten since it was read: keep the new value
            self.storage.put_data(key, raw)
            return 0
        return 1

    def recover(self) -> int:
        """Re-enqueue unfinished jobs (run at worker start, which also prunes); duplicates are no-ops."""
        self.prune()
        jobs = self.unfinished()
        for job in jobs:
            self._enqueue(job)
        if jobs:
            log.info("re-enqueued unfinished jobs", extra={"jobs": len(jobs)})
        return len(jobs)

    def _execute(self, key: str, token: str, task: Any, queue: str) -> None:
        with self.leases.hold(key) as held:
            if not held:  # another worker runs this key's job now: come back when it is through
                raise RetryTask(f"{key} is held by another worker", delay=BUSY_RETRY)
            job = self._pending(key)
            if job is None or _token(job) != token:
                metrics.COALESCED.labels(job.route if job else "unknown").inc()
                return  # a newer job for this PR superseded this one
            if self._done(key) == token:
                return  # a recovered duplicate of a job that already ran
            if self._tasks[self.queue_of(job)] is not self._tasks[queue]:
                log.info("job moved to its own queue", extra={"route": job.route, "queue": self.queue_of(job)})
                self._enqueue(job)  # queued here by an older release: its own queue's workers run it
                return
            if queue == MODEL_QUEUE and self._tasks[MODEL_QUEUE] is not self._tasks[TRIAGE_QUEUE]:
                _yield_cpu()
            self._run(job, token, task)
        if self.clock() - self._last_prune >= PRUNE_EVERY:
            self.prune()

    def _run(self, job: Job, token: str, task: Any) -> None:
        assert self.runner is not None, "a worker needs a runner"
        with log_scope(delivery=job.delivery, repo=job.repo, pr=job.pr, head_sha=job.head_sha):
            log.info("job started", extra={"route": job.route, "event": job.event, "action": job.action})
            metrics.RUNNING.inc()
            try:
                self.runner(job)
            except UnknownRoute as exc:  # no retry can help: fail once, loudly, and never run it again
                metrics.POISONED.labels(job.route).inc()
                log.error("job dropped: unknown route", extra={"route": job.route, "reason": str(exc)})
                self._mark_done(job, token)
                return
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
            self._mark_done(job, token)
            metrics.SUCCEEDED.labels(job.route).inc()
            metrics.LATENCY.labels(job.route).observe(time.time() - job.received_at)
            log.info("job done", extra={"route": job.route, "seconds": round(time.time() - job.received_at, 3)})

    def _give_up(self, job: Job, token: str, exc: Exception) -> None:
        """Retries spent: report on the PR. If even that fails (an unknown installation, a deleted
        repository), the job is poison: marked done with a log line and a metric, never re-run on
        every restart."""
        reason = f"{type(exc).__name__}: {exc}"
        metrics.FAILED.labels(job.route).inc()
        log.error("job failed, retries spent", extra={"route": job.route, "reason": reason})
        if self.on_failure is not None:
            try:
                self.on_failure(job, reason)
            except Exception as report_exc:
                metrics.POISONED.labels(job.route).inc()
                log.error("job dropped: reporting its failure failed too",
                          extra={"route": job.route, "reason": reason,
                                 "report_error": f"{type(report_exc).__name__}: {report_exc}"})
        self._mark_done(job, token)
