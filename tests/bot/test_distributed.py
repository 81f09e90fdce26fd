"""The several-machine shape end to end (issue 24): two `bot serve --no-worker` web processes with data
directories of their own, sharing one Redis (queue, leases, per-user limits) and one PostgreSQL (the
store), one `bot worker --queue triage` and one `bot worker --queue model`, against the GitHub emulator.

PRs are opened on the emulator and GitHub's deliveries are made by the emulator itself (signed, logged in
the app's delivery log), split across both web processes. The triage worker is SIGKILLed in the middle
of a job and another one started. Then both web processes stop for `OUTAGE` seconds while more PRs open
(half of them with a failed delivery in the log, as GitHub tried and nothing answered); once started
again, reconciliation must find them. Passes when every PR has exactly one completed triage check run
at its head and one comment, and both dashboards list the same PRs.

TAXONOMIST_TEST_DISTRIBUTED_PRS / _MISSED / _OUTAGE_S change the sizes (defaults 200, 20, 60 s: the issue's).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.dashboard.store import Store
from tests.bot.process import SECRET, BotProcess
from tests.bot.services import missing, postgres_server, redis_server
from tests.bot.world import APP_ID, REPO, World, clean_contribution, wait_for
from tests.emulator.webhooks import Webhook, deliver_logged

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(missing("redis") is not None or missing("postgresql") is not None,
                                 reason=f"{missing('redis') or missing('postgresql')}")]

DELIVERED = int(os.environ.get("TAXONOMIST_TEST_DISTRIBUTED_PRS", "200"))
MISSED = int(os.environ.get("TAXONOMIST_TEST_DISTRIBUTED_MISSED", "20"))
OUTAGE = float(os.environ.get("TAXONOMIST_TEST_DISTRIBUTED_OUTAGE_S", "60"))
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

    def open_and_deliver(self, n: int, to: BotProcess) -> tuple[int, dict]:
        number = self.world.open_pull(f"skill-{n}", clean_contribution(f"compositional_skills/linguistics/d{n}"))
        event = Webhook("pull_request", json.loads(self.world.pull_request_event(number, "opened")))
        return number, deliver_logged(self.world.client, APP_ID, f"{to.url}/webhook", event, SECRET)

    def logs(self) -> str:
        return "\n".join(p.logs()[-3000:] for p in (*self.webs, *self.workers.values()))

    def stop(self) -> None:
        for process in (*self.webs, *self.workers.values()):
            process.stop()


def start_cluster(root: Path, corpus: Path, redis_url: str, database_url: str) -> Cluster:
    shared = {"TAXONOMIST_QUEUE_URL": redis_url, "TAXONOMIST_DATABASE_URL": database_url,
              "TAXONOMIST_SKIP_CHECKS": "content", "TAXONOMIST_APP_ID": str(APP_ID),
              "TAXONOMIST_RECONCILE_MINUTES": "10", "TAXONOMIST_WRITE_INTERVAL": "0"}
    webs = [BotProcess.configure(root / f"web{n}", **shared) for n in (1, 2)]
    key = webs[0].env["TAXONOMIST_PRIVATE_KEY"]  # one app: every process signs with its key
    world = World.start(Path(key), corpus)
    for web in webs:
        web.env.update(TAXONOMIST_PRIVATE_KEY=key, TAXONOMIST_GITHUB_API_URL=world.server.url)
    cluster = Cluster(world, Store(database_url), webs, {}, root)
    for web in webs:
        web.start("--no-worker")  # web processes take webhooks and serve the dashboard: no job runs here
    cluster.worker("triage")
    cluster.worker("model")
    return cluster


@pytest.fixture
def cluster(tmp_path: Path, corpus: Path) -> Iterator[Cluster]:
    with redis_server() as redis_url, postgres_server() as database_url:
        running = start_cluster(tmp_path, corpus, redis_url, database_url)
        try:
            yield running
        finally:
            running.stop()
            running.world.stop()


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


def test_two_web_processes_and_two_workers_lose_no_pr(cluster: Cluster) -> None:
    world, (web1, web2) = cluster.world, cluster.webs
    numbers = []
    for n in range(DELIVERED):
        number, delivery = cluster.open_and_deliver(n, web1 if n % 2 else web2)
        assert delivery["status_code"] == 202, delivery
        numbers.append(number)
        if n == DELIVERED // 4:  # the triage worker dies mid-job: its lease lapses and another takes the job
            victim = cluster.workers["triage"]
            wait_for(lambda v=victim: busy(cluster.store, v), timeout=120, logs=cluster.logs,
                     what="the triage worker to be running a job")
            victim.kill()
            cluster.worker("triage")

    for web in cluster.webs:
        web.stop()  # every web process down: GitHub's deliveries fail, no walk runs
    down = time.monotonic()
    missed = []
    for n in range(DELIVERED, DELIVERED + MISSED):
        number, delivery = cluster.open_and_deliver(n, web1) if n % 2 else (
            world.open_pull(f"skill-{n}", clean_contribution(f"compositional_skills/linguistics/d{n}")), None)
        assert delivery is None or delivery["status"] == "failed to connect"
        missed.append(number)
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - down)))
    for web in cluster.webs:
        web.start("--no-worker")

    everyone = numbers + missed
    wait_for(lambda: all(triaged(world).get(n, (0, 0))[0] >= 1 for n in everyone), timeout=600, logs=cluster.logs,
             what=f"every one of {len(everyone)} PRs triaged")
    time.sleep(3)  # anything still queued twice would show now
    counts = triaged(world)
    assert {n: counts[n] for n in everyone if counts[n] != (1, 1)} == {}
    assert listed(web1) == listed(web2) == set(everyone)
    world.client.assert_no_violations()
