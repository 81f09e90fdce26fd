"""The Redis queue path on a real `redis-server`: a worker process killed mid-job, and coalescing.

Each test starts its own `redis-server` on a free loopback port (no persistence: the data lives
as long as the server) and real worker processes (`tests.bot.redis_worker`, the bot's `JobQueue`
under a huey consumer). Skipped, saying so, only where the `redis-server` binary is absent
(`.ci/run` installs it).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from huey import RedisHuey

from bot.service.jobs import Job
from bot.service.queue import JobQueue
from tests.bot.process import ROOT
from tests.bot.services import missing, redis_server
from tests.bot.world import wait_for

pytestmark = pytest.mark.skipif(missing("redis") is not None, reason=str(missing("redis")))


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def job(delivery: str, sha: str, pr: int = 1, **payload: str) -> Job:
    return Job(route="tests.triage", event="pull_request", action="synchronize", delivery=delivery, repo="o/r",
               installation=1, pr=pr, head_sha=sha, payload=dict(payload), received_at=time.time(), coalesce=True)


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.bot.redis_worker", url, str(log)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ran(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").split() if log.exists() else []


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGINT)  # huey's consumer stops gracefully on SIGINT
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def test_a_job_survives_a_sigkill_of_its_worker(redis_url: str, tmp_path: Path) -> None:
    log, taken = tmp_path / "ran.log", tmp_path / "taken"
    web = JobQueue(RedisHuey("taxonomist", url=redis_url))
    worker = start_worker(redis_url, log)
    try:
        web.submit(job("d1", "a" * 40, block_once=str(taken)))
        wait_for(taken.exists, timeout=30, what="the worker to take the job")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert [j.delivery for j in web.unfinished()] == ["d1"]  # journalled, not done
        worker = start_worker(redis_url, log)  # a new worker recovers the journalled job
        wait_for(lambda: ran(log) == ["d1"], timeout=30, what="the recovered job to run",  # once its lease lapsed
                 logs=lambda: f"ran: {ran(log)}")
        wait_for(lambda: web.unfinished() == [], timeout=10, what="the job's done mark")
        web.submit(job("d2", "b" * 40, pr=2))
        wait_for(lambda: ran(log) == ["d1", "d2"], timeout=30, what="the next job")
    finally:
        stop(worker)
    assert ran(log) == ["d1", "d2"]  # the killed attempt never finished; the job ran once to the end


def test_jobs_for_one_pr_coalesce_across_processes(redis_url: str, tmp_path: Path) -> None:
    log = tmp_path / "ran.log"
    web = JobQueue(RedisHuey("taxonomist", url=redis_url))
    for delivery, sha in (("d1", "a" * 40), ("d2", "b" * 40), ("d3", "c" * 40)):
        web.submit(job(delivery, sha))  # three pushes to PR 1 before any worker runs
    web.submit(job("e1", "d" * 40, pr=2))
    web.record_delivery("d3")
    workers = [start_worker(redis_url, log) for _ in range(2)]
    try:
        wait_for(lambda: sorted(ran(log)) == ["d3", "e1"], timeout=30, what="the newest job of each PR, once",
                 logs=lambda: f"ran: {ran(log)}")
        wait_for(lambda: web.huey.pending_count() == 0, timeout=10, what="the queue to empty")
    finally:
        for worker in workers:
            stop(worker)
    assert sorted(ran(log)) == ["d3", "e1"] and web.unfinished() == []
    assert JobQueue(RedisHuey("taxonomist", url=redis_url)).seen_delivery("d3")  # shared by every process


def test_on_redis_model_jobs_wait_in_a_queue_of_their_own(redis_url: str, tmp_path: Path) -> None:
    from bot.service.handlers import load_handlers
    from bot.service.jobs import MODEL_QUEUE, TRIAGE_QUEUE
    from bot.service.queue import make_queue
    from bot.service.settings import Settings

    router = load_handlers()
    settings = Settings(app_id="1", private_key=tmp_path / "k.pem", queue_url=redis_url, data_dir=tmp_path)
    queue = make_queue(settings, router.queue_of)
    payload = {"action": "synchronize", "number": 3, "repository": {"full_name": "o/t"},
               "pull_request": {"number": 3, "head": {"sha": "c" * 40}}}
    for submitted in router.jobs_for("pull_request", "d-redis", payload, time.time()):
        queue.submit(submitted)
    # triage, review and lifecycle in the triage queue; the precheck alone in the model queue
    assert (queue.hueys[TRIAGE_QUEUE].pending_count(), queue.hueys[MODEL_QUEUE].pending_count()) == (3, 1)
    assert queue.hueys[MODEL_QUEUE].storage.queue_key != queue.hueys[TRIAGE_QUEUE].storage.queue_key
