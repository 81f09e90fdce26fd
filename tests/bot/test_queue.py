"""The durable queue on real huey SQLite storage: coalescing, retries, failure reports, recovery."""

from __future__ import annotations

import contextlib
import datetime
import time
from pathlib import Path

import pytest
from huey import SqliteHuey

from bot.queue import JobQueue
from bot.router import Job


def job(delivery: str, sha: str = "a" * 40, pr: int = 1, coalesce: bool = True) -> Job:
    return Job(route="tests.triage", event="pull_request", action="synchronize", delivery=delivery, repo="o/r",
               installation=1, pr=pr, head_sha=sha, payload={}, received_at=time.time(), coalesce=coalesce)


class Recorder:
    def __init__(self, failures: int = 0) -> None:
        self.ran: list[str] = []
        self.failures = failures
        self.reported: list[str] = []

    def __call__(self, j: Job) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("HTTP 502 from the API")
        self.ran.append(j.delivery)

    def report(self, j: Job, reason: str) -> None:
        self.reported.append(reason)


def make(path: Path, rec: Recorder, retries: int = 2) -> JobQueue:
    return JobQueue(SqliteHuey("t", filename=str(path)), retries=retries, retry_delay=0, runner=rec,
                    on_failure=rec.report)


def drain(queue: JobQueue) -> None:
    """What a worker does: run queued tasks (and due retries) until none are left."""
    huey = queue.huey
    while True:
        task = huey.dequeue()
        if task is None:
            due = huey.read_schedule(datetime.datetime.now() + datetime.timedelta(hours=1))
            if not due:
                return
            for t in due:
                huey.enqueue(t)
            continue
        with contextlib.suppress(Exception):  # huey re-raises after scheduling a retry; the worker goes on
            huey.execute(task)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "queue.sqlite3"


def test_newest_job_for_a_pr_wins(db: Path) -> None:
    rec = Recorder()
    q = make(db, rec)
    q.submit(job("d1", "a" * 40))
    q.submit(job("d2", "b" * 40))
    q.submit(job("d3", pr=2))
    drain(q)
    assert rec.ran == ["d2", "d3"]
    assert q.unfinished() == []


def test_non_coalescing_jobs_all_run(db: Path) -> None:
    rec = Recorder()
    q = make(db, rec)
    for d in ("c1", "c2"):
        q.submit(job(d, coalesce=False))
    drain(q)
    assert rec.ran == ["c1", "c2"]


def test_failures_are_retried_then_succeed(db: Path) -> None:
    rec = Recorder(failures=2)
    q = make(db, rec, retries=2)
    q.submit(job("d1"))
    drain(q)
    assert rec.ran == ["d1"] and rec.reported == []


def test_spent_retries_are_reported_with_the_reason(db: Path) -> None:
    rec = Recorder(failures=10)
    q = make(db, rec, retries=2)
    q.submit(job("d1"))
    drain(q)
    assert rec.ran == [] and rec.reported == ["ConnectionError: HTTP 502 from the API"]
    assert q.unfinished() == []


def test_unreportable_failure_stays_in_the_journal(db: Path) -> None:
    rec = Recorder(failures=10)
    q = make(db, rec, retries=0)

    def broken_report(j: Job, reason: str) -> None:
        raise ConnectionError("still down")

    q.on_failure = broken_report
    q.submit(job("d1"))
    drain(q)
    assert [j.delivery for j in q.unfinished()] == ["d1"]


def test_a_job_taken_by_a_killed_worker_is_recovered_once(db: Path) -> None:
    rec = Recorder()
    q = make(db, rec)
    q.submit(job("d1"))
    assert q.huey.dequeue() is not None  # a worker took it and was killed before finishing
    assert q.huey.pending_count() == 0
    restarted = make(db, rec)
    assert restarted.recover() == 1
    restarted.recover()  # a second recovery queues a duplicate, which must be a no-op
    drain(restarted)
    assert rec.ran == ["d1"]
    assert restarted.recover() == 0


def test_deliveries_are_recognised(db: Path) -> None:
    q = make(db, Recorder())
    assert not q.seen_delivery("abc")
    q.record_delivery("abc")
    assert make(db, Recorder()).seen_delivery("abc")


def test_the_journal_works_on_hueys_redis_storage_too() -> None:
    """Scale-out runs huey's Redis storage; its key-value API returns other types than SQLite's."""
    import fakeredis
    import redis
    from huey import RedisHuey

    server = fakeredis.FakeServer()
    pool = redis.ConnectionPool(connection_class=fakeredis.FakeRedisConnection, server=server)
    rec = Recorder()
    q = JobQueue(RedisHuey("taxonomist", connection_pool=pool), retries=1, retry_delay=0, runner=rec,
                 on_failure=rec.report)
    q.submit(job("d1", "a" * 40))
    q.submit(job("d2", "b" * 40))
    assert q.huey.dequeue() is not None  # taken by a worker that then died
    other = JobQueue(RedisHuey("taxonomist", connection_pool=pool), runner=rec, on_failure=rec.report)
    assert [j.delivery for j in other.unfinished()] == ["d2"]
    other.recover()
    drain(other)
    assert rec.ran == ["d2"] and other.unfinished() == []
    q.record_delivery("x")
    assert other.seen_delivery("x")
