"""A forge over a local git repository: `taxonomist bot dry-run` triages a branch with no GitHub.

Reads come from git objects (`git cat-file`, `git diff`, `git log`) at resolved commits, never
from a working tree, so the dry run sees exactly what the API would serve. Writes are recorded
in memory instead of being posted: the dry run prints them.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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
)

_STATUS = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "added", "T": "modified"}
_FIELD, _RECORD = "\x1f", "\x1e"


class GitError(Exception):
    """git refused: not a repository, an unknown ref."""


@dataclass
class RecordedCheckRun:
    id: int
    head_sha: str
    name: str
    status: str = "in_progress"
    conclusion: str | None = None
    title: str = ""
    summary: str = ""
    external_id: str | None = None
    annotations: list[Annotation] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class LocalGitForge:
    """`head` is a branch or commit of `repo` standing in for PR `number` against `base`."""

    repo: Path
    base: str
    head: str
    number: int = 1
    body: str = ""
    labels_now: set[str] = field(default_factory=set)
    check_runs: list[RecordedCheckRun] = field(default_factory=list)
    comments: dict[int, str] = field(default_factory=dict)

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run(["git", "-C", str(self.repo), *args], capture_output=True, check=False)
        if check and done.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
        return done

    def _resolve(self, ref: str) -> str:
        return self._git("rev-parse", "--verify", f"{ref}^{{commit}}").stdout.decode().strip()

    @property
    def name(self) -> str:
        return self.repo.name

    @property
    def base_sha(self) -> str:
        return self._resolve(self.base)

    def _modes(self, ref: str, *paths: str, recursive: bool = False) -> dict[str, str]:
        """`git ls-tree` at `ref` (the whole tree, or exactly `paths`): path -> mode."""
        out = self._git("ls-tree", "-z", *(["-r"] if recursive else []), self._resolve(ref), "--",
                        *paths).stdout.decode()
        return {path: info.split(" ", 1)[0] for info, _, path in (e.partition("\t") for e in out.split("\0") if e)}

    def list_files(self, ref: str) -> list[str]:
        return [p for p, mode in self._modes(ref, recursive=True).items() if ENTRY_KINDS.get(mode) == "file"]

    def entry_kind(self, path: str, ref: str) -> str | None:
        mode = self._modes(ref, path).get(path)
        return None if mode is None else ENTRY_KINDS.get(mode, "file")

    def pull_request(self, number: int) -> PullRequest:
        head_sha = self._resolve(self.head)
        self._resolve(self.base)
        log = self._git("log", "-1", f"--format=%an{_FIELD}%s", head_sha).stdout.decode().strip()
        author, _, subject = log.partition(_FIELD)
        return PullRequest(number=number, head_sha=head_sha, base_ref=self.base, author=author,
                           title=subject, body=self.body)

    def changed_files(self, pr: PullRequest) -> list[ChangedFile]:
        out = self._git("diff", "--name-status", "-M", "-z", f"{self.base}...{pr.head_sha}").stdout.decode()
        tokens = out.split("\0")
        files: list[ChangedFile] = []
        i = 0
        while i < len(tokens) and tokens[i]:
            code = tokens[i][0]
            if code in "RC":
                files.append(ChangedFile(tokens[i + 2], _STATUS[code]))
                i += 3
            else:
                files.append(ChangedFile(tokens[i + 1], _STATUS.get(code, "modified")))
                i += 2
        return files

    def read_file(self, path: str, ref: str) -> bytes | None:
        done = self._git("cat-file", "blob", f"{ref}:{path}", check=False)
        return done.stdout if done.returncode == 0 else None

    def commits(self, pr: PullRequest) -> list[Commit]:
        fmt = _FIELD.join(("%H", "%an", "%ae", "%B")) + _RECORD
        out = self._git("log", "--reverse", f"--format={fmt}", f"{self.base}..{pr.head_sha}").stdout.decode()
        commits = []
        for record in filter(None, (r.strip("\n") for r in out.split(_RECORD))):
            sha, name, email, message = record.split(_FIELD, 3)
            commits.append(Commit(sha=sha, message=message.strip(), author_name=name, author_email=email))
        return commits

    def find_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> ExistingCheckRun | None:
        for run in reversed(self.check_runs):
            if run.head_sha == head_sha and run.name == name:
                return ExistingCheckRun(run.id, run.status, run.conclusion, run.summary, run.started_at,
                                        external_id=run.external_id, annotations_count=len(run.annotations))
        return None

    def check_run_starts(self, head_sha: str, name: str, *, pr: int | None = None) -> list[datetime]:
        return [run.started_at for run in self.check_runs if run.head_sha == head_sha and run.name == name]

    def force_pushes(self, number: int) -> list[ForcePush]:
        return []  # a local branch has no event log

    def base_changes(self, number: int) -> list[datetime]:
        return []

    def start_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> int:
        self.check_runs.append(RecordedCheckRun(id=len(self.check_runs) + 1, head_sha=head_sha, name=name))
        return len(self.check_runs)

    def _run(self, check_run_id: int) -> RecordedCheckRun:
        return self.check_runs[check_run_id - 1]

    def mark_in_progress(self, check_run_id: int) -> None:
        self._run(check_run_id).status = "in_progress"

    def add_annotations(self, check_run_id: int, result: CheckRunResult, annotations: list[Annotation]) -> None:
        run = self._run(check_run_id)
        run.annotations.extend(annotations)
        run.external_id = result.digest

    def complete_check_run(self, check_run_id: int, result: CheckRunResult) -> None:
        run = self._run(check_run_id)
        run.status, run.conclusion, run.title, run.summary = "completed", result.conclusion, result.title, \
            result.summary
        run.external_id = result.digest

    def find_comment(self, number: int, marker: str) -> tuple[int, str] | None:
        return next(((i, b) for i, b in self.comments.items() if marker in b), None)

    def create_comment(self, number: int, body: str) -> int:
        self.comments[len(self.comments) + 1] = body
        return len(self.comments)

    def edit_comment(self, comment_id: int, body: str) -> None:
        self.comments[comment_id] = body

    def labels(self, number: int) -> set[str]:
        return set(self.labels_now)

    def add_labels(self, number: int, names: list[str]) -> None:
        self.labels_now |= set(names)

    def remove_label(self, number: int, name: str) -> None:
        self.labels_now.discard(name)

    # What the review workflow reads: a local branch has no conversation, no reviews, no teams.
    def issue_comments(self, number: int) -> list[IssueComment]:
        return []

    def reviews(self, number: int) -> list[PullReview]:
        return []

    def is_team_member(self, team: str, user: str) -> bool:
        return False
