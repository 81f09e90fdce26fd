"""What a triager reads first: the verdict line, and findings folded into one row per repeat.

Pure functions of a report, so the comment stays deterministic. A verdict always agrees with
the check run's conclusion (`bot.triage.render.conclusion_of`): errors block, warnings ask a human to
look, nothing else means the PR is ready for review. Folding keeps a file with eleven identical
`topic` findings to one row that lists the eleven lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.comment.labels import FLAG_LABELS
from checks.findings import Finding, Report, Severity

_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
MAX_LINES_SHOWN = 12  # a row lists this many line numbers or ranges, then says how many more

# The first word of the verdict for each check-run conclusion: the corpus test holds them together.
VERDICTS = {"failure": "Blocked", "neutral": "Needs a human look", "success": "Ready for review"}


@dataclass(frozen=True, slots=True)
class Row:
    """Every finding of one file with the same check, severity and message."""

    check: str
    severity: Severity
    message: str
    lines: tuple[int, ...]  # sorted, distinct; empty when no finding had a line
    count: int  # findings folded into this row (a finding may repeat on one line)


def fold(findings: Iterable[Finding]) -> list[Row]:
    """One row per (check, severity, message), errors first, then in order of first appearance."""
    groups: dict[tuple[str, Severity, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.check, f.severity, f.message), []).append(f)
    rows = [Row(check, severity, message, tuple(sorted({f.line for f in found if f.line})), len(found))
            for (check, severity, message), found in groups.items()]
    return sorted(rows, key=lambda r: _RANK[r.severity])  # stable: first appearance within a severity


def lines_text(lines: Sequence[int]) -> str:
    """`3, 7-9, 15`: consecutive lines as ranges, at most MAX_LINES_SHOWN parts, then `+N more`."""
    parts: list[str] = []
    start = prev = None
    for line in [*lines, None]:
        if prev is not None and line == prev + 1:
            prev = line
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = line
    if len(parts) > MAX_LINES_SHOWN:
        return ", ".join(parts[:MAX_LINES_SHOWN]) + f" (+{len(parts) - MAX_LINES_SHOWN} more)"
    return ", ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def flags(report: Report) -> list[str]:
    """What a human is asked to look at: the label each warning raises, else its check id."""
    return sorted({FLAG_LABELS.get(f.check, f.check) for f in report.all_findings()
                   if f.severity is Severity.WARNING})


def verdict(report: Report, conclusion: str) -> str:
    """The comment's first visible line: where the PR stands, then who acts next."""
    word = VERDICTS[conclusion]
    if conclusion == "failure":
        return (f"**{word}: {_plural(report.errors, 'error')} to fix.** Next: the author fixes "
                f"{'it' if report.errors == 1 else 'them'} and pushes; triage runs again on every push.")
    if conclusion == "neutral":
        named = ", ".join(f"`{name}`" for name in flags(report))
        return (f"**{word}: {named}.** Next: a triager checks the flagged "
                f"{'finding' if report.warnings == 1 else 'findings'}; nothing blocks the PR.")
    what = "no problems found" if report.files or report.findings else "no taxonomy files changed"
    return f"**{word}: {what}.** Next: maintainers review it (`/lgtm`, then `/approve`)."


def could_not_run() -> str:
    """The verdict when triage itself failed (the check run concludes `failure` with the reason)."""
    return f"**{VERDICTS['failure']}: triage could not run.** Next: a maintainer fixes the cause below, then " \
           "comments `/recheck`."
