"""Wiring for `serve` and `worker`: settings -> GitHub app, queue, router, handler context; `serve`'s model worker."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.dashboard.jobs import JobRecorder
from bot.dashboard.store import Store
from bot.forges.github import GitHubApp
from bot.generate.handler import generate_setup
from bot.precheck.handler import precheck_setup
from bot.service.handlers import load_handlers
from bot.service.jobs import Job
from bot.service.queue import make_queue
from bot.service.ratelimit import share_user_limits
from bot.service.router import HandlerContext, Router
from bot.service.settings import Settings
from bot.triage.indexes import IndexStore
from bot.triage.render import AnnotationLimits
from checks.registry import select


class Service:
    """Runs jobs against GitHub: one per process, shared by its worker threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router: Router = load_handlers(app_id=int(settings.app_id))
        self.github = GitHubApp(settings)
        # The duplicate check's index costs an embedding model: kept only when that check can run.
        self.indexes = IndexStore(settings.data_dir / "index") if "duplicate" in select(
            skip=settings.skip_checks) else None
        self.store = Store.open(settings.data_dir, settings.database_url)  # the dashboard's and the lifecycle's
        if settings.queue_url:  # several machines: one count per person, in the Redis every process shares
            share_user_limits(settings.queue_url)
        self.recorder = JobRecorder(self.store)
        self.precheck = precheck_setup(settings.precheck_model, settings.data_dir / "precheck",
                                       settings.precheck_judge_url, settings.precheck_judge_model)
        self.generate = generate_setup(settings.build_config)
        self.queue = make_queue(settings, self.router.queue_of, retries=settings.job_retries,
                                retry_delay=settings.retry_delay, runner=self.run, on_failure=self.report_failure,
                                retention=settings.queue_retention_days * 24 * 3600, lease=settings.job_lease)

    def context(self, job: Job) -> HandlerContext:
        return HandlerContext(forge=self.github.forge(job.repo, job.installation),
                              skip_checks=self.settings.skip_checks, indexes=self.indexes,
                              annotation_limits=AnnotationLimits(self.settings.annotations_per_file,
                                                                 self.settings.annotations_per_run),
                              store=self.store, precheck=self.precheck, generate=self.generate)

    def run(self, job: Job) -> Any:
        return self.recorder.run(job, lambda: self.router.dispatch(job, self.context(job)))

    def report_failure(self, job: Job, reason: str) -> None:
        self.recorder.failed(job, reason)
        route = self.router.route(job)
        if route.on_failure is not None:
            route.on_failure(job, self.context(job), reason)


log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # prctl(2)


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when `serve` dies, even by SIGKILL (Linux)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_model_worker(threads: int, config: Path | None) -> subprocess.Popen[bytes]:
    """`serve`'s model work, in a process of its own (`taxonomist bot worker --queue model`): a model's Python
    loop in a thread of the web process would share its interpreter lock with triage's threads and slow them
    about twofold (`benchmarks/bench_queues.py`); a process of its own leaves triage within 1.5x. It reads
    the same settings (environment and `--config`), logs to the same stream and dies with `serve`."""
    command = [sys.executable, "-c", "from taxonomist.cli import main; main()", "bot", "worker", "--queue", "model",
               "--workers", str(threads), *(["--config", str(config)] if config is not None else [])]
    child = subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    log.info("model worker started", extra={"threads": threads})
    return child


def stop_model_worker(child: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """SIGINT: the running model job finishes (huey's graceful stop), then SIGKILL after `grace` seconds."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
