"""The narrow forge interface the handlers talk to, and the plain data it returns.

Handlers never see PyGithub or git: a `Forge` is one repository on one forge. The GitHub
adapter (`bot.forges.github`) is one implementation; a local git repository
(`bot.forges.localgit`) is another, for `taxonomist bot dry-run`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from checks.pr import Commit  # the one commit type: the dco check reads the forge's commits as they are

# A git tree entry's mode as the kind of thing it is (`git ls-tree` and GitHub's trees API agree).
ENTRY_KINDS = {"100644": "file", "100755": "file", "120000": "symlink", "160000": "submodule", "040000": "dir"}


@dataclass(frozen=True, slots=True)
class PullRequest:
    """What triage needs to know about a pull request, read at its head."""

    number: int
    head_sha: str
    base_ref: str
    author: str
    title: str = ""
    body: str = ""
    state: str = "open"
    draft: bool = False
    mergeable: bool | None = None  # None: GitHub has not computed it yet
    author_association: str = ""  # as GitHub labels the author (FIRST_TIME_CONTRIBUTOR, CONTRIBUTOR, ...)
    requested_reviewers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One file a pull request touches. `status` as GitHub spells it (added, modified, removed, renamed)."""

    path: str
    status: str


@dataclass(frozen=True, slots=True)
class Annotation:
    """A check-run annotation, in the API's own field names."""

    path: str
    start_line: int
    end_line: int
    annotation_level: str  # notice, warning, failure
    message: str
    title: str = ""

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path, "start_line": self.start_line, "end_line": self.end_line,
            "annotation_level": self.annotation_level, "message": self.message,
        }
        if self.title:
            out["title"] = self.title
        return out


EXTERNAL_ID_PREFIX = "taxonomist:"
_PR_TAG = re.compile(r"taxonomist:pr(\d+)(?::|$)")


def pr_tag(pr: int) -> str:
    """The `external_id` a check run made for PR `pr` starts with: only such runs date that PR's head."""
    return f"{EXTERNAL_ID_PREFIX}pr{pr}"


def tagged_pr(external_id: str | None) -> int | None:
    """The PR a check run was made for, from its `external_id` (None: made for no PR, or not by the bot)."""
    match = _PR_TAG.match(external_id or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class CheckRunResult:
    """A completed check run: its conclusion, the output's title and summary, and every annotation.

    `pr`: the pull request it was made for; it is part of the run's `external_id`, so a run made
    for another PR on the same commit is never taken for this PR's (docs/review.md)."""

    name: str
    conclusion: str  # success, neutral, failure
    title: str
    summary: str
    annotations: tuple[Annotation, ...] = ()
    pr: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "conclusion": self.conclusion, "title": self.title,
                "summary": self.summary, "annotations": [a.to_api() for a in self.annotations]}

    @property
    def digest(self) -> str:
        """The check run's `external_id`: a retry that finds it there knows the same result is being posted."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        tag = pr_tag(self.pr) if self.pr is not None else EXTERNAL_ID_PREFIX.rstrip(":")
        return f"{tag}:{hashlib.sha256(canonical).hexdigest()[:40]}"


@dataclass(frozen=True, slots=True)
class ExistingCheckRun:
    id: int
    status: str
    conclusion: str | None = None
    summary: str | None = None
    started_at: datetime | None = None  # server time: the review workflow dates the head by it
    external_id: str | None = None  # the digest of the result posted into it (CheckRunResult.digest)
    annotations_count: int = 0  # annotations already on it (the API only appends)

    @property
    def pr(self) -> int | None:
        """The pull request the bot made this run for (`tagged_pr`)."""
        return tagged_pr(self.external_id)


@dataclass(frozen=True, slots=True)
class ForcePush:
    """A `head_ref_force_pushed` event: the PR's head became `sha` at `at` (server time)."""

    sha: str
    at: datetime


@dataclass(frozen=True, slots=True)
class IssueComment:
    """A PR conversation comment, as the review workflow reads it (times are the server's)."""

    id: int
    author: str
    body: str
    created_at: datetime
    updated_at: datetime | None = None
    by_this_app: bool = False  # written by this app (not by a person, nor by another app's bot)


@dataclass(frozen=True, slots=True)
class PullReview:
    id: int
    author: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_sha: str
    submitted_at: datetime | None = None


@dataclass(slots=True)
class LabelChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class Forge(Protocol):
    """One repository. Reads are at an explicit ref; writes are idempotent by design of the callers."""

    @property
    def name(self) -> str:
        """The repository's full name (`owner/name`)."""
        ...

    def list_files(self, ref: str) -> list[str]:
        """Every file path in the tree at `ref` (for the merged-taxonomy index)."""
        ...

    def pull_request(self, number: int) -> PullRequest: ...

    def changed_files(self, pr: PullRequest) -> list[ChangedFile]: ...

    def read_file(self, path: str, ref: str) -> bytes | None:
        """The file's bytes at `ref`, None when it does not exist there."""
        ...

    def entry_kind(self, path: str, ref: str) -> str | None:
        """What the tree at `ref` holds at `path`: one of ENTRY_KINDS, None when nothing. A link or a
        submodule is never read as a file's content (see `bot.triage.entries`)."""
        ...

    def commits(self, pr: PullRequest) -> list[Commit]: ...

    def find_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> ExistingCheckRun | None:
        """This app's newest check run named `name` on `head_sha` (made for PR `pr` when given).

        Runs of other apps never count, whatever their name."""
        ...

    def check_run_starts(self, head_sha: str, name: str, *, pr: int | None = None) -> list[datetime]:
        """When each of this app's check runs named `name` on `head_sha` (made for PR `pr` when given)
        started (server time), every one of them."""
        ...

    def force_pushes(self, number: int) -> list[ForcePush]:
        """The PR's force pushes, from its issue events."""
        ...

    def base_changes(self, number: int) -> list[datetime]:
        """When the PR's base branch was changed (server time), from its issue events."""
        ...

    def start_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> int:
        """Create the check run in progress (tagged `pr_tag(pr)` when made for a PR) and return its id."""
        ...

    def mark_in_progress(self, check_run_id: int) -> None: ...

    def add_annotations(self, check_run_id: int, result: CheckRunResult, annotations: list[Annotation]) -> None:
        """Append one batch (at most 50) of `result`'s annotations to a check run still in progress,
        marking the run with `result.digest` as its `external_id`."""
        ...

    def complete_check_run(self, check_run_id: int, result: CheckRunResult) -> None:
        """Complete the run with `result` (its `external_id` set to `result.digest`)."""
        ...

    def find_comment(self, number: int, marker: str) -> tuple[int, str] | None:
        """The id and body of this app's own comment starting with `marker`, if any (a person's or
        another app's comment carrying the marker is never taken for it)."""
        ...

    def create_comment(self, number: int, body: str) -> int: ...

    def edit_comment(self, comment_id: int, body: str) -> None: ...

    def labels(self, number: int) -> set[str]: ...

    def add_labels(self, number: int, names: list[str]) -> None: ...

    def remove_label(self, number: int, name: str) -> None: ...

    # The review workflow (bot.review.workflow) needs these as well.
    def issue_comments(self, number: int) -> list[IssueComment]: ...

    def reviews(self, number: int) -> list[PullReview]: ...

    def is_team_member(self, team: str, user: str) -> bool:
        """Whether `user` is an active member of `team` ("org/slug")."""
        ...

    def commit_status(self, sha: str, context: str) -> tuple[str, str] | None:
        """The latest (state, description) of status `context` on `sha`, if any."""
        ...

    def set_commit_status(self, sha: str, state: str, context: str, description: str) -> None: ...

    def merge(self, number: int, sha: str, method: str) -> str | None:
        """Merge only if the head is still `sha`; None when merged, else the forge's reason."""
        ...

    # The lifecycle (bot.lifecycle) needs these as well.
    def request_reviewers(self, number: int, users: list[str]) -> bool:
        """Ask `users` for a review; False when the forge refuses them (not collaborators)."""
        ...

    def team_members(self, team: str) -> list[str]:
        """The logins of `team` ("org/slug")."""
        ...
