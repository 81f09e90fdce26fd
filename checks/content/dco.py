"""`dco`: every commit carries a `Signed-off-by:` trailer matching its author (Developer Certificate
of Origin), as upstream's DCO app requires."""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.context import CheckContext
from checks.findings import Finding, Severity
from checks.pr import Commit, PullRequest

CHECK = "dco"
SIGN_OFF = re.compile(r"^\s*Signed-off-by:\s*(?P<name>.*?)\s*<(?P<email>[^<>\s]+)>\s*$", re.IGNORECASE | re.MULTILINE)


def sign_offs(message: str) -> list[tuple[str, str]]:
    """(name, email) of every Signed-off-by trailer in a commit message."""
    return [(m["name"], m["email"]) for m in SIGN_OFF.finditer(message)]


def problem(commit: Commit) -> str | None:
    """Why the commit fails the DCO, or None when it passes."""
    found = sign_offs(commit.message)
    if not found:
        return "has no `Signed-off-by:` line"
    email = commit.author_email.strip().lower()
    if any(e.strip().lower() == email for _, e in found):
        return None
    listed = ", ".join(f"{n} <{e}>" for n, e in found)
    return f"is signed off by {listed}, not by its author {commit.author_name} <{commit.author_email}>"


def check_dco(pr: PullRequest, ctx: CheckContext) -> Iterator[Finding]:
    for commit in pr.commits:
        why = problem(commit)
        if why:
            title = commit.message.strip().splitlines()[0] if commit.message.strip() else ""
            yield Finding(CHECK, Severity.ERROR,
                          f"commit {commit.sha[:12]} ({title!r}) {why}: amend it with `git commit --amend -s` "
                          "(or `git rebase --signoff`) and force-push")
