"""The durable queue on real huey SQLite storage: coalescing, retries, failure reports, recovery."""

from __future__ import annotations

import contextlib
import datetime
import time
from pathlib import Path

import pytest
from huey import SqliteHuey

from bot.service import metrics
from bot.service.jobs import Job
from bot.service.queue import JobQueue


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


def test_unreportable_failure_is_poison_marked_done_with_a_metric(db: Path) -> None:
    """Issue 11.9 (this test asserted the opposite before): a job whose failure report fails too
    (an unknown installation) would re-run on every restart, forever; it is marked done instead."""
    rec = Recorder(failures=10)
    q = make(db, rec, retries=0)

    def broken_report(j: Job, reason: str) -> None:
        raise ConnectionError("still down")

    before = metrics.POISONED.labels("tests.triage")._value.get()
    q.on_failure = broken_report
    q.submit(job("d1"))
    drain(q)
    assert q.unfinished() == []
    assert metrics.POISONED.labels("tests.triage")._value.get() == before + 1


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


def test_a_copy_taken_while_another_worker_runs_the_job_waits_and_then_does_nothing(db: Path) -> None:
    """A recovered job sits in the queue twice; two workers taking both copies run it once."""
    rec = Recorder()
    first = make(db, rec)
    first.submit(job("d1"))
    original = first.huey.dequeue()
    other = make(db, rec)
    other.recover()  # a second worker starting: it re-enqueues the journalled job
    copy = other.huey.dequeue()
    scheduled: list[int] = []

    def run_the_copy_meanwhile(j: Job) -> None:
        other.huey.execute(copy)  # finds the lease held: scheduled again, not run
        scheduled.append(other.huey.scheduled_count())
        rec.ran.append(j.delivery)

    first.runner = run_the_copy_meanwhile
    first.huey.execute(original)
    assert scheduled == [1] and rec.ran == ["d1"]
    drain(other)  # the copy's retry comes round after the job finished: a no-op
    assert rec.ran == ["d1"] and other.unfinished() == []


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


class Clock:
    """A settable clock: retention is days, tests are seconds."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_old_delivery_ids_and_finished_jobs_are_pruned(db: Path) -> None:
    rec, clock = Recorder(), Clock()
    q = JobQueue(SqliteHuey("t", filename=str(db)), retry_delay=0, runner=rec, on_failure=rec.report,
                 retention=3600, clock=clock)
    q.record_delivery("old")
    q.submit(job("d1", pr=1))
    drain(q)
    clock.now += 1800
    q.record_delivery("recent")
    q.submit(job("d2", pr=2))
    drain(q)
    q.submit(job("d3", pr=3))  # journalled, not run yet: never pruned, whatever its age
    clock.now += 3000  # "old" and PR 1's job are past the hour, "recent" and PR 2's are not
    assert q.prune() == 3  # delivery "old", PR 1's journal entry and its done mark
    assert not q.seen_delivery("old") and q.seen_delivery("recent")
    keys = {k.decode() if isinstance(k, bytes) else k for k in q.storage.result_items()}
    assert not any(k.endswith(job("x", pr=1).key) for k in keys)
    assert any(k.endswith(job("x", pr=2).key) for k in keys)
    assert [j.delivery for j in q.unfinished()] == ["d3"]  # nothing finished came back to life
    clock.now += 10 * 3600
    assert q.prune() == 3 and [j.delivery for j in q.unfinished()] == ["d3"]


def test_a_journal_entry_rewritten_by_a_new_delivery_is_not_pruned(db: Path) -> None:
    rec, clock = Recorder(), Clock()
    q = JobQueue(SqliteHuey("t", filename=str(db)), retry_delay=0, runner=rec, on_failure=rec.report,
                 retention=60, clock=clock)
    q.submit(job("d1", "a" * 40))
    drain(q)
    clock.now += 120
    q.submit(job("d2", "b" * 40))  # the same PR pushed again: its done mark is old, the journal is new
    q.prune()
    assert [j.delivery for j in q.unfinished()] == ["d2"]
    drain(q)
    assert rec.ran == ["d1", "d2"]


def test_workers_prune_at_start_and_then_hourly(db: Path) -> None:
    rec, clock = Recorder(), Clock()
    q = JobQueue(SqliteHuey("t", filename=str(db)), retry_delay=0, runner=rec, on_failure=rec.report,
                 retention=60, clock=clock)
    q.record_delivery("a")
    clock.now += 120
    q.recover()
    assert not q.seen_delivery("a")
    q.record_delivery("b")
    clock.now += 120
    q.submit(job("d1"))
    drain(q)
    assert q.seen_delivery("b")  # the last prune was less than an hour ago
    clock.now += 3600
    q.submit(job("d2"))
    drain(q)
    assert not q.seen_delivery("b")


def test_marks_written_before_they_were_dated_still_count(db: Path) -> None:
    rec = Recorder()
    q = make(db, rec)
    q.submit(job("d1"))
    q.storage.put_data("done:" + job("d1").key, f"d1:{'a' * 40}".encode())  # the format before dating
    q.storage.put_data("delivery:legacy", b"1")
    assert q.unfinished() == [] and q.seen_delivery("legacy")
    assert q.prune() == 3  # undated counts as long ago
