"""The narrow forge interface the handlers talk to, and the plain data it returns.

Handlers never see PyGithub or git: a `Forge` is one repository on one forge. The GitHub
adapter (`bot.github_forge`) is one implementation; a local git repository
(`bot.localgit`) is another, for `taxonomist bot dry-run`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


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
class Commit:
    sha: str
    message: str
    author_name: str = ""
    author_email: str = ""


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


@dataclass(frozen=True, slots=True)
class CheckRunResult:
    """A completed check run: its conclusion, the output's title and summary, and every annotation."""

    name: str
    conclusion: str  # success, neutral, failure
    title: str
    summary: str
    annotations: tuple[Annotation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "conclusion": self.conclusion, "title": self.title,
                "summary": self.summary, "annotations": [a.to_api() for a in self.annotations]}

    @property
    def digest(self) -> str:
        """The check run's `external_id`: a retry that finds it there knows the same result is being posted."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return f"taxonomist:{hashlib.sha256(canonical).hexdigest()[:40]}"


@dataclass(frozen=True, slots=True)
class ExistingCheckRun:
    id: int
    status: str
    conclusion: str | None = None
    summary: str | None = None
    started_at: datetime | None = None  # server time: the review workflow dates the head by it
    external_id: str | None = None  # the digest of the result posted into it (CheckRunResult.digest)
    annotations_count: int = 0  # annotations already on it (the API only appends)


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

    def commits(self, pr: PullRequest) -> list[Commit]: ...

    def find_check_run(self, head_sha: str, name: str) -> ExistingCheckRun | None:
        """The newest check run named `name` on `head_sha` (the one GitHub shows)."""
        ...

    def check_run_starts(self, head_sha: str, name: str) -> list[datetime]:
        """When each check run named `name` on `head_sha` started (server time), every one of them."""
        ...

    def force_pushes(self, number: int) -> list[ForcePush]:
        """The PR's force pushes, from its issue events."""
        ...

    def start_check_run(self, head_sha: str, name: str) -> int:
        """Create the check run in progress and return its id."""
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
        """The id and body of the bot's own comment carrying `marker`, if any."""
        ...

    def create_comment(self, number: int, body: str) -> int: ...

    def edit_comment(self, comment_id: int, body: str) -> None: ...

    def labels(self, number: int) -> set[str]: ...

    def add_labels(self, number: int, names: list[str]) -> None: ...

    def remove_label(self, number: int, name: str) -> None: ...

    # The review workflow (bot.review.handler) needs these as well.
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
