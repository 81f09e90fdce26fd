"""A queue filled by an older release still runs: jobs name routes, never module paths (issue 20).

`data/queue-before-layout.sqlite3` was written by the code before the layout moved (`bot.queue`,
`bot.router`, `bot.handlers.*`): the jobs of one `pull_request opened` delivery, submitted and
never run. Today's worker must take each one and find its route.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from huey import SqliteHuey

from bot.service.handlers import load_handlers
from bot.service.queue import JobQueue

BEFORE_LAYOUT = Path(__file__).parent / "data" / "queue-before-layout.sqlite3"


def test_jobs_queued_before_the_layout_move_run_after_it(tmp_path: Path) -> None:
    db = tmp_path / "queue.sqlite3"
    shutil.copyfile(BEFORE_LAYOUT, db)
    router = load_handlers()
    ran: list[tuple[str, str, int | None]] = []
    huey = SqliteHuey("taxonomist", filename=str(db))
    queue = JobQueue(huey, retries=0, runner=lambda job: ran.append((router.route(job).name, job.repo, job.pr)))
    assert {job.route for job in queue.unfinished()} == {"triage", "precheck", "lifecycle"}
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    assert sorted(ran) == [("lifecycle", "octo/taxonomy", 7), ("precheck", "octo/taxonomy", 7),
                           ("triage", "octo/taxonomy", 7)]
    assert queue.unfinished() == []
