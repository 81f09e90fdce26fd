"""The precheck never delays triage: the queue runs a waiting triage job before any precheck job."""

from __future__ import annotations

import time
from pathlib import Path

from huey import SqliteHuey

from bot.service.handlers import load_handlers
from bot.service.queue import JobQueue


def test_a_triage_job_submitted_after_prechecks_runs_first(tmp_path: Path) -> None:
    router = load_handlers()
    ran: list[str] = []
    huey = SqliteHuey("t", filename=str(tmp_path / "q.db"))
    queue = JobQueue(huey, retries=0, runner=lambda job: ran.append(f"{job.route}#{job.pr}"))
    for number in (1, 2, 3):  # a burst: each delivery queues its triage and its precheck
        payload = {"action": "synchronize", "number": number, "repository": {"full_name": "o/t"},
                   "pull_request": {"number": number, "head": {"sha": f"{number:040x}"}}}
        for job in router.jobs_for("pull_request", f"d{number}", payload, time.time()):
            if job.route in ("triage", "precheck"):
                queue.submit(job)
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    assert ran == ["triage#1", "triage#2", "triage#3", "precheck#1", "precheck#2", "precheck#3"]
