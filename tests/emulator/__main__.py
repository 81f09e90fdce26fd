"""Run the emulator on its own: `python -m tests.emulator` prints its URL and serves until killed.

For a test that drives processes which cannot share the test's interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from tests.emulator.server import EmulatorServer


def main() -> None:
    parser = argparse.ArgumentParser(description="A GitHub emulator for tests, on loopback.")
    parser.add_argument("--openapi", help="GitHub's REST description (default: the shared corpus copy)")
    arguments = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with EmulatorServer(openapi_path=arguments.openapi) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
