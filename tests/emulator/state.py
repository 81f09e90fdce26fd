"""What the emulated GitHub knows: accounts, apps, repositories, pull requests and their history.

Plain data and the rules GitHub applies to it (numbering, mergeability, merging, combined
status); no HTTP here. Every method runs under the caller's lock (the server holds one).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.emulator.gitstore import Commit, GitStore, Person, now


class NotFound(LookupError):
    """The thing asked for does not exist (GitHub answers 404)."""


class Conflict(Exception):
    """The request clashes with current state; carries GitHub's status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Account:
    """A user, an organisation or an app's bot user."""

    login: str
    id: int
    type: str = "User"  # User | Organization | Bot
    name: str | None = None
    email: str | None = None


@dataclass
class Team:
    org: str
    slug: str
    id: int
    name: str
    members: dict[str, str] = field(default_factory=dict)  # login -> member | maintainer


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    public_key_pem: bytes
    bot: Account
    events: tuple[str, ...] = ("pull_request", "issue_comment", "pull_request_review", "check_run", "check_suite")
    permissions: dict[str, str] = field(default_factory=lambda: {
        "checks": "write", "contents": "write", "issues": "write", "pull_requests": "write",
        "statuses": "write", "metadata": "read", "members": "read"})
    created_at: datetime = field(default_factory=now)


@dataclass
class Installation:
    id: int
    app_id: int
    account: str
    repositories: set[str] | None  # full names; None means all of the account's repositories
    created_at: datetime = field(default_factory=now)


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: datetime
    used: int = 0


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Comment:
    id: int
    issue_number: int
    user: str
    body: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    performed_via_app: int | None = None


@dataclass
class Issue:
    """An issue; a pull request is an issue with a `pull` beside it, sharing its number."""

    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    closed_at: datetime | None = None

    def set_state(self, state: str) -> None:
        """Open or close; `closed_at` follows, as GitHub keeps it."""
        if state != self.state:
            self.state = state
            self.closed_at = now() if state == "closed" else None
        self.updated_at = now()


@dataclass
class Pull:
    number: int
    id: int
    head_ref: str
    base_ref: str
    draft: bool = False
    merged: bool = False
    merged_by: str | None = None
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    mergeable_override: bool | None = None  # set by a test to force "not mergeable"
    requested_reviewers: list[str] = field(default_factory=list)


@dataclass
class Review:
    id: int
    pull_number: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | PENDING | DISMISSED
    body: str
    commit_id: str
    submitted_at: datetime = field(default_factory=now)


@dataclass
class IssueEvent:
    """An entry of an issue's event log; the emulator records `head_ref_force_pushed` (`commit_id`: the new head)
    and `base_ref_changed`."""

    id: int
    issue_number: int
    actor: str
    event: str
    commit_id: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class CheckRun:
    id: int
    suite_id: int
    app_id: int
    head_sha: str
    name: str
    status: str = "queued"
    conclusion: str | None = None
    details_url: str | None = None
    external_id: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    output: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: datetime = field(default_factory=now)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str
    private: bool = False
    git: GitStore = field(default_factory=GitStore)
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    labels: dict[str, Label] = field(default_factory=dict)  # lower-case name -> label
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    issue_events: list[IssueEvent] = field(default_factory=list)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> admin|write|read
    created_at: datetime = field(default_factory=now)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def resolve(self, ref: str) -> Commit:
        """The commit a branch name, `refs/heads/...` or (abbreviated) sha names; NotFound otherwise."""
        name = ref.removeprefix("refs/heads/")
        if name in self.branches:
            return self.git.commits[self.branches[name]]
        if ref in self.git.commits:
            return self.git.commits[ref]
        if len(ref) >= 7:
            matches = [sha for sha in self.git.commits if sha.startswith(ref)]
            if len(matches) == 1:
                return self.git.commits[matches[0]]
        raise NotFound(f"No commit found for SHA: {ref}")

    def issue(self, number: int) -> Issue:
        if number not in self.issues:
            raise NotFound(f"issue {number} of {self.full_name}")
        return self.issues[number]

    def pull(self, number: int) -> Pull:
        if number not in self.pulls:
            raise NotFound(f"pull request {number} of {self.full_name}")
        return self.pulls[number]

    def head_sha(self, pull: Pull) -> str:
        return self.branches[pull.head_ref]

    def merge_base(self, pull: Pull) -> str:
        base = self.git.merge_base(self.branches[pull.base_ref], self.head_sha(pull))
        if base is None:
            raise Conflict(422, f"{pull.head_ref} and {pull.base_ref} share no history")
        return base

    def mergeable(self, pull: Pull) -> bool:
        """False when forced by a test, or when base and head changed the same path differently."""
        if pull.mergeable_override is not None:
            return pull.mergeable_override
        base = self.git.commits[self.merge_base(pull)].files
        ours = self.git.commits[self.branches[pull.base_ref]].files
        theirs = self.git.commits[self.head_sha(pull)].files
        for path in set(ours) | set(theirs) | set(base):
            if ours.get(path) != base.get(path) and theirs.get(path) != base.get(path) \
                    and ours.get(path) != theirs.get(path):
                return False
        return True


class World:
    """Everything the emulator holds; ids come from one counter as GitHub's are globally unique."""

    def __init__(self) -> None:
        self._ids = itertools.count(1001)
        self.accounts: dict[str, Account] = {}
        self.teams: dict[tuple[str, str], Team] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self.hook_deliveries: list[Any] = []  # `tests.emulator.hooks.HookDelivery`, oldest first

    def next_id(self) -> int:
        return next(self._ids)

    def account(self, login: str, kind: str = "User", name: str | None = None, email: str | None = None) -> Account:
        """The account LOGIN, created on first use (tests need not declare every user)."""
        if login not in self.accounts:
            self.accounts[login] = Account(login, self.next_id(), kind, name, email)
        return self.accounts[login]

    def repo(self, owner: str, name: str) -> Repo:
        key = f"{owner}/{name}".lower()
        if key not in self.repos:
            raise NotFound(f"repository {owner}/{name}")
        return self.repos[key]

    def create_repo(self, owner: str, name: str, files: dict[str, bytes], default_branch: str = "main",
                    private: bool = False, message: str = "Initial commit") -> Repo:
        if f"{owner}/{name}".lower() in self.repos:
            raise Conflict(422, f"repository {owner}/{name} already exists")
        owner_account = self.accounts.get(owner) or self.account(owner)
        repo = Repo(owner_account.login, name, self.next_id(), default_branch, private)
        person = self._person(owner_account.login)
        repo.branches[default_branch] = repo.git.commit(files, (), message, person).sha
        self.repos[repo.full_name.lower()] = repo
        return repo

    def _person(self, login: str) -> Person:
        account = self.account(login)
        return Person(account.name or login, account.email or f"{login}@users.noreply.github.com", now())

    def push(self, repo: Repo, branch: str, files: dict[str, bytes | None], message: str, author: str,
             from_branch: str | None = None) -> Commit:
        """A commit on BRANCH (created from FROM_BRANCH, default branch by default, when new)."""
        parent = repo.branches.get(branch) or repo.branches[from_branch or repo.default_branch]
        commit = repo.git.commit(files, (parent,), message, self._person(author))
        repo.branches[branch] = commit.sha
        return commit

    def force_push(self, repo: Repo, branch: str, sha: str, actor: str) -> None:
        """Point BRANCH at SHA; a move to a commit that does not descend from the old tip is recorded
        as `head_ref_force_pushed` on every open pull request whose head is BRANCH, as GitHub does."""
        if branch not in repo.branches:
            raise NotFound(f"branch {branch} of {repo.full_name}")
        new = repo.resolve(sha).sha
        old = repo.branches[branch]
        repo.branches[branch] = new
        if repo.git.merge_base(old, new) == old:
            return  # a fast-forward (or no move): an ordinary push
        self.account(actor)
        for pull in repo.pulls.values():
            if pull.head_ref == branch and repo.issues[pull.number].state == "open":
                repo.issue_events.append(IssueEvent(self.next_id(), pull.number, actor, "head_ref_force_pushed", new))

    def pulls_of_commit(self, repo: Repo, sha: str) -> list[Pull]:
        """As GitHub's `commits/{sha}/pulls`: the merged pull request that brought SHA into its base (its merge
        commit, or a commit of its head that the base lacked); for a commit no merge brought in, the open pull
        requests whose head holds it."""
        merged = []
        for entry in repo.merges:
            commit = repo.git.commits[entry["sha"]]
            before = set(repo.git.ancestors(commit.parents[0])) if commit.parents else set()
            if sha == entry["sha"] or (sha in repo.git.ancestors(entry["head_sha"]) and sha not in before):
                merged.append(repo.pulls[entry["pull_number"]])
        if merged:
            return merged
        return [pull for pull in repo.pulls.values() if repo.issues[pull.number].state == "open"
                and sha in repo.git.ancestors(repo.head_sha(pull))
                and sha not in repo.git.ancestors(repo.branches[pull.base_ref])]

    def change_base(self, repo: Repo, pull: Pull, base: str, actor: str) -> None:
        """Point the PR at another base branch, recorded as `base_ref_changed`, as GitHub does."""
        if base not in repo.branches:
            raise Conflict(422, f"branch {base!r} does not exist in {repo.full_name}")
        self.account(actor)
        if base != pull.base_ref:
            pull.base_ref = base
            repo.issue_events.append(IssueEvent(self.next_id(), pull.number, actor, "base_ref_changed"))

    def open_pull(self, repo: Repo, head: str, base: str | None, title: str, body: str | None, user: str,
                  draft: bool = False) -> Pull:
        base = base or repo.default_branch
        for name in (head, base):
            if name not in repo.branches:
                raise Conflict(422, f"branch {name!r} does not exist in {repo.full_name}")
        number = len(repo.issues) + 1
        self.account(user)
        repo.issues[number] = Issue(number, self.next_id(), title, body, user)
        pull = Pull(number, self.next_id(), head, base, draft)
        repo.pulls[number] = pull
        repo.merge_base(pull)
        return pull

    def merge(self, repo: Repo, pull: Pull, actor: str, sha: str | None, method: str,
              title: str | None, message: str | None) -> Commit:
        """Merge as GitHub does: 405 when closed or not mergeable, 409 when SHA is not the head."""
        issue = repo.issue(pull.number)
        if pull.draft and not pull.merged and issue.state == "open":
            raise Conflict(405, "Pull Request is still a draft")
        if pull.merged or issue.state != "open" or not repo.mergeable(pull):
            raise Conflict(405, "Pull Request is not mergeable")
        head = repo.head_sha(pull)
        if sha is not None and sha != head:
            raise Conflict(409, "Head branch was modified. Review and try the merge again.")
        base_tip = repo.branches[pull.base_ref]
        merged_files = dict(repo.git.commits[base_tip].files)
        base_files = repo.git.commits[repo.merge_base(pull)].files
        head_files = repo.git.commits[head].files
        for path in set(base_files) | set(head_files):
            if head_files.get(path) != base_files.get(path):
                if path in head_files:
                    merged_files[path] = head_files[path]
                else:
                    merged_files.pop(path, None)
        parents = (base_tip, head) if method == "merge" else (base_tip,)
        subject = title or (f"Merge pull request #{pull.number} from {pull.head_ref}" if method == "merge"
                            else f"{issue.title} (#{pull.number})")
        text = subject + (f"\n\n{message}" if message else "")
        modes = {path: mode for tip in (repo.git.commits[base_tip], repo.git.commits[head])
                 for path, mode in tip.modes.items() if merged_files.get(path) == tip.files.get(path)}
        commit = repo.git.commit_snapshot(merged_files, parents, text, self._person(actor), modes=modes)
        repo.branches[pull.base_ref] = commit.sha
        pull.merged, pull.merged_by, pull.merged_at, pull.merge_commit_sha = True, actor, now(), commit.sha
        issue.set_state("closed")
        repo.merges.append({"pull_number": pull.number, "sha": commit.sha, "head_sha": head,
                            "merge_method": method, "merged_by": actor})
        return commit
