"""The dashboard: the pull-request page with 1,000 open PRs, and triage latency with the dashboard on and off.

Render: `GET /` over a store holding 1,000 open PRs (states, blockers, labels, similar groups as
the demo world makes them), served by the real Starlette app in-process, timed end to end (SQLite
read, views, Jinja2, response) over 30 requests after 3 warm-ups; the baseline in the same run is
the same page over 10 PRs. Target on the project's 2-core machine: p95 <= 200 ms at 1,000 PRs.

Triage latency: the real `taxonomist bot serve` process against the GitHub emulator, webhook posted
to check run completed, one sample PR at a time (structural checks only, so the figure is the bot's
own overhead), with `TAXONOMIST_DASHBOARD=false` (baseline) and then with the dashboard on while a
triager reloads `/` every 200 ms, in the same run. Needs the corpus (GitHub's REST description).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRS = 1000
RENDERS = 30
LATENCY_PRS = int(os.environ.get("BENCH_DASHBOARD_PRS", "15"))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


def render_times(count: int, tmp: Path) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) per `GET /` over a store of COUNT open PRs."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from bot.dashboard import web
    from bot.dashboard.demo import Contribution, sample_contributions, seed
    from bot.dashboard.store import Store

    samples = sample_contributions()
    world = [Contribution(n, f"{samples[n % len(samples)].title} <{n}>", f"contributor-{n % 97}",
                          {path.replace("/linguistics/", f"/linguistics/n{n}_"): data
                           for path, data in samples[n % len(samples)].files.items()})
             for n in range(1, count + 1)]
    store = Store(tmp / f"dashboard-{count}.sqlite3")
    seed(store, world, time.time())
    client = TestClient(Starlette(routes=web.routes(store)))
    wall, cpu = [], []
    for i in range(RENDERS + 3):
        started, started_cpu = time.perf_counter(), time.process_time()
        page = client.get("/")
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        assert page.status_code == 200 and page.text.count("data-number=") == count
        if i >= 3:
            wall.append(elapsed)
            cpu.append(elapsed_cpu)
    return wall, cpu


def corpus() -> Path | None:
    path = Path(os.environ.get("TAXONOMIST_CORPUS", ROOT.parent / "shared" / "corpus"))
    return path if (path / "github" / "rest-openapi.json").is_file() else None


def latency(tmp: Path, found: Path, dashboard: bool, count: int) -> list[float]:
    from tests.bot.scenarios import latency_run, start

    world, bot = start(tmp, found, TAXONOMIST_SKIP_CHECKS="content",
                       TAXONOMIST_DASHBOARD="true" if dashboard else "false")
    stop = threading.Event()

    def triager() -> None:  # someone watching the dashboard while PRs come in
        while not stop.is_set():
            bot.get("/")
            stop.wait(0.2)

    watcher = threading.Thread(target=triager, daemon=True)
    try:
        latency_run(world, bot, 2)  # warm-up
        if dashboard:
            watcher.start()
        return latency_run(world, bot, count)
    finally:
        stop.set()
        bot.stop()
        world.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        base, _ = render_times(10, Path(tmp))
        big, cpu = render_times(PRS, Path(tmp))
        print(f"GET / with {PRS} open PRs: median {statistics.median(big) * 1000:.0f} ms, "
              f"p95 {p95(big) * 1000:.0f} ms (target <= 200 ms: {'met' if p95(big) <= 0.2 else 'MISSED'}); "
              f"CPU median {statistics.median(cpu) * 1000:.0f} ms, p95 {p95(cpu) * 1000:.0f} ms; "
              f"baseline with 10 PRs: median {statistics.median(base) * 1000:.1f} ms "
              f"(x{statistics.median(big) / statistics.median(base):.1f}); load average {os.getloadavg()[0]:.1f}")
        found = corpus()
        if found is None:
            print("triage latency: skipped, the corpus (GitHub's REST description) is absent")
            return
        off = latency(Path(tmp) / "off", found, False, LATENCY_PRS)
        on = latency(Path(tmp) / "on", found, True, LATENCY_PRS)
        print(f"triage latency over {LATENCY_PRS} PRs, dashboard off (baseline): median "
              f"{statistics.median(off):.2f} s, p95 {p95(off):.2f} s")
        print(f"triage latency, dashboard on and reloaded every 200 ms: median {statistics.median(on):.2f} s, "
              f"p95 {p95(on):.2f} s (x{statistics.median(on) / statistics.median(off):.2f} of off)")


if __name__ == "__main__":
    main()
