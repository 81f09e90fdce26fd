"""A small Python client for the emulator's control API (seed state, inject faults, read the record)."""

from __future__ import annotations

from typing import Any

import requests


class EmulatorError(RuntimeError):
    """The control API refused a request; the message says why."""


class EmulatorClient:
    """Drive an emulator at URL. Repositories are named "owner/name" throughout."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.api_url = self.url  # what a GitHub client takes as its base URL
        self._session = requests.Session()
        self._timeout_s = timeout_s

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._session.request(method, f"{self.url}/_emulator{path}", json=body, timeout=self._timeout_s)
        if response.status_code >= 400:
            raise EmulatorError(f"{method} /_emulator{path} -> {response.status_code}: {response.text}")
        return response.json()

    def deliver_logged(self, app_id: int, url: str, event: str, guid: str, body: bytes,
                       headers: dict[str, str]) -> dict[str, Any]:
        """GitHub delivering a signed webhook to URL now, recorded in the app's delivery log (even when nothing
        answers); `tests.emulator.webhooks.deliver_logged` builds it from a `Webhook`."""
        return self._call("POST", f"/apps/{app_id}/deliveries", {"url": url, "event": event, "guid": guid,
                                                                 "body": body.decode(), "headers": headers})

    # --- setup ---------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/info")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def settings(self, **values: int) -> dict[str, Any]:
        """Change `token_lifetime_s`, `patch_limit` (bytes) or `rate_limit` (calls per token)."""
        return self._call("PATCH", "/settings", values)

    def add_user(self, login: str, type: str | None = None, name: str | None = None, email: str | None = None) -> dict:
        """The account LOGIN as the API renders it, created (a `User` by default) or updated with what is given."""
        body = {"login": login, "type": type, "name": name, "email": email}
        return self._call("POST", "/users", {key: value for key, value in body.items() if value is not None})

    def add_team(self, org: str, slug: str, members: dict[str, str] | list[str], name: str | None = None) -> dict:
        """A team of ORG; MEMBERS maps login to `member` or `maintainer` (a list means all `member`)."""
        return self._call("POST", "/teams", {"org": org, "slug": slug, "members": members, "name": name or slug})

    def register_app(self, app_id: int, public_key_pem: str | bytes, slug: str | None = None,
                     owner: str = "octo-org", name: str | None = None) -> dict:
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        body = {"id": app_id, "public_key_pem": pem, "owner": owner, "slug": slug or f"app-{app_id}"}
        if name:
            body["name"] = name
        return self._call("POST", "/apps", body)

    def install(self, app_id: int, account: str, repositories: list[str] | None = None,
                installation_id: int | None = None) -> int:
        """Install the app on ACCOUNT (all its repositories, or only REPOSITORIES "owner/name"); the id."""
        body = {"app_id": app_id, "account": account, "repositories": repositories, "id": installation_id}
        return self._call("POST", "/installations", body)["id"]

    def installation(self, installation_id: int) -> dict:
        """The installation as the REST API renders it."""
        return self._call("GET", f"/installations/{installation_id}")

    def create_repo(self, full_name: str, files: dict[str, Any], default_branch: str = "main",
                    labels: dict[str, dict[str, str]] | None = None, private: bool = False) -> dict:
        """A repository with FILES (path -> text, {"base64": ...}) on its default branch; has `head_sha`."""
        owner, name = full_name.split("/")
        return self._call("POST", "/repos", {"owner": owner, "name": name, "files": files,
                                             "default_branch": default_branch, "labels": labels or {},
                                             "private": private})

    def push(self, full_name: str, files: dict[str, Any], branch: str | None = None, message: str = "Update",
             author: str | None = None, from_branch: str | None = None) -> str:
        """Commit FILES (text, {"base64": ...} or None to delete) on BRANCH; returns the new sha."""
        body: dict[str, Any] = {"files": files, "message": message}
        for key, value in (("branch", branch), ("author", author), ("from_branch", from_branch)):
            if value is not None:
                body[key] = value
        return self._call("POST", f"/repos/{full_name}/commits", body)["sha"]

    def open_pull(self, full_name: str, head: str, files: dict[str, Any] | None = None, base: str | None = None,
                  title: str | None = None, body: str | None = None, user: str | None = None,
                  draft: bool = False, message: str | None = None) -> dict:
        """Open a PR from HEAD (first committing FILES there as USER with MESSAGE, default the title,
        branching from BASE); the PR as GitHub renders it."""
        payload: dict[str, Any] = {"head": head, "title": title or head, "body": body, "draft": draft}
        for key, value in (("files", files), ("base", base), ("user", user), ("message", message)):
            if value is not None:
                payload[key] = value
        return self._call("POST", f"/repos/{full_name}/pulls", payload)

    def push_to_pull(self, full_name: str, number: int, files: dict[str, Any], message: str = "Update",
                     author: str | None = None) -> dict:
        """Push a commit to the PR's head branch; returns {"sha", "before", "branch"} (for `synchronize`)."""
        body: dict[str, Any] = {"files": files, "message": message}
        if author:
            body["author"] = author
        return self._call("POST", f"/repos/{full_name}/pulls/{number}/commits", body)

    def force_push(self, full_name: str, number: int, sha: str, actor: str | None = None) -> dict:
        """Point the PR's head branch at SHA (an existing commit); a move to a commit that does not descend
        from the old head records `head_ref_force_pushed`. Returns {"sha", "before", "branch"}."""
        body: dict[str, Any] = {"sha": sha}
        if actor:
            body["actor"] = actor
        return self._call("PUT", f"/repos/{full_name}/pulls/{number}/head", body)

    def edit_pull(self, full_name: str, number: int, **changes: Any) -> dict:
        """Change `title`, `body`, `state`, `draft`, `base` (an existing branch; `actor` did it), or force
        `mergeable` (True/False; None: computed)."""
        return self._call("PATCH", f"/repos/{full_name}/pulls/{number}", changes)

    def pull(self, full_name: str, number: int) -> dict:
        """{"pull_request", "issue", "repository", "head_commit"} as the REST API renders them."""
        return self._call("GET", f"/repos/{full_name}/pulls/{number}")

    def repository(self, full_name: str) -> dict:
        """{"repository", "branches", "commits"} as the REST API renders them."""
        return self._call("GET", f"/repos/{full_name}")

    def comment_as(self, user: str, full_name: str, number: int, body: str) -> dict:
        """A person's comment on issue or PR NUMBER, as the REST API renders it."""
        return self._call("POST", f"/repos/{full_name}/issues/{number}/comments", {"user": user, "body": body})

    def edit_comment_as(self, full_name: str, comment_id: int, body: str) -> dict:
        return self._call("PATCH", f"/repos/{full_name}/issues/comments/{comment_id}", {"body": body})

    def review_as(self, user: str, full_name: str, number: int, state: str = "APPROVED", body: str = "",
                  commit_id: str | None = None) -> dict:
        return self._call("POST", f"/repos/{full_name}/pulls/{number}/reviews",
                          {"user": user, "state": state, "body": body, "commit_id": commit_id})

    def add_collaborator(self, full_name: str, login: str, permission: str = "write") -> dict:
        return self._call("POST", f"/repos/{full_name}/collaborators", {"login": login, "permission": permission})

    # --- faults --------------------------------------------------------------------------------

    def inject_fault(self, kind: str, method: str = "*", path: str = "*", **options: Any) -> dict:
        """Add a fault rule: KIND is `status`, `rate_limit`, `secondary_rate_limit` or `delay`.

        Options: status, retry_after, delay_s, message, times (None: forever), probability, seed.
        """
        return self._call("POST", "/faults", {"kind": kind, "method": method, "path": path, **options})

    def faults(self) -> list[dict]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # --- what happened -------------------------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[dict]:
        """Every API call served, oldest first; filtered by METHOD and by PATH (a substring)."""
        return [c for c in self._call("GET", "/calls")
                if (method is None or c["method"] == method) and (path is None or path in c["path"])]

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def state(self, full_name: str) -> dict:
        """Check runs (with annotations), comments, labels per issue, statuses, reviews, issue events, merges,
        pulls."""
        return self._call("GET", f"/repos/{full_name}/state")

    def violations(self) -> list[dict]:
        return self._call("GET", "/violations")

    def take_violations(self) -> list[dict]:
        """The violations so far, forgotten: for a test that provokes them on purpose."""
        return self._call("DELETE", "/violations")

    def assert_no_violations(self) -> None:
        found = self.violations()
        if found:
            lines = "\n".join(f"  - {v['text']}" for v in found)
            raise AssertionError(f"{len(found)} call(s) broke GitHub's REST description:\n{lines}")
