"""Named queues: another PR's triage latency while a hostile precheck runs, beside a quiet run (issue 22).

One SQLite store, the triage queue and the model queue, one worker each, in two shapes: `threads` (both
workers in one process: they share the interpreter lock) and `process` (the model worker in a process
of its own, as `bot serve` starts it and `bot worker --queue model` runs it). The triage jobs are the
real triage handler (structural checks) on a local git repository; the model jobs are the real
precheck handler with the embedded model, on PRs whose leaf holds many seed questions, submitted until
the measurement ends so that the model worker is busy throughout. Figures per shape: median and p95
seconds from submission to the end of each triage job, quiet and with the precheck running, measured
in the same run, and their ratio (target: within 1.5x); and how many of the hostile-run triage jobs
ran wholly inside a running model job.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TRIAGED = int(os.environ.get("BENCH_QUEUES_PRS", "12"))  # triage jobs measured per run
SEEDS = int(os.environ.get("BENCH_QUEUES_SEEDS", "60"))  # seed questions in the hostile leaf
HOSTILE_LEAF = "compositional_skills/general/everyday_facts/qna.yaml"


def hostile_branch(repo: Path) -> str:
    """A branch whose leaf asks the model SEEDS questions: the precheck of issue 22's "hours" attack."""
    lines = ["version: 3", "created_by: sample-contributor",
             "task_description: Answer a simple everyday question about the world in one sentence.", "seed_examples:"]
    for n in range(SEEDS):
        lines += [f"  - question: What is {n} plus {n + 1}?", f"    answer: {n} plus {n + 1} is {2 * n + 1}."]
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "checkout", "-q", "-b", "hostile", "known-facts"], check=True)
    (repo / HOSTILE_LEAF).write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run([*git, "commit", "-q", "-a", "-s", "-m", "Many questions"], check=True)
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    return "hostile"


def model_process(repo: str, db: str, hostile: str, running: Any, spans: Any) -> None:
    """The model worker in a process of its own: its own router and forges (a hostile PR is triaged here
    first, since the precheck waits for triage's comment), reporting when each model job ran."""
    import dataclasses

    from huey import SqliteHuey

    from bot.forges.localgit import LocalGitForge
    from bot.precheck.handler import precheck_setup
    from bot.service.handlers import load_handlers
    from bot.service.jobs import MODEL_QUEUE, TRIAGE_QUEUE
    from bot.service.queue import HUEY_NAMES, JobQueue
    from bot.service.router import HandlerContext
    from bot.triage.indexes import IndexStore

    router, setup = load_handlers(), precheck_setup("auto", None)

    def run(job: Any) -> None:
        ctx = HandlerContext(forge=LocalGitForge(repo=Path(repo), base="main", head=hostile, number=job.pr),
                             skip_checks=("content",), indexes=IndexStore(None), precheck=setup)
        router.dispatch(dataclasses.replace(job, route="triage"), ctx)
        start = time.monotonic()
        running.set()
        try:
            router.dispatch(job, ctx)
        finally:
            running.clear()
            spans.put((start, time.monotonic()))

    hueys = {q: SqliteHuey(name, filename=db) for q, name in HUEY_NAMES.items()}
    queue = JobQueue(hueys[TRIAGE_QUEUE], model=hueys[MODEL_QUEUE], queue_of=router.queue_of, retries=3,
                     retry_delay=0, runner=run)
    queue.run_workers({MODEL_QUEUE: 1})


class Bench:
    """The two queues, a worker each (threads or a model process), and what ran when."""

    def __init__(self, tmp: Path, shape: str) -> None:
        from huey import SqliteHuey

        from bot.demo import make_sample_repo
        from bot.precheck.handler import precheck_setup
        from bot.service.handlers import load_handlers
        from bot.service.jobs import MODEL_QUEUE, TRIAGE_QUEUE
        from bot.service.queue import HUEY_NAMES, JobQueue

        self.repo = make_sample_repo(tmp / "taxonomy")
        self.hostile = hostile_branch(self.repo)
        self.router = load_handlers()
        self.precheck = precheck_setup("auto", None)
        self.forges: dict[int, Any] = {}
        self.done: dict[int, float] = {}
        self.model_spans: list[tuple[float, float]] = []
        self.model_running = threading.Event()
        self.model_started = 0.0  # when the running model job started
        self.lock = threading.Lock()
        hueys = {q: SqliteHuey(name, filename=str(tmp / "queue.sqlite3")) for q, name in HUEY_NAMES.items()}
        self.queue = JobQueue(hueys[TRIAGE_QUEUE], model=hueys[MODEL_QUEUE], queue_of=self.router.queue_of,
                              retries=3, retry_delay=0, runner=self.run)
        self.shape = shape
        self.consumers = self.queue.consumers({TRIAGE_QUEUE: 1, MODEL_QUEUE: 1} if shape == "threads"
                                              else {TRIAGE_QUEUE: 1})
        self.child: Any = None
        if shape == "process":
            context = multiprocessing.get_context("spawn")
            self.model_running = context.Event()  # type: ignore[assignment]
            self.child_spans = context.Queue()
            self.child = context.Process(target=model_process, args=(
                str(self.repo), str(tmp / "queue.sqlite3"), self.hostile, self.model_running, self.child_spans))

    def run(self, job: Any) -> None:
        from bot.service.router import HandlerContext
        from bot.triage.indexes import IndexStore

        ctx = HandlerContext(forge=self.forges[job.pr], skip_checks=("content",), indexes=IndexStore(None),
                             precheck=self.precheck)
        start = time.monotonic()
        if job.route == "precheck":
            self.model_started = start
            self.model_running.set()
        try:
            self.router.dispatch(job, ctx)
        finally:
            end = time.monotonic()
            with self.lock:
                if job.route == "precheck":
                    self.model_spans.append((start, end))
                    self.model_running.clear()
                elif job.route == "triage":
                    self.done[job.pr] = end

    def jobs(self, number: int, head: str, route: str) -> list[Any]:
        from bot.forges.localgit import LocalGitForge

        self.forges[number] = forge = LocalGitForge(repo=self.repo, base="main", head=head, number=number)
        payload = {"action": "synchronize", "number": number, "repository": {"full_name": "bench/taxonomy"},
                   "pull_request": {"number": number, "head": {"sha": forge.pull_request(number).head_sha}}}
        return [j for j in self.router.jobs_for("pull_request", f"d{number}", payload, time.time()) if j.route == route]

    def start(self) -> None:
        if self.child is not None:
            self.child.start()
        for consumer in self.consumers:
            consumer.scheduler.start()
            for _, thread in consumer.worker_threads:
                thread.start()

    def stop(self) -> None:
        for consumer in self.consumers:
            consumer.stop(graceful=True)
        if self.child is not None:
            self.child.terminate()  # SIGTERM: the model worker finishes its job, then stops
            self.child.join(600)

    def triage_latency(self, first: int, keep_model_busy: bool) -> tuple[list[float], int]:
        """Seconds from submission to the end of each of TRIAGED triage jobs, one at a time; and how many
        of them ran while a model job was running the whole time."""
        latencies, overlapped = [], 0
        hostile = 1000 + first
        for number in range(first, first + TRIAGED):
            if keep_model_busy and self.queue.hueys["model"].pending_count() == 0:
                hostile += 1
                self.prepare_hostile(hostile)
            (job,) = self.jobs(number, "known-facts", "triage")
            submitted = time.monotonic()
            self.queue.submit(job)
            while number not in self.done:
                time.sleep(0.005)
            latencies.append(self.done[number] - submitted)
            if self.child is not None:
                while not self.child_spans.empty():
                    self.model_spans.append(self.child_spans.get())
            with self.lock:
                spans = list(self.model_spans) + ([(self.model_started, float("inf"))] if self.model_running.is_set()
                                                  else [])
            overlapped += any(s <= submitted and self.done[number] <= e for s, e in spans)
        return latencies, overlapped

    def prepare_hostile(self, number: int) -> None:
        """Triage a hostile PR directly (its precheck waits for triage's comment), then queue its precheck."""
        from bot.service.router import HandlerContext
        from bot.triage.indexes import IndexStore

        (triage,) = self.jobs(number, self.hostile, "triage")
        self.router.dispatch(triage, HandlerContext(forge=self.forges[number], skip_checks=("content",),
                                                    indexes=IndexStore(None)))
        (precheck,) = [j for j in self.router.jobs_for("pull_request", f"h{number}", triage.payload, time.time())
                       if j.route == "precheck"]
        self.queue.submit(precheck)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def measure(shape: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-queues-") as tmp:
        bench = Bench(Path(tmp), shape)
        bench.start()
        try:
            bench.triage_latency(1, keep_model_busy=False)  # warm-up: imports, git, schemas
            quiet, _ = bench.triage_latency(100, keep_model_busy=False)
            bench.prepare_hostile(999)
            if not bench.model_running.wait(300):
                raise RuntimeError("the model worker never started the hostile precheck")
            hostile, overlapped = bench.triage_latency(200, keep_model_busy=True)
        finally:
            bench.stop()  # waits for the running precheck: bounded by SEEDS
    q50, h50 = statistics.median(quiet), statistics.median(hostile)
    print(f"{shape}: triage latency, {TRIAGED} PRs one at a time, one triage and one model worker: quiet p50 "
          f"{q50:.3f} s p95 {p95(quiet):.3f} s; with a precheck of {SEEDS} questions running p50 {h50:.3f} s p95 "
          f"{p95(hostile):.3f} s; ratio p50 {h50 / q50:.2f}, p95 {p95(hostile) / p95(quiet):.2f} (target <= 1.5); "
          f"{overlapped}/{TRIAGED} triage jobs ran wholly inside a running model job", flush=True)


def main() -> None:
    for shape in os.environ.get("BENCH_QUEUES_SHAPES", "threads process").split():
        measure(shape)


if __name__ == "__main__":
    main()
