"""The dashboard: the pull-request page with 1,000 open PRs, and triage latency with the dashboard on and off.

Render: `GET /` over a store holding 1,000 open PRs (states, blockers, labels, similar groups as
the demo world makes them), served by the real Starlette app in-process, timed end to end (SQLite
read, views, Jinja2, response) over 30 requests after 3 warm-ups; the baseline in the same run is
the same page over 10 PRs. Target on the project's 2-core machine: p95 <= 200 ms at 1,000 PRs.

Webhook under page views (issue 22): the webhook app (the same `create_app` as `bot serve`, over the
300-PR demo world) served by uvicorn in its own process; signed `ping` deliveries posted one at a
time and timed to their answer, first on a quiet server (baseline), then while 100 clients reload
`/` as fast as they can: with the dashboard on the webhook's port (its own bounded thread pool),
then on its own port (`TAXONOMIST_DASHBOARD_PORT`: a process of its own), in the same run. Prints
p50 and p99 of each, the ratio, and how many page views were served or turned away (503).

Similar PRs: on the 300-PR demo world (the demo pairs PRs that add the same leaf, as the duplicate
check's whole-leaf matches), the largest group `/similar` shows, and the share of groups in which
every two PRs have a stated match of their own (never linked only through a third PR).

Triage latency: the real `taxonomist bot serve` process against the GitHub emulator, webhook posted
to check run completed, one sample PR at a time (structural checks only, so the figure is the bot's
own overhead), with `TAXONOMIST_DASHBOARD=false` (baseline) and then with the dashboard on while a
triager reloads `/` every 200 ms, in the same run. Needs the corpus (GitHub's REST description).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.github import corpus

ROOT = Path(__file__).resolve().parents[1]
PRS = 1000
RENDERS = 30
LATENCY_PRS = int(os.environ.get("BENCH_DASHBOARD_PRS", "15"))
PAGE_CLIENTS = 100
PINGS = 200
PING_EVERY = 0.1  # seconds: 200 deliveries over at least 20 s of page views
SECRET = b"bench"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


def render_times(count: int, tmp: Path) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) per `GET /` over a store of COUNT open PRs."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from bot.dashboard import web
    from bot.dashboard.demo import Contribution, sample_contributions, seed
    from bot.dashboard.store import Store
    from bot.dashboard.views import PAGE_SIZE

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
        assert page.status_code == 200 and page.text.count("data-number=") == min(count, PAGE_SIZE)
        assert f"of {count} open pull requests" in page.text
        if i >= 3:
            wall.append(elapsed)
            cpu.append(elapsed_cpu)
    return wall, cpu


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


def serve(data_dir: str, port: str, dashboard_port: str) -> None:
    """The server process of `webhook_under_page_views`: the webhook, and the dashboard beside it on the same
    port (DASHBOARD_PORT 0) or in a process of its own, as `bot serve` runs them."""
    import multiprocessing

    import uvicorn
    from huey import SqliteHuey

    from bot.cli import serve_dashboard
    from bot.dashboard.demo import build_world
    from bot.dashboard.web import Access
    from bot.service.app import create_app, serve_options
    from bot.service.queue import JobQueue
    from bot.service.router import Router

    store = build_world(Path(data_dir), corpus(), 300, time.time())
    queue = JobQueue(SqliteHuey("taxonomist", filename=str(Path(data_dir) / "queue.sqlite3")))
    own = int(dashboard_port) > 0
    if own:
        multiprocessing.get_context("spawn").Process(target=serve_dashboard, daemon=True, args=(
            Path(data_dir), "127.0.0.1", int(dashboard_port), Access())).start()
    app = create_app(SECRET.decode(), queue, Router(), store=store, dashboard=not own)
    uvicorn.run(app, host="127.0.0.1", port=int(port), **{**serve_options(), "log_level": "warning"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ping(port: int, n: int) -> float:
    body = json.dumps({"zen": "Design for failure.", "hook_id": n}).encode()
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": f"bench-{n}", "Content-Type": "application/json",
               "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()}
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/webhook", body, headers)
        if conn.getresponse().status != 200:
            raise RuntimeError("the ping was not answered 200")
    finally:
        conn.close()
    return time.perf_counter() - started


def paced_ping(port: int, n: int) -> float:
    """A ping, then the rest of PING_EVERY: the deliveries span the same time, however fast they are answered."""
    took = ping(port, n)
    time.sleep(max(0.0, PING_EVERY - took))
    return took


def page_status(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def page_views(port: int, stop: threading.Event, answers: dict[int, int]) -> None:
    while not stop.is_set():
        status = page_status(port)
        answers[status] = answers.get(status, 0) + 1


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def under_page_views(tmp: Path, own_port: bool) -> tuple[list[float], list[float], dict[int, int]]:
    """(quiet pings, pings beside the page views, page-view answers by status) for one way of serving."""
    port, pages_port = free_port(), free_port() if own_port else 0
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(tmp), str(port), str(pages_port)],
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        for _ in range(600):
            try:
                ping(port, -1)
                break
            except OSError:
                time.sleep(0.5)
        quiet = [paced_ping(port, n) for n in range(PINGS)]
        for _ in range(600):  # the dashboard's own process starts beside the webhook's
            if page_status(pages_port or port) == 200:
                break
            time.sleep(0.5)
        stop, answers = threading.Event(), {}
        clients = [threading.Thread(target=page_views, args=(pages_port or port, stop, answers), daemon=True)
                   for _ in range(PAGE_CLIENTS)]
        for client in clients:
            client.start()
        time.sleep(2)
        loaded = [paced_ping(port, PINGS + n) for n in range(PINGS)]
        stop.set()
        for client in clients:
            client.join(30)
    finally:
        server.terminate()
        server.wait(30)
    return quiet, loaded, answers


def webhook_under_page_views(tmp: Path) -> None:
    shared = under_page_views(tmp / "shared", own_port=False)
    own = under_page_views(tmp / "own", own_port=True)
    quiet = shared[0]
    print(f"webhook ping, quiet (baseline): p50 {statistics.median(quiet) * 1000:.1f} ms, "
          f"p99 {p99(quiet) * 1000:.1f} ms ({PINGS} deliveries)")
    for name, (_, loaded, answers) in (("the dashboard on the webhook's port", shared),
                                       ("the dashboard on its own port", own)):
        served = answers.get(200, 0)
        print(f"webhook ping beside {PAGE_CLIENTS} clients reloading /, {name}: p50 "
              f"{statistics.median(loaded) * 1000:.1f} ms, p99 {p99(loaded) * 1000:.1f} ms "
              f"(x{p99(loaded) / p99(quiet):.1f} of quiet at p99; GitHub waits 10 s); page views meanwhile: "
              f"{served} served, {answers.get(503, 0)} turned away (503), "
              f"{sum(answers.values()) - served - answers.get(503, 0)} failed; load average {os.getloadavg()[0]:.1f}")


def similar_figures(tmp: Path) -> None:
    from itertools import combinations

    from bot.dashboard import views
    from bot.dashboard.demo import build_world

    store = build_world(tmp / "similar", corpus(), 300, time.time())
    rows = store.open_pulls()
    groups = views.similar_groups(rows)
    if not groups:
        print("similar PRs: no group in the demo world (the corpus is absent)")
        return
    stated = sum(1 for g in groups if all(
        any({p.a.number, p.b.number} == {x.number, y.number} for p in g.pairs) for x, y in combinations(g.prs, 2)))
    print(f"similar PRs on the {len(rows)}-PR demo world: {len(groups)} groups, the largest of "
          f"{max(len(g.prs) for g in groups)} PRs; every pair of PRs has a stated match in {stated} of "
          f"{len(groups)} groups ({stated / len(groups):.0%})")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        similar_figures(Path(tmp))
        webhook_under_page_views(Path(tmp))
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
    if sys.argv[1:2] == ["--serve"]:
        serve(*sys.argv[2:5])
    else:
        main()
