"""Slow clients and malformed payloads (issue 11, item 8), against the real app on loopback.

A flood of connections that declare a 100 KB body and send one byte must not take `/healthz`
down: bodies have a deadline (408), at most a few are read at once (503 beyond, connection
closed), and a client that trickles its headers is disconnected. Counts and waits are bounded.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huey import SqliteHuey
from starlette.testclient import TestClient

from bot.service.app import create_app, raise_descriptor_limit
from bot.service.queue import JobQueue
from bot.service.router import Router
from bot.service.signature import sign
from tests.security.loopback import WAIT, healthz, serving, slow_body

SECRET = "slow-client-secret"
FLOOD = 300  # connections, each one byte into a declared 100 KB body


def _app(tmp: Path) -> Any:
    queue = JobQueue(SqliteHuey("taxonomist", filename=str(tmp / "queue.sqlite3")))
    return create_app(SECRET, queue, Router(), body_deadline=1.0, max_bodies=8)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    with serving(_app(tmp_path), header_deadline=1.0, max_connections=FLOOD + 100) as port:
        yield port


def _status(conn: socket.socket) -> int:
    """The status code the server answered on `conn` (it must answer within WAIT)."""
    head = conn.recv(64)
    return int(head.split(b" ", 2)[1])


def test_healthz_answers_during_a_slow_body_flood_and_every_slow_client_is_cut_off(server: int) -> None:
    flood = [slow_body(server) for _ in range(FLOOD)]
    try:
        assert [healthz(server) for _ in range(5)] == [200] * 5
        statuses = [_status(conn) for conn in flood]
    finally:
        for conn in flood:
            conn.close()
    assert set(statuses) <= {408, 503}
    assert statuses.count(408) >= 1 and statuses.count(503) >= FLOOD - 8 - 8  # a few bodies read at once
    assert healthz(server) == 200


def test_a_client_that_trickles_its_headers_is_disconnected(server: int) -> None:
    slow = [socket.create_connection(("127.0.0.1", server), timeout=WAIT) for _ in range(20)]
    try:
        for conn in slow:
            conn.sendall(b"POST /webhook HTTP/1.1\r\nHost: b")
        assert healthz(server) == 200
        assert [conn.recv(1) for conn in slow] == [b""] * 20  # closed by the server, not by the timeout
    finally:
        for conn in slow:
            conn.close()


def _signed(client: TestClient, body: bytes, event: str = "pull_request") -> Any:
    return client.post("/webhook", content=body, headers={
        "X-Hub-Signature-256": sign(SECRET, body), "X-GitHub-Event": event, "X-GitHub-Delivery": "d-1",
        "Content-Type": "application/json"})


@pytest.mark.parametrize("payload", [
    {"action": "opened", "number": "seven"},
    {"action": "opened", "number": True},
    {"action": "opened", "pull_request": {"number": 1, "head": "abc"}},
    {"action": "opened", "repository": "octo/taxonomy"},
    {"action": ["opened"]},
    {"action": "created", "issue": {"number": 2, "pull_request": {}}, "comment": {"id": "x"}},
    {"action": "completed", "check_run": {"pull_requests": [{"number": None}]}},
    {"action": "opened", "installation": {"id": 1.5}},
])
def test_signed_payload_with_wrong_types_gets_400(tmp_path: Path, payload: dict[str, Any]) -> None:
    event = "issue_comment" if "issue" in payload else "check_run" if "check_run" in payload else "pull_request"
    with TestClient(_app(tmp_path), raise_server_exceptions=False) as client:
        reply = _signed(client, json.dumps(payload).encode(), event)
    assert reply.status_code == 400, reply.text
    assert "payload" in reply.json()["error"]


@pytest.mark.parametrize("depth", [40, 100_000])
def test_signed_deeply_nested_payload_gets_400(tmp_path: Path, depth: int) -> None:
    body = b'{"action": "opened", "x": ' + b"[" * depth + b"]" * depth + b"}"
    with TestClient(_app(tmp_path), raise_server_exceptions=False) as client:
        reply = _signed(client, body)
    assert reply.status_code == 400, reply.text


def test_serve_lifts_the_open_files_limit_within_the_hard_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = soft + 1 if hard == resource.RLIM_INFINITY or soft < hard else soft
    assert raise_descriptor_limit(wanted) >= wanted
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= wanted
