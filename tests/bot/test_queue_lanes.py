"""Named queues: model work (precheck, `/generate`) has its own queue and workers, so a running model job never
holds the worker a triage job waits for, and a triage worker never runs a model job (issues 22 and 24)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from huey import SqliteHuey

from bot.service.handlers import load_handlers
from bot.service.jobs import MODEL_QUEUE, TRIAGE_QUEUE, Job
from bot.service.queue import HUEY_NAMES, MODEL_NICENESS, JobQueue
from bot.service.router import Router

BEFORE_LAYOUT = Path(__file__).parent / "data" / "queue-before-layout.sqlite3"


def pr_jobs(router: Router, number: int, delivery: str) -> list[Job]:
    payload = {"action": "synchronize", "number": number, "repository": {"full_name": "o/t"},
               "installation": {"id": 1}, "pull_request": {"number": number, "head": {"sha": f"{number:040x}"}}}
    jobs = router.jobs_for("pull_request", delivery, payload, time.time())
    return [j for j in jobs if j.route in ("triage", "precheck")]


def two_queues(db: Path, router: Router, runner: Any) -> JobQueue:
    hueys = {q: SqliteHuey(name, filename=str(db)) for q, name in HUEY_NAMES.items()}
    return JobQueue(hueys[TRIAGE_QUEUE], model=hueys[MODEL_QUEUE], queue_of=router.queue_of, retries=0,
                    runner=runner)


def test_model_routes_are_on_the_model_queue() -> None:
    router = load_handlers()
    assert {name for name, route in router.routes.items() if route.queue == MODEL_QUEUE} == {"precheck", "generate"}


def test_a_route_on_an_unknown_queue_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="unknown queue 'gpu'"):
        Router().on("pull_request", name="x", queue="gpu")


def test_a_triage_job_completes_while_a_model_job_is_still_running(tmp_path: Path) -> None:
    router = load_handlers()
    model_running, release = threading.Event(), threading.Event()
    finished: list[str] = []
    niceness: dict[str, int] = {}

    def runner(job: Job) -> None:
        niceness[job.route] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        if job.route == "precheck":
            model_running.set()
            assert release.wait(30), "the test never released the model job"
        finished.append(f"{job.route}#{job.pr}")

    queue = two_queues(tmp_path / "q.db", router, runner)
    consumers = queue.consumers({TRIAGE_QUEUE: 1, MODEL_QUEUE: 1})  # what `bot serve` runs by default
    for consumer in consumers:
        consumer.scheduler.start()
        for _, thread in consumer.worker_threads:
            thread.start()
    try:
        (precheck,) = [j for j in pr_jobs(router, 1, "d1") if j.route == "precheck"]
        queue.submit(precheck)
        assert model_running.wait(10), "the model worker never took the precheck"
        (triage,) = [j for j in pr_jobs(router, 2, "d2") if j.route == "triage"]
        queue.submit(triage)
        deadline = time.monotonic() + 10
        while "triage#2" not in finished and time.monotonic() < deadline:
            time.sleep(0.02)
        assert finished == ["triage#2"]  # triage is done and the model job is still running
        assert model_running.is_set() and not release.is_set()
    finally:
        release.set()
        for consumer in consumers:
            consumer.stop(graceful=True)
    assert sorted(finished) == ["precheck#1", "triage#2"]
    # the model's thread yields the CPU to triage's on a busy machine; triage's keeps the process's priority
    assert niceness == {"precheck": MODEL_NICENESS, "triage": os.getpriority(os.PRIO_PROCESS, 0)}


def test_a_triage_worker_never_runs_a_model_job(tmp_path: Path) -> None:
    router = load_handlers()
    ran: list[str] = []
    queue = two_queues(tmp_path / "q.db", router, lambda job: ran.append(job.route))
    for number in (1, 2):
        for job in pr_jobs(router, number, f"d{number}"):
            queue.submit(job)
    triage, model = queue.hueys[TRIAGE_QUEUE], queue.hueys[MODEL_QUEUE]
    while (task := triage.dequeue()) is not None:
        triage.execute(task)
    assert ran == ["triage", "triage"]
    assert model.pending_count() == 2 and queue.pending() == 2
    while (task := model.dequeue()) is not None:
        model.execute(task)
    assert ran == ["triage", "triage", "precheck", "precheck"]
    assert queue.unfinished() == []


def test_a_model_job_queued_before_there_was_a_model_queue_moves_to_it(tmp_path: Path) -> None:
    """The release before named queues put every job in one queue: its precheck is moved, not run, by triage."""
    db = tmp_path / "queue.sqlite3"
    shutil.copyfile(BEFORE_LAYOUT, db)
    router = load_handlers()
    ran: list[tuple[str, str]] = []
    queue = two_queues(db, router, lambda job: ran.append((job.route, "triage" if on_triage else "model")))
    triage, model = queue.hueys[TRIAGE_QUEUE], queue.hueys[MODEL_QUEUE]
    on_triage = True
    while (task := triage.dequeue()) is not None:
        triage.execute(task)
    assert sorted(ran) == [("lifecycle", "triage"), ("triage", "triage")]
    on_triage = False
    while (task := model.dequeue()) is not None:
        model.execute(task)
    assert ran[-1] == ("precheck", "model")
    assert queue.unfinished() == []


def test_a_journalled_job_of_the_release_before_named_queues_still_loads() -> None:
    stored = {"route": "precheck", "event": "pull_request", "action": "opened", "delivery": "d", "repo": "o/t",
              "installation": 1, "pr": 7, "head_sha": "a" * 40, "payload": {}, "received_at": 0.0,
              "coalesce": True, "priority": -10}
    assert Job.from_dict(stored).route == "precheck"
