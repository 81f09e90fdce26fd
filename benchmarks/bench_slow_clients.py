"""`/healthz` latency on a quiet server beside the same server under a slow-body flood (issue 11, item 8).

The flood is 1,100 loopback connections that each declare a 100 KB webhook body and send one
byte (what took the service down before bodies had a deadline and reads a cap). Same process,
same run, the `bot serve` settings; prints the median and 95th percentile of each and the ratio.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from pathlib import Path

FLOOD = 1100
PROBES = 50


def probe(port: int) -> list[float]:
    from tests.security.loopback import healthz

    times = []
    for _ in range(PROBES):
        start = time.perf_counter()
        status = healthz(port)
        times.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"/healthz answered {status}")
    return times


def main() -> None:
    logging.getLogger("bot").setLevel(logging.ERROR)  # one rejection line per flooding connection otherwise
    from huey import SqliteHuey

    from bot.service.app import create_app, raise_descriptor_limit
    from bot.service.queue import JobQueue
    from bot.service.router import Router
    from tests.security.loopback import serving, slow_body

    raise_descriptor_limit(3 * FLOOD)  # both ends of every connection live in this process
    with tempfile.TemporaryDirectory() as tmp:
        queue = JobQueue(SqliteHuey("taxonomist", filename=str(Path(tmp) / "queue.sqlite3")))
        with serving(create_app("bench", queue, Router())) as port:
            quiet = probe(port)
            flood = [slow_body(port) for _ in range(FLOOD)]
            try:
                busy = probe(port)
            finally:
                for conn in flood:
                    conn.close()
    for name, times in (("quiet", quiet), (f"during a {FLOOD}-connection slow-body flood", busy)):
        ordered = sorted(times)
        print(f"/healthz {name}: median {statistics.median(times) * 1000:.1f} ms, "
              f"p95 {ordered[int(0.95 * len(ordered)) - 1] * 1000:.1f} ms ({PROBES} requests)")
    print(f"ratio flood/quiet (median): {statistics.median(busy) / statistics.median(quiet):.2f}x")


if __name__ == "__main__":
    main()
