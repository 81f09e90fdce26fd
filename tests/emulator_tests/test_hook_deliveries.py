"""The app's webhook delivery log: GitHub's record of each attempt, listed newest first and redelivered on
request (every answer validated against GitHub's REST description at teardown)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
import requests

from tests.emulator.plugin import GitHubApp
from tests.emulator.webhooks import Webhook, deliver_logged
from tests.emulator_tests.helpers import Api


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(self.headers["X-GitHub-Delivery"])
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/webhook"
    server.shutdown()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/webhook"


def listing(github_emulator, github_app: GitHubApp, **query: str) -> requests.Response:
    return requests.get(f"{github_emulator.api_url}/app/hook/deliveries", params=query,
                        headers={"Authorization": f"Bearer {github_app.jwt()}"}, timeout=10)


def test_deliveries_are_logged_newest_first_with_their_outcome(github_emulator, github_app, receiver) -> None:
    down = deliver_logged(github_emulator, github_app.app_id, closed_port_url(),
                          Webhook("ping", {"zen": "Keep it simple."}), "s")
    up = deliver_logged(github_emulator, github_app.app_id, receiver, Webhook("ping", {"zen": "Hi."}), "s")
    assert (down["status_code"], down["status"]) == (502, "failed to connect")
    assert up["status_code"] == 202 and Receiver.received == [up["guid"]]
    answer = listing(github_emulator, github_app)
    assert answer.status_code == 200
    assert [d["id"] for d in answer.json()] == [up["id"], down["id"]]
    assert [d["id"] for d in listing(github_emulator, github_app, status="failure").json()] == [down["id"]]
    assert [d["id"] for d in listing(github_emulator, github_app, status="success").json()] == [up["id"]]


def test_the_log_pages_by_cursor(github_emulator, github_app) -> None:
    url = closed_port_url()
    ids = [deliver_logged(github_emulator, github_app.app_id, url, Webhook("ping", {}), "s")["id"] for _ in range(3)]
    seen, answer = [], listing(github_emulator, github_app, per_page="2")
    while True:
        seen += [d["id"] for d in answer.json()]
        if "next" not in answer.links:
            break
        answer = requests.get(answer.links["next"]["url"], headers={"Authorization": f"Bearer {github_app.jwt()}"},
                              timeout=10)
    assert seen == ids[::-1]


def test_a_redelivery_sends_the_same_event_again_and_is_logged(github_emulator, github_app, receiver) -> None:
    webhook = Webhook("ping", {"zen": "Again."})
    failed = deliver_logged(github_emulator, github_app.app_id, closed_port_url(), webhook, "s")
    jwt = {"Authorization": f"Bearer {github_app.jwt()}"}
    answer = requests.post(f"{github_emulator.api_url}/app/hook/deliveries/{failed['id']}/attempts", headers=jwt,
                           timeout=10)
    assert answer.status_code == 202
    newest = listing(github_emulator, github_app).json()[0]
    assert newest["guid"] == webhook.delivery and newest["redelivery"] is True and newest["id"] != failed["id"]
    missing = requests.post(f"{github_emulator.api_url}/app/hook/deliveries/999999/attempts", headers=jwt, timeout=10)
    assert missing.status_code == 404


def test_the_log_is_the_apps_own_and_needs_the_app_jwt(github_emulator, github_app, other_app) -> None:
    deliver_logged(github_emulator, github_app.app_id, closed_port_url(), Webhook("ping", {}), "s")
    assert listing(github_emulator, other_app).json() == []
    with_token = Api(github_emulator, github_app).get("/app/hook/deliveries")
    assert with_token.status_code == 401
