"""The queue page's side of the workers: each job's state and reason, each worker's heartbeat and job.

`Service.run` hands every job to `JobRecorder.run`, which records it around the handler; the
triage outcome it returns is recorded for the pull-request page as well.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.dashboard import record
from bot.dashboard.store import Store
from bot.service.router import Job
from bot.triage.run import TriageOutcome

HEARTBEAT_EVERY = 15.0  # seconds between a worker process's heartbeats


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}/{threading.current_thread().name}"


class JobRecorder:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._beating = threading.Event()

    def run(self, job: Job, handler: Callable[[], Any]) -> Any:
        """Run `handler` for `job`, recording running, then done or retrying (with the error)."""
        worker = worker_id()
        label = f"{job.route} {job.repo}" + (f"#{job.pr}" if job.pr else "")
        self.store.heartbeat(worker, label, time.time())
        self.store.job_running(job.key, job.route, job.repo, job.pr, worker, time.time())
        try:
            result = handler()
        except Exception as exc:
            self.store.job_state(job.key, "retrying", time.time(), reason=f"{type(exc).__name__}: {exc}",
                                 attempt=True)
            raise
        finally:
            self.store.heartbeat(worker, None, time.time())
        if isinstance(result, TriageOutcome):
            record.on_triage(self.store, job.repo, result)
        self.store.job_state(job.key, "done", time.time())
        return result

    def failed(self, job: Job, reason: str) -> None:
        """Retries spent."""
        self.store.job_state(job.key, "failed", time.time(), reason=reason)

    def start_heartbeat(self, workers: int) -> None:
        """Beat for this process and its worker threads every HEARTBEAT_EVERY seconds (a daemon thread)."""
        if self._beating.is_set():
            return
        self._beating.set()
        prefix = f"{socket.gethostname()}:{os.getpid()}/"

        def beat() -> None:
            while True:  # the process's own row, then each of its threads that has run a job
                self.store.heartbeat(prefix.rstrip("/"), f"{workers} worker thread(s)", time.time())
                for worker in [w["id"] for w in self.store.workers() if w["id"].startswith(prefix)]:
                    self.store.heartbeat(worker, None, time.time(), keep_job=True)
                time.sleep(HEARTBEAT_EVERY)

        threading.Thread(target=beat, name="taxonomist-heartbeat", daemon=True).start()
