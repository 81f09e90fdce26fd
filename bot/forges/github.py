"""The forge over GitHub's REST API, through PyGithub authenticated as a GitHub App.

`GitHubApp` holds the app's JWT auth (`Auth.AppAuth`) and one client per installation and thread
(`AppInstallationAuth` renews the installation token before it expires). Every client retries
with `GithubRetry`: it waits out `Retry-After` and `X-RateLimit-Reset` (primary and secondary
rate limits, up to `max_rate_limit_wait`, beyond which the job goes back to the queue) and backs
off exponentially on 5xx and timeouts, for reads and for writes. Before that, `bot.service.ratelimit`
paces the calls by `X-RateLimit-Remaining`, so the primary limit is rarely hit at all.
"""

from __future__ import annotations

import base64
import functools
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from github import Auth, GithubIntegration, GithubRetry
from github.GithubException import GithubException, RateLimitExceededException, UnknownObjectException
from urllib3.util.retry import Retry

from bot.forges.forge import (
    ENTRY_KINDS,
    Annotation,
    ChangedFile,
    CheckRunResult,
    Commit,
    ExistingCheckRun,
    ForcePush,
    IssueComment,
    PullRequest,
    PullReview,
    pr_tag,
    tagged_pr,
)
from bot.forges.reads import ReadCache, Tree
from bot.service.ratelimit import RatePacer
from bot.service.settings import DEFAULT_MAX_RATE_LIMIT_WAIT, Settings

PER_PAGE = 100  # the API's maximum page size
MAX_CHANGED_FILES = 3000  # the pulls/files endpoint lists at most this many
FULL_SHA = re.compile(r"[0-9a-f]{40}")
T = TypeVar("T")
RETRIED_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "PATCH"})


class ApiRetry(GithubRetry):
    """GithubRetry, except that a POST whose answer timed out is not sent again.

    The server may have acted on it (a check run or a comment created): the job fails instead,
    and its retry finds what was created before creating anything. A POST refused with a status
    (5xx, rate limit) was not acted on and is retried here like any other call.
    """

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        if error is not None and method == "POST" and self._is_read_error(error):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def make_retry(settings: Settings) -> GithubRetry:
    return ApiRetry(total=settings.api_retries, backoff_factor=0.25, backoff_max=8, allowed_methods=RETRIED_METHODS,
                    secondary_rate_wait=min(60.0, settings.max_rate_limit_wait),
                    max_rate_limit_wait=settings.max_rate_limit_wait, raise_on_status=False)


class GitHubApp:
    """The app's identity and its per-installation clients, shared by all jobs of a process, each worker
    thread with clients of its own: PyGithub's connection keeps one request's verb and URL between
    sending it and reading the answer, so two threads on one client can send one call's verb to the
    other's URL (seen: a check run's PATCH sent to another pull request's labels). For a bot that
    merges, a write sent to the wrong address is not a risk to take."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()
        self.reads = ReadCache()  # commits' trees and blobs, shared by every job of the process

    @property
    def integration(self) -> GithubIntegration:
        """This thread's client as the app itself (JWT): installations and their tokens."""
        integration = getattr(self._local, "integration", None)
        if integration is None:
            settings = self.settings
            integration = self._local.integration = GithubIntegration(
                auth=Auth.AppAuth(settings.app_id, settings.private_key_pem()), base_url=settings.github_api_url,
                retry=make_retry(settings), timeout=int(settings.request_timeout), per_page=PER_PAGE, lazy=True,
                seconds_between_requests=None, seconds_between_writes=settings.write_interval or None)
        return integration

    def installation_of(self, repo: str) -> int:
        """The id of this app's installation on `repo` (one call)."""
        owner, _, name = repo.partition("/")
        return int(self.integration.get_repo_installation(owner, name).id)

    def _client(self, installation: int) -> Any:
        """This thread's client for the installation (its token renewed before it expires)."""
        clients: dict[int, Any] = self._local.__dict__.setdefault("clients", {})
        if installation not in clients:
            clients[installation] = self.integration.get_github_for_installation(installation)
        return clients[installation]

    def installation_requester(self, installation: int) -> Any:
        """PyGithub's requester with the installation's token, for listings PyGithub has no call for."""
        return self._client(installation).requester

    def forge(self, repo: str, installation: int | None) -> GitHubForge:
        client = self._client(installation if installation is not None else self.installation_of(repo))
        return GitHubForge(client.get_repo(repo), client.requester, RatePacer(self.settings.max_rate_limit_wait),
                           app_id=int(self.settings.app_id), reads=self.reads)


def paced(method: Callable[..., T]) -> Callable[..., T]:
    """Look at the rate limit left before the call (`bot.service.ratelimit`): slow down, wait, or defer the job."""

    @functools.wraps(method)
    def call(self: GitHubForge, *args: Any, **kwargs: Any) -> T:
        self.pacer.before_call(self.requester)
        return method(self, *args, **kwargs)

    return call


class GitHubForge:
    """One repository through PyGithub. Pages of 100; at most 3000 changed files, as the API allows.

    Each method is paced by the rate limit left (a method that reads many pages is paced once).
    Check runs and comments count as the bot's own only when `app_id` made them: another app's
    run named `taxonomist/triage`, or a person's comment carrying the marker, is never ours."""

    def __init__(self, repo: Any, requester: Any, pacer: RatePacer | None = None, *, app_id: int,
                 reads: ReadCache | None = None) -> None:
        self.repo = repo
        self.requester = requester
        self.pacer = pacer or RatePacer(max_wait=DEFAULT_MAX_RATE_LIMIT_WAIT)
        self.app_id = app_id
        self.reads = reads if reads is not None else ReadCache()

    @property
    def name(self) -> str:
        return self.repo.url.split("/repos/", 1)[-1]

    @paced
    def list_files(self, ref: str) -> list[str]:
        return [e.path for e in self.repo.get_git_tree(ref, recursive=True).tree if ENTRY_KINDS.get(e.mode) == "file"]

    def _tree(self, ref: str) -> Tree | None:
        """`ref`'s whole tree in one call; a commit's is shared by every job of the process (`ReadCache`).
        None when GitHub truncated it (over 100,000 entries): the caller asks path by path."""

        def read() -> Tree:
            answer = self.repo.get_git_tree(ref, recursive=True)
            return {} if answer.raw_data.get("truncated") else {e.path: (e.mode, e.sha) for e in answer.tree}

        tree = self.reads.tree(self.name, ref, read) if FULL_SHA.fullmatch(ref) else read()
        return tree or None

    @paced
    def entry_kind(self, path: str, ref: str) -> str | None:
        """From the trees API, which tells links and submodules apart: the contents API answers a
        link to a file in the repository with that file's content."""
        tree = self._tree(ref) or {}
        entry = tree.get(path)
        return None if entry is None else ENTRY_KINDS.get(entry[0], "file")

    @paced
    def pull_request(self, number: int) -> PullRequest:
        pr = self.repo.get_pull(number)
        return PullRequest(number=pr.number, head_sha=pr.head.sha, base_ref=pr.base.ref, author=pr.user.login,
                           title=pr.title or "", body=pr.body or "", state=pr.state, draft=bool(pr.draft),
                           mergeable=pr.mergeable, author_association=pr.author_association or "",
                           requested_reviewers=tuple(u.login for u in pr.requested_reviewers or ()))

    @paced
    def changed_files(self, pr: PullRequest) -> list[ChangedFile]:
        files = self.repo.get_pull(pr.number).get_files()
        out = []
        for f in files:
            out.append(ChangedFile(f.filename, f.status))
            if len(out) >= MAX_CHANGED_FILES:
                break
        return out

    @paced
    def read_file(self, path: str, ref: str) -> bytes | None:
        """At a commit: from its tree and blobs, each read once per process (no call for a path that is not
        there); at a branch: the contents API. Only regular files: a link or a submodule reads as None."""
        tree = self._tree(ref) if FULL_SHA.fullmatch(ref) else None
        if tree is not None:
            entry = tree.get(path)
            if entry is None or ENTRY_KINDS.get(entry[0], "file") != "file":
                return None
            return self.reads.blob(entry[1], lambda: base64.b64decode(self.repo.get_git_blob(entry[1]).content))
        try:
            content = self.repo.get_contents(path, ref=ref)
        except UnknownObjectException:
            return None
        if isinstance(content, list) or content.type != "file":
            return None
        if content.encoding == "none" and content.size:  # over 1 MB: the contents API leaves it out
            return base64.b64decode(self.repo.get_git_blob(content.sha).content)
        return content.decoded_content

    @paced
    def commits(self, pr: PullRequest) -> list[Commit]:
        out = []
        for c in self.repo.get_pull(pr.number).get_commits():
            author = c.commit.author
            out.append(Commit(sha=c.sha, message=c.commit.message, author_name=author.name if author else "",
                              author_email=author.email if author else ""))
        return out

    def _own_runs(self, head_sha: str, name: str, pr: int | None) -> list[Any]:
        """This app's runs named `name` on `head_sha` (made for `pr` when given), newest first."""
        runs = self.repo.get_commit(head_sha).get_check_runs(check_name=name, filter="all")
        own = [run for run in runs if run.app is not None and run.app.id == self.app_id
               and (pr is None or tagged_pr(run.external_id) == pr)]
        return sorted(own, key=lambda run: run.id, reverse=True)

    @paced
    def find_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> ExistingCheckRun | None:
        for run in self._own_runs(head_sha, name, pr):
            output = run.output
            return ExistingCheckRun(run.id, run.status, run.conclusion, output.summary if output else None,
                                    run.started_at, run.external_id, output.annotations_count or 0 if output else 0)
        return None

    @paced
    def check_run_starts(self, head_sha: str, name: str, *, pr: int | None = None) -> list[datetime]:
        return [run.started_at for run in self._own_runs(head_sha, name, pr) if run.started_at is not None]

    @paced
    def force_pushes(self, number: int) -> list[ForcePush]:
        return [ForcePush(event.commit_id, event.created_at) for event in self.repo.get_issue(number).get_events()
                if event.event == "head_ref_force_pushed" and event.commit_id and event.created_at]

    @paced
    def merged_pulls_of(self, sha: str) -> list[int]:
        """The merged pull requests GitHub associates with commit `sha` (the one that brought it in)."""
        _, pulls = self.requester.requestJsonAndCheck("GET", f"{self.repo.url}/commits/{sha}/pulls")
        return sorted(int(p["number"]) for p in pulls if isinstance(p, dict) and p.get("merged_at"))

    @paced
    def base_changes(self, number: int) -> list[datetime]:
        return [event.created_at for event in self.repo.get_issue(number).get_events()
                if event.event == "base_ref_changed" and event.created_at]

    @paced
    def start_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> int:
        tag = {"external_id": pr_tag(pr)} if pr is not None else {}
        return self.repo.create_check_run(name=name, head_sha=head_sha, status="in_progress", **tag).id

    @paced
    def mark_in_progress(self, check_run_id: int) -> None:
        self.repo.get_check_run(check_run_id).edit(status="in_progress")

    @paced
    def add_annotations(self, check_run_id: int, result: CheckRunResult, annotations: list[Annotation]) -> None:
        self._edit_check_run(check_run_id, external_id=result.digest,
                             output={"title": result.title, "summary": result.summary,
                                     "annotations": [a.to_api() for a in annotations]})

    @paced
    def complete_check_run(self, check_run_id: int, result: CheckRunResult) -> None:
        self._edit_check_run(check_run_id, status="completed", conclusion=result.conclusion,
                             external_id=result.digest, output={"title": result.title, "summary": result.summary})

    def _edit_check_run(self, check_run_id: int, **fields: Any) -> None:
        """PATCH without fetching the run first (one request, not two)."""
        self.requester.requestJsonAndCheck("PATCH", f"{self.repo.url}/check-runs/{check_run_id}",
                                                 input=fields)

    @paced
    def find_comment(self, number: int, marker: str) -> tuple[int, str] | None:
        for comment in self.repo.get_issue(number).get_comments():
            if self._by_this_app(comment) and (comment.body or "").startswith(marker):
                return comment.id, comment.body
        return None

    def _by_this_app(self, comment: Any) -> bool:
        app = comment.performed_via_github_app
        return app is not None and app.id == self.app_id

    @paced
    def create_comment(self, number: int, body: str) -> int:
        return self.repo.get_issue(number).create_comment(body).id

    @paced
    def edit_comment(self, comment_id: int, body: str) -> None:
        self.requester.requestJsonAndCheck("PATCH", f"{self.repo.url}/issues/comments/{comment_id}",
                                                 input={"body": body})

    @paced
    def labels(self, number: int) -> set[str]:
        return {label.name for label in self.repo.get_issue(number).get_labels()}

    @paced
    def add_labels(self, number: int, names: list[str]) -> None:
        self.requester.requestJsonAndCheck("POST", f"{self.repo.url}/issues/{number}/labels",
                                           input={"labels": names})

    @paced
    def ensure_label(self, name: str, color: str, description: str) -> None:
        """Create the repository's label NAME unless it exists (adding an unknown one makes it grey, undescribed)."""
        try:  # a request of its own: the client is lazy, so `repo.get_label` would not ask
            self.requester.requestJsonAndCheck("GET", f"{self.repo.url}/labels/{quote(name, safe='')}")
        except UnknownObjectException:
            try:
                self.requester.requestJsonAndCheck("POST", f"{self.repo.url}/labels",
                                                   input={"name": name, "color": color, "description": description})
            except GithubException as exc:
                if exc.status != 422:  # created meanwhile: the wanted state
                    raise

    @paced
    def remove_label(self, number: int, name: str) -> None:
        try:
            self.repo.get_issue(number).remove_from_labels(name)
        except GithubException as exc:
            if exc.status != 404:  # already gone: the wanted state
                raise

    @paced
    def issue_comments(self, number: int) -> list[IssueComment]:
        return [IssueComment(c.id, c.user.login, c.body or "", c.created_at, c.updated_at, self._by_this_app(c))
                for c in self.repo.get_issue(number).get_comments()]

    @paced
    def reviews(self, number: int) -> list[PullReview]:
        return [PullReview(r.id, r.user.login if r.user else "", r.state, r.commit_id, r.submitted_at)
                for r in self.repo.get_pull(number).get_reviews()]

    @paced
    def is_team_member(self, team: str, user: str) -> bool:
        org, _, slug = team.partition("/")
        try:
            _, data = self.requester.requestJsonAndCheck(
                "GET", f"/orgs/{quote(org)}/teams/{quote(slug)}/memberships/{quote(user)}")
        except UnknownObjectException:
            return False
        return data.get("state") == "active"

    @paced
    def commit_status(self, sha: str, context: str) -> tuple[str, str] | None:
        _, data = self.requester.requestJsonAndCheck("GET", f"{self.repo.url}/commits/{sha}/status")
        for status in data.get("statuses", []):
            if status.get("context") == context:
                return status.get("state", ""), status.get("description") or ""
        return None

    @paced
    def set_commit_status(self, sha: str, state: str, context: str, description: str) -> None:
        self.requester.requestJsonAndCheck("POST", f"{self.repo.url}/statuses/{sha}",
                                           input={"state": state, "context": context, "description": description})

    @paced
    def merge(self, number: int, sha: str, method: str) -> str | None:
        try:
            self.requester.requestJsonAndCheck("PUT", f"{self.repo.url}/pulls/{number}/merge",
                                               input={"sha": sha, "merge_method": method})
        except GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            if exc.status >= 500 or exc.status == 429 or isinstance(exc, RateLimitExceededException) \
                    or "rate limit" in str(message).lower():
                raise  # the forge failed (or said "later"), not the merge: the job is retried with backoff
            return f"{message or 'the merge was refused'} (HTTP {exc.status})"
        return None

    @paced
    def request_reviewers(self, number: int, users: list[str]) -> bool:
        """False when GitHub refuses the people (422: not collaborators); a retry would not change that."""
        try:
            self.requester.requestJsonAndCheck("POST", f"{self.repo.url}/pulls/{number}/requested_reviewers",
                                               input={"reviewers": users})
        except GithubException as exc:
            if exc.status != 422:
                raise
            return False
        return True

    @paced
    def team_members(self, team: str) -> list[str]:
        org, _, slug = team.partition("/")
        members: list[str] = []
        page = 1
        while True:
            try:
                _, data = self.requester.requestJsonAndCheck(
                    "GET", f"/orgs/{quote(org)}/teams/{quote(slug)}/members",
                    parameters={"per_page": 100, "page": page})
            except UnknownObjectException:
                return members  # no such team (or not visible to the app): nobody from it
            members += [m["login"] for m in data or () if m.get("login")]
            if len(data or ()) < 100:
                return members
            page += 1
