"""`pr-template`: the PR body fills in the repository's pull request template (sections answered,
checklist ticked), instead of deleting it or leaving its placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.context import CheckContext
from checks.findings import Finding, Severity
from checks.pr import PullRequest

CHECK = "pr-template"
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$|^\s*\*\*(.+?)\*\*\s*:?\s*$")
CHECKBOX = re.compile(r"^\s*[-*]\s*\[(?P<mark>[ xX])\]\s*(?P<item>.+?)\s*$")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
PLACEHOLDER = re.compile(r"^\s*(\.\.\.|…|TODO|TBD|N/?A)?\s*$", re.IGNORECASE)


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def sections(text: str) -> dict[str, str]:
    """Heading -> the text under it (comments removed), for a Markdown document."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in COMMENT.sub("", text).splitlines():
        m = HEADING.match(line)
        if m:
            current = out.setdefault(norm(m.group(1) or m.group(2)), [])
        elif current is not None:
            current.append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def checklist(text: str) -> dict[str, bool]:
    """Checklist item text -> ticked."""
    return {norm(m["item"]): m["mark"] != " "
            for line in COMMENT.sub("", text).splitlines() if (m := CHECKBOX.match(line))}


def prose_of(section: str) -> str:
    """A section's text without its checklist lines."""
    return "\n".join(ln for ln in section.splitlines() if not CHECKBOX.match(ln)).strip()


def check_pr_template(pr: PullRequest, ctx: CheckContext) -> Iterator[Finding]:
    if not pr.template:
        return
    wanted, body = sections(pr.template), sections(pr.body)
    items, ticked = checklist(pr.template), checklist(pr.body)
    if (wanted or items) and not (set(wanted) & set(body)) and not (set(items) & set(ticked)):
        yield Finding(CHECK, Severity.WARNING,
                      "the PR description does not follow the pull request template (its sections and checklist "
                      "are missing): restore the template and fill it in")
        return
    for heading, placeholder in wanted.items():
        if heading not in body:
            yield Finding(CHECK, Severity.WARNING, f"section {heading!r} of the template was deleted: put it back")
            continue
        asked, answer = prose_of(placeholder), prose_of(body[heading])
        if items and not asked:
            continue  # a checklist-only section: the items are checked below
        if PLACEHOLDER.match(answer) or (asked and norm(answer) == norm(asked)):
            yield Finding(CHECK, Severity.WARNING, f"section {heading!r} is left as in the template: fill it in")
    for item in items:
        if item not in ticked:
            yield Finding(CHECK, Severity.WARNING, f"checklist item {item!r} was deleted: put it back and tick it")
        elif not ticked[item]:
            yield Finding(CHECK, Severity.WARNING, f"checklist item {item!r} is not ticked: do it and tick it, "
                                                   "or say why not")
