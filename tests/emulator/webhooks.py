"""Webhook deliveries as GitHub sends them: payloads from GitHub's real examples, filled with the
emulator's state, signed with HMAC-SHA256 over the raw body, with GitHub's delivery headers.

Each payload starts from the first example of its event and action in `webhook-examples.json`
(so fields the emulator does not model keep GitHub's real values), then every field that names
the repository, the pull request, the people and the installation is replaced with the
emulator's. When `webhooks-openapi.json` is present the result is checked against GitHub's
webhook description and a payload that breaks it raises `WebhookShapeError`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import requests
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.emulator.client import EmulatorClient
from tests.emulator.server import corpus_dir

HOOKSHOT_AGENT = "GitHub-Hookshot/0c3f2a1"
_WEBHOOKS_URI = "urn:github:webhooks-openapi"


class WebhookShapeError(AssertionError):
    """A built payload breaks GitHub's webhook description (a bug in the builder or in its inputs)."""


def sign(secret: str | bytes, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for BODY."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass
class Webhook:
    """One delivery: the event name, its payload and a delivery id (a UUID, as GitHub's)."""

    event: str
    payload: dict[str, Any]
    delivery: str = field(default_factory=lambda: str(uuid.uuid4()))
    hook_id: int = 1

    def body(self) -> bytes:
        return json.dumps(self.payload, separators=(",", ":")).encode()

    def headers(self, secret: str | bytes, body: bytes | None = None) -> dict[str, str]:
        body = self.body() if body is None else body
        installation = self.payload.get("installation") or {}
        target = self.payload.get("repository", {}).get("id", installation.get("id", 0))
        return {
            "Content-Type": "application/json", "User-Agent": HOOKSHOT_AGENT, "X-GitHub-Event": self.event,
            "X-GitHub-Delivery": self.delivery, "X-GitHub-Hook-ID": str(self.hook_id),
            "X-GitHub-Hook-Installation-Target-ID": str(target),
            "X-GitHub-Hook-Installation-Target-Type": "integration" if installation else "repository",
            "X-Hub-Signature-256": sign(secret, body),
        }


def deliver(url: str, webhook: Webhook, secret: str | bytes, timeout_s: float = 10.0) -> requests.Response:
    """POST WEBHOOK to URL signed with SECRET, as GitHub delivers it (GitHub waits 10 s); the response."""
    body = webhook.body()
    return requests.post(url, data=body, headers=webhook.headers(secret, body), timeout=timeout_s)


def deliver_logged(client: EmulatorClient, app_id: int, url: str, webhook: Webhook,
                   secret: str | bytes) -> dict[str, Any]:
    """Let the emulator deliver WEBHOOK to URL as GitHub does, logging the attempt in app APP_ID's delivery
    log (`GET /app/hook/deliveries`), whether or not anything answers; the log entry."""
    body = webhook.body()
    return client.deliver_logged(app_id, url, webhook.event, webhook.delivery, body, webhook.headers(secret, body))


@cache
def _examples(path: str) -> dict[str, list[dict[str, Any]]]:
    with open(path, "rb") as handle:
        return {group["name"]: group["examples"] for group in json.load(handle)}


@cache
def _webhook_validators(path: str) -> tuple[dict[str, Any], Registry] | None:
    if not Path(path).is_file():
        return None
    with open(path, "rb") as handle:
        document = json.load(handle)
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return document, Registry().with_resource(_WEBHOOKS_URI, resource)


class WebhookFactory:
    """Build deliveries for one repository's installation from the emulator's current state."""

    def __init__(self, client: EmulatorClient, installation_id: int | None, corpus: Path | None = None) -> None:
        github = (corpus or corpus_dir()) / "github"
        examples = github / "webhook-examples.json"
        if not examples.is_file():
            raise FileNotFoundError(f"GitHub's webhook examples are missing: {examples} (set TAXONOMIST_CORPUS)")
        self.client = client
        self.installation_id = installation_id
        self._examples_path = str(examples)
        self._description_path = str(github / "webhooks-openapi.json")

    def example(self, event: str, action: str | None = None) -> dict[str, Any]:
        """A deep copy of GitHub's first real example of EVENT (with ACTION)."""
        examples = _examples(self._examples_path).get(event)
        if not examples:
            raise KeyError(f"no webhook example for event {event!r}")
        for example in examples:
            if action is None or example.get("action") == action:
                return copy.deepcopy(example)
        raise KeyError(f"no {event!r} example with action {action!r}")

    # --- the events a triage bot handles -------------------------------------------------------

    def pull_request(self, full_name: str, number: int, action: str = "opened", sender: str | None = None,
                     before: str | None = None, changes: dict[str, Any] | None = None) -> Webhook:
        """`pull_request` opened / synchronize (give BEFORE, the old head) / reopened / closed / edited
        (with its CHANGES, e.g. `{"base": {"ref": {"from": "main"}}}`)."""
        rendered = self.client.pull(full_name, number)
        payload = self.example("pull_request", "opened" if action == "edited" else action)  # no `edited` example
        payload["action"] = action
        pull = self._webhook_pull(rendered["pull_request"])
        payload.update(number=number, pull_request=pull)
        if action == "synchronize":
            payload["before"] = before or rendered["head_commit"]["parents"][0]["sha"]
            payload["after"] = pull["head"]["sha"]
        if changes is not None:
            payload["changes"] = changes
        return self._finish("pull_request", payload, full_name, sender or pull["user"]["login"], rendered)

    def issue_comment(self, full_name: str, number: int, comment: dict[str, Any], action: str = "created",
                      previous_body: str | None = None, sender: str | None = None) -> Webhook:
        """`issue_comment` created / edited / deleted on PR NUMBER; COMMENT as `client.comment_as` returns it;
        SENDER: who acted (default the comment's author; another account may edit it)."""
        rendered = self.client.pull(full_name, number)
        payload = self.example("issue_comment", action)
        payload.update(issue=self._webhook_issue(rendered["issue"]), comment=self._webhook_comment(comment))
        if action == "edited":
            payload["changes"] = {"body": {"from": previous_body or ""}}
        return self._finish("issue_comment", payload, full_name, sender or comment["user"]["login"], rendered)

    def pull_request_review(self, full_name: str, number: int, review: dict[str, Any],
                            action: str = "submitted") -> Webhook:
        """`pull_request_review` submitted; REVIEW as `client.review_as` returns it."""
        rendered = self.client.pull(full_name, number)
        payload = self.example("pull_request_review", action)
        state = review["state"].lower()
        payload["review"] = {**review, "state": state, "submitted_at": review.get("submitted_at")}
        payload["pull_request"] = self._webhook_pull(rendered["pull_request"])
        return self._finish("pull_request_review", payload, full_name, review["user"]["login"], rendered)

    def check_run(self, full_name: str, check_run: dict[str, Any], sender: str,
                  action: str = "rerequested") -> Webhook:
        """`check_run` rerequested (or another action); CHECK_RUN as the REST API returned it."""
        payload = self.example("check_run", action)
        suite = payload["check_run"].get("check_suite") or {}
        suite.update(id=check_run["check_suite"]["id"], head_sha=check_run["head_sha"],
                     pull_requests=check_run["pull_requests"], app=check_run["app"])
        # Webhook check runs carry "" where the REST API has null for an unset URL or external id.
        payload["check_run"] = {**payload["check_run"], **check_run, "check_suite": suite,
                                "details_url": check_run["details_url"] or "",
                                "external_id": check_run["external_id"] or ""}
        return self._finish("check_run", payload, full_name, sender, None)

    def check_suite(self, full_name: str, head_sha: str, suite_id: int, sender: str,
                    action: str = "rerequested", pull_requests: list[dict[str, Any]] | None = None) -> Webhook:
        payload = self.example("check_suite", action)
        payload["check_suite"].update(id=suite_id, head_sha=head_sha, pull_requests=pull_requests or [],
                                      after=head_sha)
        return self._finish("check_suite", payload, full_name, sender, None)

    def push(self, full_name: str, ref: str, before: str, after: str, sender: str) -> Webhook:
        """`push` of BEFORE..AFTER to REF (e.g. refs/heads/main)."""
        rendered = self.client.repository(full_name)
        payload = self.example("push")
        head = rendered["commits"][after]
        payload.update(ref=ref, before=before, after=after, created=False, deleted=False, forced=False,
                       compare=f"{rendered['repository']['html_url']}/compare/{before[:12]}...{after[:12]}")
        commit = {"id": after, "tree_id": head["commit"]["tree"]["sha"], "distinct": True,
                  "message": head["commit"]["message"], "timestamp": head["commit"]["author"]["date"],
                  "url": head["html_url"], "author": _git_author(head["commit"]["author"]),
                  "committer": _git_author(head["commit"]["committer"]), "added": [], "removed": [],
                  "modified": []}
        payload.update(commits=[commit], head_commit=commit)
        payload["pusher"] = {"name": sender, "email": f"{sender}@users.noreply.github.com"}
        return self._finish("push", payload, full_name, sender, None)

    def installation(self, sender: str, action: str = "created",
                     repositories: list[str] | None = None) -> Webhook:
        payload = self.example("installation", action)
        if self.installation_id is None:
            raise ValueError("an installation event needs the factory's installation_id")
        payload["installation"] = self.client.installation(self.installation_id)
        if repositories is not None:
            payload["repositories"] = [self._repo_brief(name) for name in repositories]
        payload["sender"] = self.client.add_user(sender)
        return self._checked("installation", payload)

    def ping(self, app_id: int, hook_id: int = 1) -> Webhook:
        payload = self.example("ping")
        payload["hook_id"] = hook_id
        payload.setdefault("hook", {}).update(id=hook_id, app_id=app_id, type="App")
        return self._checked("ping", payload)

    # --- filling -------------------------------------------------------------------------------

    def _finish(self, event: str, payload: dict[str, Any], full_name: str, sender: str,
                rendered: dict[str, Any] | None) -> Webhook:
        repository = (rendered or self.client.repository(full_name))["repository"]
        payload["repository"] = self._webhook_repository(repository)
        payload["sender"] = self.client.add_user(sender)
        owner = repository["owner"]
        if owner["type"] == "Organization":
            payload["organization"] = _organization(owner)
        else:
            payload.pop("organization", None)
        if self.installation_id is None:
            payload.pop("installation", None)
        else:
            payload["installation"] = {"id": self.installation_id,
                                       "node_id": _node_id("Installation", self.installation_id)}
        payload.pop("enterprise", None)
        return self._checked(event, payload)

    def _checked(self, event: str, payload: dict[str, Any]) -> Webhook:
        webhook = Webhook(event, payload)
        problems = payload_errors(self._description_path, event, payload)
        if problems:
            raise WebhookShapeError(f"{event} payload breaks webhooks-openapi.json:\n  " + "\n  ".join(problems))
        return webhook

    def _repo_brief(self, full_name: str) -> dict[str, Any]:
        repository = self.client.repository(full_name)["repository"]
        return {key: repository[key] for key in ("id", "node_id", "name", "full_name", "private")}

    @staticmethod
    def _webhook_repository(repository: dict[str, Any]) -> dict[str, Any]:
        """The REST repository plus the merge settings webhook payloads always carry."""
        return {**repository, "allow_auto_merge": False, "allow_merge_commit": True, "allow_rebase_merge": True,
                "allow_squash_merge": True, "delete_branch_on_merge": False, "allow_update_branch": False,
                "use_squash_pr_title_as_default": False, "squash_merge_commit_message": "COMMIT_MESSAGES",
                "squash_merge_commit_title": "COMMIT_OR_PR_TITLE", "merge_commit_message": "PR_TITLE",
                "merge_commit_title": "MERGE_MESSAGE", "stargazers": 0, "master_branch": repository["default_branch"]}

    def _webhook_pull(self, pull: dict[str, Any]) -> dict[str, Any]:
        pull = copy.deepcopy(pull)
        for side in ("head", "base"):
            pull[side]["repo"] = self._webhook_repository(pull[side]["repo"])
        return pull

    @staticmethod
    def _webhook_issue(issue: dict[str, Any]) -> dict[str, Any]:
        """The REST issue with `pull_request` kept: the bot tells PR comments from issue comments by it."""
        return {**issue, "performed_via_github_app": None, "reactions": _reactions(issue["url"]),
                "timeline_url": f"{issue['url']}/timeline"}

    @staticmethod
    def _webhook_comment(comment: dict[str, Any]) -> dict[str, Any]:
        return {**comment, "reactions": _reactions(comment["url"])}


def _described(document: dict[str, Any], event: str, action: str | None) -> dict[str, Any] | None:
    """The description's POST operation for EVENT (and ACTION), e.g. `pull-request-opened`."""
    name = event.replace("_", "-") + (f"-{action.replace('_', '-')}" if action else "")
    webhook = document["webhooks"].get(name) or document["webhooks"].get(event.replace("_", "-"))
    return None if webhook is None else webhook["post"]


def header_errors(description_path: str, webhook: Webhook, secret: str | bytes) -> list[str]:
    """The delivery headers the webhook description requires that WEBHOOK's headers lack."""
    loaded = _webhook_validators(description_path)
    if loaded is None:
        return []
    operation = _described(loaded[0], webhook.event, webhook.payload.get("action"))
    if operation is None:
        return [f"webhooks-openapi.json describes no {webhook.event!r} webhook"]
    sent = {name.lower() for name in webhook.headers(secret)}
    return [f"header {p['name']} is missing" for p in operation.get("parameters", ())
            if p.get("in") == "header" and p.get("required") and p["name"].lower() not in sent]


def payload_errors(description_path: str, event: str, payload: dict[str, Any]) -> list[str]:
    """How PAYLOAD breaks the webhook description of EVENT and its action ([] when absent or valid)."""
    loaded = _webhook_validators(description_path)
    if loaded is None:
        return []
    document, registry = loaded
    operation = _described(document, event, payload.get("action"))
    if operation is None:
        return [f"webhooks-openapi.json describes no {event!r} webhook for action {payload.get('action')!r}"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    validator = OAS31Validator({"$ref": _WEBHOOKS_URI + schema_ref}, registry=registry)
    errors = []
    for _, error in zip(range(10), validator.iter_errors(payload), strict=False):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(root)"
        errors.append(f"{where}: {error.message[:300]}")
    return errors


def _node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _reactions(url: str) -> dict[str, Any]:
    return {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0,
            "heart": 0, "rocket": 0, "eyes": 0}


def _organization(owner: dict[str, Any]) -> dict[str, Any]:
    base = owner["url"].replace("/users/", "/orgs/")
    return {"login": owner["login"], "id": owner["id"], "node_id": owner["node_id"], "url": base,
            "repos_url": f"{base}/repos", "events_url": f"{base}/events", "hooks_url": f"{base}/hooks",
            "issues_url": f"{base}/issues", "members_url": f"{base}/members{{/member}}",
            "public_members_url": f"{base}/public_members{{/member}}", "avatar_url": owner["avatar_url"],
            "description": None}


def _git_author(person: dict[str, Any]) -> dict[str, Any]:
    return {"name": person["name"], "email": person["email"], "date": person["date"]}
