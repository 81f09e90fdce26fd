"""Scenarios run by both the tests and `benchmarks/bench_bot.py`: latency, and faults with crashes."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huey import SqliteHuey

from bot.service.queue import JobQueue
from tests.bot.process import BotProcess
from tests.bot.world import APP_ID, REPO, World, clean_contribution, contribution_files, settled, wait_for

EXPECTED_LABELS = {"skill", "triage-needed"}
LEAF = "compositional_skills/linguistics/antonyms"
# About 20% of API calls fail, each rule drawn independently: 1 - (0.9 * 0.96 * 0.97 * 0.98 * 0.97) = 0.20
FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": "status", "status": 502, "probability": 0.10},
    {"kind": "status", "status": 500, "probability": 0.04},
    {"kind": "rate_limit", "retry_after": 1, "probability": 0.03},
    {"kind": "secondary_rate_limit", "retry_after": 1, "probability": 0.02},
    {"kind": "delay", "delay_s": 2.5, "probability": 0.03},  # past the bot's 2 s timeout: a timed-out call
)


def start(tmp: Path, corpus: Path, **settings: str) -> tuple[World, BotProcess]:
    bot = BotProcess.configure(tmp, TAXONOMIST_APP_ID=str(APP_ID), **settings)
    world = World.start(Path(bot.env["TAXONOMIST_PRIVATE_KEY"]), corpus)
    bot.env["TAXONOMIST_GITHUB_API_URL"] = world.server.url
    return world, bot.start()


def latency_run(world: World, bot: BotProcess, count: int) -> list[float]:
    """Seconds from posting `opened` to a completed check run at the head, one PR at a time."""
    seconds = []
    for i in range(count):
        number = world.open_pull(f"latency-{i}-{time.time_ns()}", contribution_files())
        head = world.client.pull(REPO, number)["pull_request"]["head"]["sha"]
        body = world.pull_request_event(number, "opened")
        started = time.perf_counter()
        assert bot.post("pull_request", body).status == 202
        wait_for(lambda h=head: any(r["status"] == "completed" for r in world.check_runs(h)), timeout=120,
                 logs=bot.logs)
        seconds.append(time.perf_counter() - started)
    return seconds


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


@dataclass
class FaultOutcome:
    prs: int
    events: int
    kills: int
    api_calls: int = 0
    faults_hit: int = 0
    completed_at_head: int = 0
    one_comment: int = 0
    right_labels: int = 0
    right_conclusion: int = 0
    stuck_check_runs: int = 0
    unfinished_jobs: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def all_good(self) -> bool:
        return self.prs == self.completed_at_head == self.one_comment == self.right_labels == self.right_conclusion \
            and self.stuck_check_runs == 0 and self.unfinished_jobs == 0


def fault_run(world: World, bot: BotProcess, prs: int, kills: int = 3, kill_every: float = 2.0,
              timeout: float = 600) -> FaultOutcome:
    """`prs` PRs opened, every third pushed to again; ~20% of API calls fail; the bot SIGKILLed `kills` times."""
    numbers = [world.open_pull(f"fault-{i}-{time.time_ns()}", contribution_files()) for i in range(prs)]
    events = [(n, "opened") for n in numbers]
    fixed = numbers[::3]
    for n in fixed:  # a second push while the first is still queued: the newest head must win
        world.client.push_to_pull(REPO, n, clean_contribution(LEAF))
        events.append((n, "synchronize"))
    for rule in FAULTS:
        world.client.inject_fault(seed=len(rule), **rule)
    started = time.perf_counter()
    for n, action in events:
        assert bot.post("pull_request", world.pull_request_event(n, action)).status == 202
    for _ in range(kills):  # crash mid-run, then start again: recovery must lose nothing
        time.sleep(kill_every)
        bot.kill()
        bot.start()
    outcome = FaultOutcome(prs=prs, events=len(events), kills=kills)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and sum(bool(settled(world, n, EXPECTED_LABELS)) for n in numbers) < prs:
        time.sleep(0.5)
    queue = JobQueue(SqliteHuey("taxonomist", filename=str(bot.data_dir / "queue.sqlite3")))
    while time.monotonic() < deadline and queue.unfinished():  # the review workflow's jobs too
        time.sleep(0.5)
    outcome.seconds = time.perf_counter() - started
    outcome.faults_hit = sum(f["hits"] for f in world.client.faults())
    world.client.clear_faults()
    outcome.api_calls = len(world.client.calls())
    state = world.client.state(REPO)
    for n in numbers:
        head = state["pulls"][str(n)]["head_sha"]
        runs = [r for r in state["check_runs"] if r["head_sha"] == head]
        comments = [c for c in state["comments"] if c["issue_url"].endswith(f"/issues/{n}")]
        outcome.completed_at_head += bool(runs) and all(r["status"] == "completed" for r in runs)
        outcome.one_comment += len(comments) == 1 and head[:7] in comments[0]["body"]
        outcome.right_labels += set(state["labels"].get(str(n), [])) == EXPECTED_LABELS
        want = "success" if n in fixed else "failure"
        outcome.right_conclusion += bool(runs) and runs[-1]["conclusion"] == want \
            and "could not run" not in runs[-1]["output"]["title"]
        if not (runs and comments):
            outcome.problems.append(f"PR {n}: {len(runs)} check runs, {len(comments)} comments")
    outcome.stuck_check_runs = sum(r["status"] != "completed" for r in state["check_runs"])
    bot.stop()
    unfinished = queue.unfinished()
    outcome.unfinished_jobs = len(unfinished)
    outcome.problems += [f"unfinished job {j.route} for PR {j.pr} ({j.event} {j.action})" for j in unfinished]
    return outcome
