"""Triage latency through the two-machine shape beside the one-machine shape, in the same run, and the time
from restarting every web process to the last missed PR triaged (issue 24), against the GitHub emulator.

One machine: one `bot serve` (SQLite store and queue, triage threads in the process, its model worker
child). Two machines: the distributed test's shape (`tests.bot.cluster`: two `bot serve --no-worker` web
processes, one `bot worker --queue triage`, one `bot worker --queue model`, Redis and PostgreSQL). Both with
two triage threads and structural checks. PRs are opened one every BENCH_DISTRIBUTED_INTERVAL seconds (a
steady trickle, not a backlog) and delivered by the emulator, alternately to each web process; latency is
from the delivery's answer to the PR's completed triage check run as the emulator shows it (polled every
0.2 s), after one PR not counted. Then, in the two-machine shape: both web processes stopped, MISSED PRs
opened (half with a failed delivery in the log), both started; the time to the last of them triaged.
Needs the corpus, redis-server and PostgreSQL's binaries.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.github import corpus

PRS = int(os.environ.get("BENCH_DISTRIBUTED_PRS", "40"))
INTERVAL = float(os.environ.get("BENCH_DISTRIBUTED_INTERVAL", "1.0"))
MISSED = int(os.environ.get("BENCH_DISTRIBUTED_MISSED", "20"))
THREADS = "2"  # triage threads in either shape


class TriageWatch:
    """Polls the emulator and notes when each PR first has a completed triage check run."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        from tests.bot.cluster import triaged

        self.done: dict[int, float] = {}
        self._stop = threading.Event()

        def poll() -> None:
            while not self._stop.wait(0.2):
                now = time.monotonic()
                for number, (runs, _) in triaged(world).items():
                    if runs and number not in self.done:
                        self.done[number] = now

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()

    def wait(self, numbers: list[int], timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while not all(n in self.done for n in numbers):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sum(n not in self.done for n in numbers)} PRs never triaged")
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def trickle(watch: TriageWatch, open_pull: Callable[[int], int], deliver: Callable[[int, int], dict]) -> list[float]:
    """PRS PRs, one every INTERVAL seconds; each one's seconds from its delivery's answer to its triage. One PR
    first, not counted: the first job of a process imports the checks."""
    warm = open_pull(PRS)
    deliver(warm, 0)
    deliver(warm, 1)  # each web process once (the second a redelivery it recognises)
    watch.wait([warm])
    delivered: dict[int, float] = {}
    for n in range(PRS):
        began = time.monotonic()
        number = open_pull(n)
        answer = deliver(number, n)
        assert answer["status_code"] == 202, answer
        delivered[number] = time.monotonic()
        time.sleep(max(0.0, INTERVAL - (time.monotonic() - began)))
    watch.wait(list(delivered))
    return [watch.done[n] - at for n, at in delivered.items()]


def summary(label: str, seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p50, p95 = statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{label}: triage p50 {p50:.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s over {len(ordered)} PRs",
          flush=True)
    return p50, p95


def one_machine(found: Path, root: Path) -> tuple[float, float]:
    import json

    from tests.bot.process import SECRET, BotProcess
    from tests.bot.world import APP_ID, World, clean_contribution
    from tests.emulator.webhooks import Webhook, deliver_logged

    bot = BotProcess.configure(root / "one", TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_APP_ID=str(APP_ID),
                               TAXONOMIST_RECONCILE_MINUTES="10", TAXONOMIST_WORKERS=THREADS)
    world = World.start(Path(bot.env["TAXONOMIST_PRIVATE_KEY"]), found)
    bot.env["TAXONOMIST_GITHUB_API_URL"] = world.server.url
    watch = TriageWatch(world)
    try:
        bot.start()

        def deliver(number: int, n: int) -> dict:
            event = Webhook("pull_request", json.loads(world.pull_request_event(number, "opened")))
            return deliver_logged(world.client, APP_ID, f"{bot.url}/webhook", event, SECRET)

        def open_pull(n: int) -> int:
            return world.open_pull(f"skill-{n}", clean_contribution(f"compositional_skills/linguistics/d{n}"))

        return summary("one machine (serve: SQLite, workers in the process)", trickle(watch, open_pull, deliver))
    finally:
        watch.stop()
        bot.stop()
        world.stop()


def two_machines(found: Path, root: Path) -> tuple[float, float]:
    from tests.bot.cluster import start_cluster
    from tests.bot.services import postgres_server, redis_server

    with redis_server() as redis_url, postgres_server() as database_url:
        cluster = start_cluster(root / "two", found, redis_url, database_url)
        watch = TriageWatch(cluster.world)
        try:
            figures = summary("two machines (2 web, triage and model workers, Redis, PostgreSQL)", trickle(
                watch, cluster.open, lambda number, n: cluster.deliver(number, cluster.webs[n % 2])))
            for web in cluster.webs:
                web.stop()
            missed = []
            for n in range(PRS + 1, PRS + 1 + MISSED):
                number = cluster.open(n)
                if n % 2:
                    cluster.deliver(number, cluster.webs[0])  # fails: nothing listens; it is in the delivery log
                missed.append(number)
            began = time.monotonic()
            for web in cluster.webs:
                web.start("--no-worker")
            healthy = time.monotonic() - began
            watch.wait(missed)
            last = max(watch.done[n] for n in missed) - began
            print(f"restart of both web processes to the last of {MISSED} missed PRs triaged: {last:.1f} s "
                  f"(both healthy after {healthy:.1f} s; half of them with a failed delivery in the log)", flush=True)
            return figures
        finally:
            watch.stop()
            cluster.stop()
            cluster.world.stop()


def main() -> None:
    found = corpus()
    if found is None:
        print("skipped: the corpus (GitHub's REST description) is absent; set TAXONOMIST_CORPUS")
        return
    from tests.bot.services import missing

    absent = missing("redis") or missing("postgresql")
    if absent:
        print(f"skipped: {absent}")
        return
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        one = one_machine(found, Path(tmp))
        two = two_machines(found, Path(tmp))
    print(f"two machines / one machine: p50 {two[0] / one[0]:.2f}x, p95 {two[1] / one[1]:.2f}x "
          f"({PRS} PRs, one every {INTERVAL:.1f} s, {THREADS} triage threads each)", flush=True)


if __name__ == "__main__":
    main()
