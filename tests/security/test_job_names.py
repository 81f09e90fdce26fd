"""Issue 11.10: queued jobs name their handler by an explicit, stable name; an unknown one fails once."""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from huey import SqliteHuey

from bot.service import metrics
from bot.service.handlers import load_handlers
from bot.service.jobs import Job
from bot.service.queue import JobQueue
from bot.service.router import HandlerContext, Router


def test_routes_have_explicit_names_not_module_paths() -> None:
    assert set(load_handlers().routes) == {"triage", "review", "refresh_merged_taxonomy",
                                           "forget_closed_pull_request", "lifecycle", "lifecycle_activity",
                                           "lifecycle_base_moved", "precheck", "generate"}


def test_a_renamed_function_still_runs_the_queued_job() -> None:
    old = Router()

    @old.on("pull_request", "opened", name="greet")
    def greet(job: Job, ctx: Any) -> str:
        return "old"

    (queued,) = old.jobs_for("pull_request", "d", {"action": "opened", "number": 3}, 0.0)
    new = Router()

    @new.on("pull_request", "opened", name="greet")
    def welcome_contributor(job: Job, ctx: Any) -> str:
        return "new"

    assert new.dispatch(Job.from_dict(queued.to_dict()), HandlerContext(forge=None)) == "new"  # type: ignore[arg-type]


def test_a_name_taken_twice_is_refused_at_start_up() -> None:
    first, second = Router(), Router()
    first.on("push", name="same")(lambda job, ctx: None)
    second.on("push", name="same")(lambda job, ctx: None)
    with pytest.raises(ValueError, match="'same'"):
        Router.join(first, second)


def test_an_unknown_route_fails_once_loudly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    router = load_handlers()
    runs: list[str] = []

    def runner(job: Job) -> Any:
        runs.append(job.route)
        return router.dispatch(job, HandlerContext(forge=None))  # type: ignore[arg-type]

    queue = JobQueue(SqliteHuey("t", filename=str(tmp_path / "q.db")), retries=3, retry_delay=0, runner=runner)
    gone = Job(route="bot.triage.handler.triage_pull_request", event="pull_request", action="opened",
               delivery="d1", repo="o/r", installation=1, pr=1, head_sha="a" * 40, payload={},
               received_at=time.time(), coalesce=True)
    before = metrics.POISONED.labels(gone.route)._value.get()
    queue.submit(gone)
    with caplog.at_level(logging.ERROR):
        while (task := queue.huey.dequeue()) is not None:
            with contextlib.suppress(Exception):
                queue.huey.execute(task)
    assert runs == [gone.route]  # once: no retries
    assert queue.unfinished() == []
    assert metrics.POISONED.labels(gone.route)._value.get() == before + 1
    assert any("unknown route" in r.getMessage() for r in caplog.records)
