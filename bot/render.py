"""What triage shows people: the sticky comment and the check run, rendered from a report.

Pure functions of their inputs, so a redelivered webhook or a retried job renders the same
text and the forge edits are no-ops. The review workflow owns the comment's review-state
section and passes it in as text.
"""

from __future__ import annotations

import hashlib
import json

from bot.fixes import fix_for
from bot.forge import Annotation, CheckRunResult
from checks.findings import Finding, Report, Severity

CHECK_RUN_NAME = "taxonomist/triage"
MARKER = "<!-- taxonomist:triage -->"
ANNOTATION_BATCH = 50  # the API's limit per request
MAX_COMMENT_ROWS = 200  # GitHub comments hold 65536 characters; the check run has the rest
_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}
_ICON = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped, no HTML comment openers."""
    return " ".join(text.split()).replace("|", "\\|").replace("<!--", "&lt;!--")


def conclusion_of(report: Report) -> str:
    """`failure` when anything blocks, `neutral` when a human should look, else `success`."""
    if report.errors:
        return "failure"
    return "neutral" if report.warnings else "success"


def headline(report: Report) -> str:
    files = len(report.files)
    if not files and not report.findings:
        return "No taxonomy files changed"
    return (f"{report.errors} error{'s' * (report.errors != 1)}, "
            f"{report.warnings} warning{'s' * (report.warnings != 1)} in {files} file{'s' * (files != 1)}")


def digest(report: Report) -> str:
    """A short fingerprint of the findings: an unchanged result needs no new check-run output."""
    return hashlib.sha256(json.dumps(report.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def _rows(findings: list[Finding], template: str | None = None) -> list[str]:
    rows = ["| Check | Severity | Line | Message | Fix |", "| --- | --- | --- | --- | --- |"]
    for f in findings:
        rows.append(f"| `{f.check}` | {_ICON[f.severity]} | {f.line or ''} | {cell(f.message)} | "
                    f"{cell(fix_for(f.check, f.message, template))} |")
    return rows


def what_happens_next(report: Report) -> str:
    if report.errors:
        return ("**What happens next:** fix the errors above and push to this branch; triage runs again on "
                "every push and this comment is updated. A reviewer looks at the PR once the checks pass.")
    if report.warnings:
        return ("**What happens next:** no blocking problem. A triager will look at the warnings above; you "
                "can address them now with a new push.")
    return "**What happens next:** the checks pass. A triager will review the contribution."


def render_comment(report: Report, head_sha: str, review_section: str | None = None,
                   template: str | None = None) -> str:
    """The sticky comment: one table per file, PR-level findings, next steps, and the review state."""
    out = [MARKER, "## Taxonomist triage", "",
           f"**{headline(report)}** at `{head_sha[:7]}`.", ""]
    shown = 0
    for fr in report.files:
        out.append(f"### `{fr.path}` ({fr.kind})")
        if not fr.findings:
            out += ["", "No problems found.", ""]
            continue
        room = max(0, MAX_COMMENT_ROWS - shown)
        out += ["", *_rows(fr.findings[:room], template), ""]
        shown += min(room, len(fr.findings))
        if len(fr.findings) > room:
            out += [f"…and {len(fr.findings) - room} more in the `{CHECK_RUN_NAME}` check run.", ""]
    if report.findings:
        out += ["### Pull request", "", *_rows(report.findings), ""]
    out += [what_happens_next(report), ""]
    if review_section:
        out += ["### Review", "", review_section.strip(), ""]
    return "\n".join(out).rstrip() + "\n"


def _annotation(f: Finding, repo_path: str) -> Annotation:
    line = f.line or 1
    return Annotation(path=repo_path, start_line=line, end_line=line, annotation_level=_LEVEL[f.severity],
                      message=f.message, title=f"{f.check} ({f.severity})")


def render_check_run(report: Report) -> CheckRunResult:
    """The completed check run: a summary table per file and one annotation per located finding."""
    lines = ["| File | Kind | Errors | Warnings |", "| --- | --- | --- | --- |"]
    annotations: list[Annotation] = []
    for fr in report.files:
        errors = sum(f.severity is Severity.ERROR for f in fr.findings)
        warnings = sum(f.severity is Severity.WARNING for f in fr.findings)
        lines.append(f"| `{cell(fr.path)}` | {fr.kind} | {errors} | {warnings} |")
        annotations += [_annotation(f, fr.source) for f in fr.findings]
    for f in report.findings:
        lines.append(f"| (pull request) `{f.check}` | | {int(f.severity is Severity.ERROR)} | "
                     f"{int(f.severity is Severity.WARNING)} |")
    summary = "\n".join([f"**{headline(report)}**", "", *lines, "", f"<!-- result {digest(report)} -->"])
    return CheckRunResult(name=CHECK_RUN_NAME, conclusion=conclusion_of(report), title=headline(report),
                          summary=summary, annotations=tuple(annotations))


def failed_check_run(reason: str) -> CheckRunResult:
    """What the PR shows when triage itself could not finish (retries spent, bad configuration)."""
    return CheckRunResult(name=CHECK_RUN_NAME, conclusion="failure", title="Triage could not run",
                          summary=f"Triage could not run: {reason}\n\nComment `/recheck` to try again.")


def batches(annotations: tuple[Annotation, ...]) -> list[list[Annotation]]:
    return [list(annotations[i:i + ANNOTATION_BATCH]) for i in range(0, len(annotations), ANNOTATION_BATCH)]
