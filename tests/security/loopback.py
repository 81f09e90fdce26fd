"""The bot's app served by uvicorn in a thread on a loopback port, as `bot serve` serves it."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from bot.service.app import serve_options

WAIT = 10.0  # the most any single socket operation may wait


@contextmanager
def serving(app: Any, **options: Any) -> Iterator[int]:
    """Serve `app` with `bot.service.app.serve_options(**options)`; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = uvicorn.Server(uvicorn.Config(app, **serve_options(**options)))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if running.started:
                break
            thread.join(0.05)
        if not running.started:
            raise RuntimeError("uvicorn did not start")
        yield sock.getsockname()[1]
    finally:
        running.should_exit = True
        thread.join(WAIT)
        sock.close()


def slow_body(port: int, declared: int = 102_400) -> socket.socket:
    """A connection that declares a `declared`-byte webhook body and sends one byte of it."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    conn.sendall(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
                 b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: slow\r\nX-Hub-Signature-256: sha256=00\r\n"
                 + f"Content-Length: {declared}\r\n\r\n{{".encode())
    return conn


def healthz(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    finally:
        conn.close()
