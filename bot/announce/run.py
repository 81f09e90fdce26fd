"""Announce a published build on the pull requests whose content went into it.

Reads the build folder's `build.json` (written by `pipeline`; the bot reads the file, it never
imports `pipeline`). Who gets the credit is GitHub's to say: for each commit that changed a used leaf
(`taxonomy.commits`), the merged pull request GitHub associates with it (`commits/{sha}/pulls`), never a
`(#N)` an author wrote in a commit subject. For each such PR, one comment (found again by a hidden
marker carrying the build's taxonomy commit, so a rerun edits it instead of posting twice) and the
`community-build-ready` label, as upstream labels PRs whose content reached a community build. With
the build's `postcheck` section (`pipeline.evaluate.postcheck`), the comment also shows the PR's own questions
answered by the previous model and by the new build, with the scores and the leaf's gate verdict. The
label is created with its colour and description where the repository lacks it (adding an unknown
label would make a grey one that says nothing). A PR that cannot be announced (a wrong number, no
access) is reported with the reason and does not stop the others.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.comment.sticky import escape, upsert_comment
from bot.precheck.section import render_postcheck

LABEL = "community-build-ready"
LABEL_COLOR = "0e8a16"
LABEL_DESCRIPTION = "The content of this pull request is in a published community build"


class AnnounceError(RuntimeError):
    """The build folder cannot be announced: the message names the file and what is missing."""


class AnnounceForge(Protocol):
    """What announcing needs of a forge: `bot.forges.forge.Forge`'s comment and label methods, and `ensure_label`."""

    def find_comment(self, number: int, marker: str) -> tuple[int, str] | None: ...

    def create_comment(self, number: int, body: str) -> int: ...

    def edit_comment(self, comment_id: int, body: str) -> None: ...

    def labels(self, number: int) -> set[str]: ...

    def add_labels(self, number: int, names: list[str]) -> None: ...

    def ensure_label(self, name: str, color: str, description: str) -> None: ...

    def merged_pulls_of(self, sha: str) -> list[int]: ...


@dataclass(frozen=True)
class Announcement:
    """The PRs announced, and each one that could not be, with the forge's reason."""

    announced: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def read_build(build_dir: Path) -> dict[str, Any]:
    path = Path(build_dir) / "build.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AnnounceError(f"{path}: cannot read the build report: {exc}") from None
    if not report.get("published"):
        raise AnnounceError(f"{path}: the build was not published; only published builds are announced")
    return report


def credited(forge: AnnounceForge, report: dict[str, Any]) -> dict[int, list[str]]:
    """Each merged PR GitHub associates with a commit of the build's leaves, with those leaves."""
    commits = report.get("taxonomy", {}).get("commits")
    out: dict[int, set[str]] = {}
    for sha, leaves in (commits.items() if isinstance(commits, dict) else ()):
        if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            for number in forge.merged_pulls_of(sha):
                out.setdefault(number, set()).update(str(leaf) for leaf in leaves or ())
    return {number: sorted(leaves) for number, leaves in sorted(out.items())}


def postcheck_entries(report: dict[str, Any], leaves: list[str]) -> list[dict[str, Any]]:
    """The postcheck's entries for `leaves`, whichever PR number the build filed them under."""
    by_leaf = {e.get("leaf"): e for entries in ((report.get("postcheck") or {}).get("prs") or {}).values()
               for e in entries if isinstance(e, dict)}
    return [by_leaf[leaf] for leaf in leaves if leaf in by_leaf]


def comment_body(report: dict[str, Any], marker: str, entries: list[dict[str, Any]] | None = None) -> str:
    """The announcement, with the PR's postcheck `entries` (its questions before and after) when there are any."""
    taxonomy, gate = report.get("taxonomy", {}), report.get("gate", {})
    passed = "passed" if gate.get("passed") else "was forced past"
    body = (f"{marker}\nThe content of this pull request is in the community build of taxonomy commit "
            f"{escape(taxonomy.get('commit'), code=True)} ({len(report.get('leaves', {}).get('used', []))} leaves). "
            f"The build {passed} the evaluation gate; its model card and report are published with it.")
    return f"{body}\n\n{render_postcheck(entries)}" if entries else body


def _reason(exc: Exception) -> str:
    """`HTTP 404: Not Found` for a forge's HTTP error (PyGithub's carry `status` and `data`), else the message."""
    status, data = getattr(exc, "status", None), getattr(exc, "data", None)
    message = data.get("message") if isinstance(data, dict) and data.get("message") else str(exc)
    return f"HTTP {status}: {message}" if status else message


def announce(forge: AnnounceForge, build_dir: Path) -> Announcement:
    """Comment on and label every merged PR of the build; one PR's failure does not stop the others."""
    report = read_build(build_dir)
    commit = re.sub(r"[^0-9A-Za-z]", "", str(report.get("taxonomy", {}).get("commit")))[:64]  # cannot end the marker
    marker = f"<!-- taxonomist:build:{commit} -->"
    result, label_ready = Announcement(), False
    for number, leaves in credited(forge, report).items():
        body = comment_body(report, marker, postcheck_entries(report, leaves))
        try:
            upsert_comment(forge, number, marker, body)
            if LABEL not in forge.labels(number):
                if not label_ready:
                    forge.ensure_label(LABEL, LABEL_COLOR, LABEL_DESCRIPTION)
                    label_ready = True
                forge.add_labels(number, [LABEL])
        except Exception as exc:  # a wrong number or no access on one PR: say which, announce the rest
            result.failed[number] = _reason(exc)
            continue
        result.announced.append(number)
    return result
