"""Announce a published build on the pull requests whose content went into it.

Reads the build folder's `build.json` (written by `pipeline`; the bot reads the file, it never
imports `pipeline`): for each merged PR in `taxonomy.prs`, one comment (found again by a hidden
marker carrying the build's taxonomy commit, so a rerun edits it instead of posting twice) and the
`community-build-ready` label, as upstream labels PRs whose content reached a community build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.forge import Forge

LABEL = "community-build-ready"


class AnnounceError(RuntimeError):
    """The build folder cannot be announced: the message names the file and what is missing."""


def read_build(build_dir: Path) -> dict[str, Any]:
    path = Path(build_dir) / "build.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AnnounceError(f"{path}: cannot read the build report: {exc}") from None
    if not report.get("published"):
        raise AnnounceError(f"{path}: the build was not published; only published builds are announced")
    return report


def comment_body(report: dict[str, Any], marker: str) -> str:
    taxonomy, gate = report.get("taxonomy", {}), report.get("gate", {})
    passed = "passed" if gate.get("passed") else "was forced past"
    return (f"{marker}\nThe content of this pull request is in the community build of taxonomy commit "
            f"`{taxonomy.get('commit')}` ({len(report.get('leaves', {}).get('used', []))} leaves). "
            f"The build {passed} the evaluation gate; its model card and report are published with it.")


def announce(forge: Forge, build_dir: Path) -> list[int]:
    """Comment on and label every merged PR of the build; returns the PR numbers announced."""
    report = read_build(build_dir)
    marker = f"<!-- taxonomist:build:{report.get('taxonomy', {}).get('commit')} -->"
    body = comment_body(report, marker)
    announced = []
    for number in report.get("taxonomy", {}).get("prs", []):
        existing = forge.find_comment(number, marker)
        if existing is None:
            forge.create_comment(number, body)
        elif existing[1] != body:
            forge.edit_comment(existing[0], body)
        if LABEL not in forge.labels(number):
            forge.add_labels(number, [LABEL])
        announced.append(number)
    return announced
