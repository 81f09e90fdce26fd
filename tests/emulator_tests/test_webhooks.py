"""Webhook deliveries built from GitHub's real examples, filled with emulator state and signed."""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.emulator.webhooks import HOOKSHOT_AGENT, WebhookFactory, deliver, header_errors, payload_errors, sign
from tests.emulator_tests.helpers import REPO, seed

pytestmark = pytest.mark.corpus
SECRET = "webhook-secret"


@pytest.fixture
def factory(github_emulator, github_app, corpus: Path) -> WebhookFactory:
    return WebhookFactory(github_emulator, github_app.installation_id, corpus)


def test_pull_request_events_carry_the_emulator_state(github_emulator, github_app, factory) -> None:
    pull = seed(github_emulator)
    opened = factory.pull_request(REPO, 1)
    assert opened.event == "pull_request" and opened.payload["action"] == "opened"
    assert opened.payload["number"] == 1 and opened.payload["pull_request"]["head"]["sha"] == pull["head"]["sha"]
    assert opened.payload["repository"]["full_name"] == REPO and opened.payload["sender"]["login"] == "alice"
    assert opened.payload["installation"]["id"] == github_app.installation_id
    assert opened.payload["organization"]["login"] == "octo-org"
    pushed = github_emulator.push_to_pull(REPO, 1, {"more.txt": "x\n"})
    synchronize = factory.pull_request(REPO, 1, "synchronize", before=pushed["before"])
    assert (synchronize.payload["before"], synchronize.payload["after"]) == (pushed["before"], pushed["sha"])
    github_emulator.edit_pull(REPO, 1, state="closed")
    closed = factory.pull_request(REPO, 1, "closed")
    assert closed.payload["pull_request"]["state"] == "closed" and closed.payload["pull_request"]["merged"] is False


def test_pr_comments_and_reviews_name_the_pull_request(github_emulator, factory) -> None:
    seed(github_emulator)
    comment = github_emulator.comment_as("carol", REPO, 1, "/lgtm")
    created = factory.issue_comment(REPO, 1, comment)
    assert created.payload["issue"]["pull_request"]["url"].endswith(f"/repos/{REPO}/pulls/1")
    assert created.payload["comment"]["body"] == "/lgtm" and created.payload["sender"]["login"] == "carol"
    edited = github_emulator.edit_comment_as(REPO, comment["id"], "/lgtm cancel")
    changed = factory.issue_comment(REPO, 1, edited, "edited", previous_body="/lgtm")
    assert changed.payload["changes"] == {"body": {"from": "/lgtm"}}
    assert factory.issue_comment(REPO, 1, edited, "deleted").payload["action"] == "deleted"
    review = factory.pull_request_review(REPO, 1, github_emulator.review_as("carol", REPO, 1))
    assert review.payload["review"]["state"] == "approved" and review.payload["pull_request"]["number"] == 1


def test_check_push_installation_and_ping_events(github_emulator, github_app, factory) -> None:
    pull = seed(github_emulator)
    from tests.emulator_tests.helpers import Api

    run = Api(github_emulator, github_app).call(
        "POST", f"/repos/{REPO}/check-runs", json={"name": "taxonomist/triage", "head_sha": pull["head"]["sha"]}).json()
    rerun = factory.check_run(REPO, run, sender="carol")
    assert rerun.payload["action"] == "rerequested" and rerun.payload["check_run"]["id"] == run["id"]
    suite = factory.check_suite(REPO, pull["head"]["sha"], run["check_suite"]["id"], sender="carol")
    assert suite.payload["check_suite"]["head_sha"] == pull["head"]["sha"]
    sha = github_emulator.push(REPO, {"README.md": "v2\n"}, message="Docs", author="carol")
    push = factory.push(REPO, "refs/heads/main", pull["base"]["sha"], sha, sender="carol")
    assert push.payload["after"] == sha and push.payload["head_commit"]["message"] == "Docs"
    installed = factory.installation(sender="carol", repositories=[REPO])
    assert installed.payload["installation"]["id"] == github_app.installation_id
    assert factory.ping(github_app.app_id).payload["hook"]["app_id"] == github_app.app_id


def test_payloads_that_break_the_webhook_description_are_reported(corpus: Path) -> None:
    problems = payload_errors(str(corpus / "github" / "webhooks-openapi.json"), "pull_request", {"action": "opened"})
    assert "(root): 'number' is a required property" in problems


class _Receiver(BaseHTTPRequestHandler):
    """Answers 202 to a correctly signed delivery and 401 otherwise, remembering the headers."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, self.headers["X-Hub-Signature-256"])
        self.seen.append(dict(self.headers))
        self.send_response(202 if valid else 401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    server.shutdown()
    server.server_close()


def test_deliveries_are_signed_as_github_signs_them(github_emulator, factory, receiver: str) -> None:
    seed(github_emulator)
    webhook = factory.pull_request(REPO, 1)
    assert sign(SECRET, webhook.body()) == "sha256=" + hmac.new(SECRET.encode(), webhook.body(),
                                                                 hashlib.sha256).hexdigest()
    assert deliver(receiver, webhook, SECRET).status_code == 202
    headers = _Receiver.seen[-1]
    assert headers["X-GitHub-Event"] == "pull_request" and headers["User-Agent"] == HOOKSHOT_AGENT
    assert str(uuid.UUID(headers["X-GitHub-Delivery"])) == webhook.delivery
    assert deliver(receiver, webhook, "wrong-secret").status_code == 401


def test_deliveries_carry_every_header_the_description_requires(github_emulator, factory, corpus: Path) -> None:
    seed(github_emulator)
    description = str(corpus / "github" / "webhooks-openapi.json")
    comment = github_emulator.comment_as("carol", REPO, 1, "/hold")
    for webhook in (factory.pull_request(REPO, 1), factory.issue_comment(REPO, 1, comment)):
        assert header_errors(description, webhook, SECRET) == []
