"""What triage shows people: the sticky comment and the check run, rendered from a report.

Pure functions of their inputs, so a redelivered webhook or a retried job renders the same
text and the forge edits are no-ops. The comment's layout (marker, sections, limits) belongs to
`bot.comment.sticky`; this module renders the triage section and the check run. Every piece of user
text (paths, messages) passes through `bot.comment.sticky.escape`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.comment.sticky import CHECK_RUN_LIMIT, MARKER, compose, escape, fit
from bot.forges.forge import Annotation, CheckRunResult
from bot.forges.heads import CHECK_RUN_NAME
from bot.triage.fixes import fix_for
from bot.triage.summary import Row, fold, lines_text, verdict
from checks.findings import Finding, Report, Severity, plural

__all__ = ["CHECK_RUN_NAME", "MARKER"]  # where the triage handler and its tests have always found them

ANNOTATION_BATCH = 50  # the API's limit per request
MAX_COMMENT_ROWS = 200  # GitHub comments hold 65536 characters; the check run has the rest
ANNOTATION_TEXT_LIMIT = 4000  # an annotation's message (GitHub takes 64 KB; nobody reads that much)
_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}
_ICON = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


@dataclass(frozen=True, slots=True)
class AnnotationLimits:
    """At most `per_file` annotations per file and `per_run` per check run (settings
    `annotations_per_file`, `annotations_per_run`); the summary counts what was left out."""

    per_file: int = 200
    per_run: int = 1000


def conclusion_of(report: Report) -> str:
    """`failure` when anything blocks, `neutral` when a human should look, else `success`."""
    if report.errors:
        return "failure"
    return "neutral" if report.warnings else "success"


def headline(report: Report) -> str:
    """`2 errors, 0 warnings in 1 file`, and the pull request's own findings counted apart, as the comment
    shows them apart ("0 errors, 0 warnings in 1 file; 1 warning on the pull request")."""
    files = len(report.files)
    if not files and not report.findings:
        return "No taxonomy files changed"
    in_files = [f for fr in report.files for f in fr.findings]
    line = (f"{plural(sum(f.severity is Severity.ERROR for f in in_files), 'error')}, "
            f"{plural(sum(f.severity is Severity.WARNING for f in in_files), 'warning')} in {plural(files, 'file')}")
    on_pr = [plural(n, str(severity)) for severity in (Severity.ERROR, Severity.WARNING)
             if (n := sum(f.severity is severity for f in report.findings))]
    return f"{line}; {' and '.join(on_pr)} on the pull request" if on_pr else line


def _table(folded: list[Row], template: str | None = None) -> list[str]:
    """A table of folded findings: repeats are one row with their lines listed."""
    rows = ["| Check | Severity | Lines | Message | Fix |", "| --- | --- | --- | --- | --- |"]
    for r in folded:
        rows.append(f"| `{r.check}` | {_ICON[r.severity]} | {lines_text(r.lines)} | {escape(r.message)} | "
                    f"{fix_for(r.check, r.message, template)} |")
    return rows


def render_comment(report: Report, head_sha: str, review_section: str | None = None,
                   template: str | None = None) -> str:
    """The whole sticky comment as triage leaves it: its section and the review section handed to it."""
    return compose({"verdict": verdict(report, conclusion_of(report)),
                    "triage": triage_section(report, head_sha, template), "review": review_section})


def triage_section(report: Report, head_sha: str, template: str | None = None) -> str:
    """The sticky comment's triage section: one table per file and PR-level findings; the fixes point at
    `template` (the base branch's template when it has one)."""
    out = [f"**{headline(report)}** at {escape(head_sha[:7], code=True)}.", ""]
    shown = 0
    for fr in report.files:
        out.append(f"### {escape(fr.path, code=True)} ({fr.kind})")
        if not fr.findings:
            out += ["", "No problems found.", ""]
            continue
        room = max(0, MAX_COMMENT_ROWS - shown)
        folded = fold(fr.findings)
        out += ["", *_table(folded[:room], template), ""]
        shown += min(room, len(folded))
        if len(folded) > room:
            out += [f"…and {len(folded) - room} more in the `{CHECK_RUN_NAME}` check run.", ""]
    if report.findings:
        out += ["### Pull request", "", *_table(fold(report.findings), template), ""]
    return "\n".join(out).rstrip() + "\n"


def _annotation(f: Finding, repo_path: str) -> Annotation:
    line = f.line or 1
    return Annotation(path=repo_path, start_line=line, end_line=line, annotation_level=_LEVEL[f.severity],
                      message=escape(f.message, plain=True, limit=ANNOTATION_TEXT_LIMIT),
                      title=f"{f.check} ({f.severity})")


def render_check_run(report: Report, limits: AnnotationLimits = AnnotationLimits()) -> CheckRunResult:
    """The completed check run: a summary table per file and one annotation per located finding, as
    many as `limits` allow (the summary says how many were left out)."""
    lines = ["| File | Kind | Errors | Warnings |", "| --- | --- | --- | --- |"]
    annotations: list[Annotation] = []
    left_out = 0
    for fr in report.files:
        errors = sum(f.severity is Severity.ERROR for f in fr.findings)
        warnings = sum(f.severity is Severity.WARNING for f in fr.findings)
        lines.append(f"| {escape(fr.path, code=True)} | {fr.kind} | {errors} | {warnings} |")
        room = max(0, min(limits.per_file, limits.per_run - len(annotations)))
        annotations += [_annotation(f, fr.source) for f in fr.findings[:room]]
        left_out += max(0, len(fr.findings) - room)
    for f in report.findings:
        lines.append(f"| (pull request) `{f.check}` | | {int(f.severity is Severity.ERROR)} | "
                     f"{int(f.severity is Severity.WARNING)} |")
    if left_out:
        lines += ["", f"{left_out} more finding{'s' * (left_out != 1)} left out of the annotations (at most "
                      f"{limits.per_file} per file and {limits.per_run} per run); `taxonomist check` lists them all."]
    summary = fit("\n".join([f"**{headline(report)}**", "", *lines]), CHECK_RUN_LIMIT,
                  "run `taxonomist check` on the branch for the full report.")
    return CheckRunResult(name=CHECK_RUN_NAME, conclusion=conclusion_of(report), title=headline(report),
                          summary=summary, annotations=tuple(annotations))


def failed_check_run(reason: str) -> CheckRunResult:
    """What the PR shows when triage itself could not finish (retries spent, bad configuration)."""
    return CheckRunResult(name=CHECK_RUN_NAME, conclusion="failure", title="Triage could not run",
                          summary=f"Triage could not run: {escape(reason)}\n\nComment `/recheck` to try again.")


def batches(annotations: tuple[Annotation, ...]) -> list[list[Annotation]]:
    return [list(annotations[i:i + ANNOTATION_BATCH]) for i in range(0, len(annotations), ANNOTATION_BATCH)]
