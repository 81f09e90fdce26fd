"""Serve an `Emulator` with uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import uvicorn

from tests.emulator.app import Emulator


def corpus_dir() -> Path:
    """The shared real-world corpus: $TAXONOMIST_CORPUS, else ../shared/corpus beside the repository."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
    return Path(os.environ.get("TAXONOMIST_CORPUS", default))


def rest_description_path() -> Path:
    return corpus_dir() / "github" / "rest-openapi.json"


class EmulatorServer:
    """A running emulator: `url` is its API base (give it to PyGithub as `base_url`)."""

    def __init__(self, openapi_path: str | Path | None = None, host: str = "127.0.0.1") -> None:
        path = rest_description_path() if openapi_path is None else Path(openapi_path)
        self.emulator = Emulator(str(path))
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it small answers wait on delayed ACKs (40 ms each).
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, 0))
        self.host, self.port = self._socket.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        config = uvicorn.Config(self.emulator.asgi, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"github-emulator:{self.port}", daemon=True)

    def start(self, timeout_s: float = 10.0) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the GitHub emulator did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
