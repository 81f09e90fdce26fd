"""The several-machine shape of the bot as real processes, for the distributed test and its benchmark: two
`bot serve --no-worker` web processes with data directories of their own, a `bot worker --queue triage` and
a `bot worker --queue model`, all on one Redis and one PostgreSQL, against the GitHub emulator; and
what the emulator shows of it (completed triage runs and comments per PR; what a dashboard lists)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from bot.dashboard.store import Store
from tests.bot.process import SECRET, BotProcess
from tests.bot.world import APP_ID, REPO, World, clean_contribution
from tests.emulator.webhooks import Webhook, deliver_logged

PR_LINK = re.compile(re.escape(REPO) + r"#(\d+)")


@dataclass
class Cluster:
    """The processes of the several-machine shape and the emulated GitHub they serve."""

    world: World
    store: Store  # the shared PostgreSQL, read as the test's own client
    webs: list[BotProcess]
    workers: dict[str, BotProcess]
    root: Path

    def worker(self, queue: str) -> BotProcess:
        process = BotProcess(data_dir=self.root / f"{queue}-worker-{time.time_ns()}" / "data",
                             env=dict(self.webs[0].env))
        process.data_dir.mkdir(parents=True)
        self.workers[queue] = process.start("--queue", queue, "--workers", "2", command="worker")
        return process

    def open(self, n: int) -> int:
        return self.world.open_pull(f"skill-{n}", clean_contribution(f"compositional_skills/linguistics/d{n}"))

    def deliver(self, number: int, to: BotProcess) -> dict:
        """GitHub's `pull_request opened` delivery, made by the emulator (signed, in the delivery log)."""
        event = Webhook("pull_request", json.loads(self.world.pull_request_event(number, "opened")))
        return deliver_logged(self.world.client, APP_ID, f"{to.url}/webhook", event, SECRET)

    def open_and_deliver(self, n: int, to: BotProcess) -> tuple[int, dict]:
        number = self.open(n)
        return number, self.deliver(number, to)

    def logs(self) -> str:
        return "\n".join(p.logs()[-3000:] for p in (*self.webs, *self.workers.values()))

    def stop(self) -> None:
        for process in (*self.webs, *self.workers.values()):
            process.stop()


def start_cluster(root: Path, corpus: Path, redis_url: str, database_url: str, **settings: str) -> Cluster:
    shared = {"TAXONOMIST_QUEUE_URL": redis_url, "TAXONOMIST_DATABASE_URL": database_url,
              "TAXONOMIST_SKIP_CHECKS": "content", "TAXONOMIST_APP_ID": str(APP_ID),
              "TAXONOMIST_RECONCILE_MINUTES": "10", "TAXONOMIST_WRITE_INTERVAL": "0", **settings}
    webs = [BotProcess.configure(root / f"web{n}", **shared) for n in (1, 2)]
    key = webs[0].env["TAXONOMIST_PRIVATE_KEY"]  # one app: every process signs with its key
    world = World.start(Path(key), corpus)
    # GitHub gives an installation 5,000 to 12,500 calls an hour by its size (15,000 on Enterprise Cloud):
    # 220 PRs opened within minutes, with a restart's reconciliation, can spend the smallest allowance on a
    # slow machine. The limit's own handling is tested elsewhere (tests/bot/test_ratelimit.py).
    world.client.settings(rate_limit=15000)
    for web in webs:
        web.env.update(TAXONOMIST_PRIVATE_KEY=key, TAXONOMIST_GITHUB_API_URL=world.server.url)
    cluster = Cluster(world, Store(database_url), webs, {}, root)
    for web in webs:
        web.start("--no-worker")  # web processes take webhooks and serve the dashboard: no job runs here
    cluster.worker("triage")
    cluster.worker("model")
    return cluster


def triaged(world: World) -> dict[int, tuple[int, int]]:
    """Per open PR: completed triage check runs at its head, and the bot's comments."""
    state = world.client.state(REPO)
    runs: dict[str, int] = {}
    for run in state["check_runs"]:
        if run["name"] == "taxonomist/triage" and run["status"] == "completed":
            runs[run["head_sha"]] = runs.get(run["head_sha"], 0) + 1
    comments: dict[int, int] = {}
    for comment in state["comments"]:
        number = int(comment["issue_url"].rsplit("/", 1)[1])
        comments[number] = comments.get(number, 0) + 1
    return {int(n): (runs.get(pull["head_sha"], 0), comments.get(int(n), 0)) for n, pull in state["pulls"].items()}


def listed(web: BotProcess) -> set[int]:
    """The PRs a dashboard lists (every page of `/`)."""
    numbers: set[int] = set()
    for page in range(1, 100):
        html = web.get(f"/?page={page}")
        found = {int(n) for n in PR_LINK.findall(html)}
        if not found - numbers:
            break
        numbers |= found
    return numbers


def busy(store: Store, worker: BotProcess) -> bool:
    """Whether a thread of WORKER's process is running a job now (the store's worker rows)."""
    assert worker.proc is not None
    return any(f":{worker.proc.pid}/" in w["id"] and w["current_job"] for w in store.workers())
