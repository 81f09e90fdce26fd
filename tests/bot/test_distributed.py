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

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.cluster import Cluster, busy, listed, start_cluster, triaged
from tests.bot.services import missing, postgres_server, redis_server
from tests.bot.world import wait_for

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(missing("redis") is not None or missing("postgresql") is not None,
                                 reason=f"{missing('redis') or missing('postgresql')}")]

DELIVERED = int(os.environ.get("TAXONOMIST_TEST_DISTRIBUTED_PRS", "200"))
MISSED = int(os.environ.get("TAXONOMIST_TEST_DISTRIBUTED_MISSED", "20"))
OUTAGE = float(os.environ.get("TAXONOMIST_TEST_DISTRIBUTED_OUTAGE_S", "60"))


@pytest.fixture
def cluster(tmp_path: Path, corpus: Path) -> Iterator[Cluster]:
    with redis_server() as redis_url, postgres_server() as database_url:
        running = start_cluster(tmp_path, corpus, redis_url, database_url)
        try:
            yield running
        finally:
            running.stop()
            running.world.stop()


@pytest.mark.timeout(900)  # about 130 s on 2 idle cores; far longer when other work starves it of CPU
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
        number, delivery = cluster.open_and_deliver(n, web1) if n % 2 else (cluster.open(n), None)
        assert delivery is None or delivery["status"] == "failed to connect"
        missed.append(number)
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - down)))
    for web in cluster.webs:
        web.start("--no-worker")

    everyone = numbers + missed
    def all_triaged() -> bool:
        time.sleep(2)  # the emulator's whole state is a costly read, served by the same process as the bot's calls
        counts = triaged(world)
        return all(counts.get(n, (0, 0))[0] >= 1 for n in everyone)

    wait_for(all_triaged, timeout=600, logs=cluster.logs, what=f"every one of {len(everyone)} PRs triaged")
    time.sleep(3)  # anything still queued twice would show now
    counts = triaged(world)
    assert {n: counts[n] for n in everyone if counts[n] != (1, 1)} == {}
    assert listed(web1) == listed(web2) == set(everyone)
    world.client.assert_no_violations()
