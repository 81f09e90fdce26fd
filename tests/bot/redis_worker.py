"""A queue worker process on a real Redis, for tests: `python -m tests.bot.redis_worker URL LOG`.

It runs the bot's `JobQueue` exactly as `taxonomist bot worker` does (recovery, then a huey
consumer), with a runner that appends each job's delivery id to LOG. A job whose payload names a
`block_once` file that does not exist yet creates it and hangs, so a test can SIGKILL the worker
in the middle of that job. Leases last 2 s, so a killed worker's job is taken over quickly.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from huey import RedisHuey

from bot.service.jobs import Job
from bot.service.queue import JobQueue


def main(url: str, log: Path) -> None:
    def run(job: Job) -> None:
        block = job.payload.get("block_once")
        if block and not Path(block).exists():
            Path(block).write_text("taken\n", encoding="utf-8")
            time.sleep(3600)
        with log.open("a", encoding="utf-8") as out:
            out.write(job.delivery + "\n")
            out.flush()
            os.fsync(out.fileno())

    queue = JobQueue(RedisHuey("taxonomist", url=url), retries=1, retry_delay=0, runner=run, lease=2.0)
    queue.recover()
    consumer = queue.huey.create_consumer(workers=1, worker_type="thread", periodic=False, initial_delay=0.02,
                                          backoff=1.5, max_delay=0.2)
    consumer.run()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
