"""Triage one pull request head: read it through the forge, run the checks, publish the result.

Everything is read through the forge at explicit refs (the PR's head SHA, the base branch for
the configuration); nothing from the PR is checked out or run, and YAML is only safe-loaded by
`checks`. Each effect finds what an earlier run left (check run by head SHA and name, comment
by marker, labels by name) and updates it, so running twice leaves the same state as once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from bot.comment.labels import label_plan, wanted_labels
from bot.comment.sticky import CHECK_RUN_LIMIT, MARKER, fit, upsert
from bot.forges.forge import CheckRunResult, ExistingCheckRun, Forge, LabelChange, PullRequest
from bot.forges.heads import read_head_since
from bot.forges.repoconfig import read_config
from bot.triage.entries import ATTRIBUTION, Contribution, read_contribution
from bot.triage.fixes import TEMPLATE_PATH, names_template, template_reference
from bot.triage.indexes import IndexStore
from bot.triage.render import (
    CHECK_RUN_NAME,
    AnnotationLimits,
    batches,
    failed_check_run,
    render_check_run,
    triage_section,
)
from bot.triage.summary import could_not_run, verdict
from checks.config import ConfigError, RepoConfig
from checks.findings import Report
from checks.paths import QNA_NAMES, kind_of, taxonomy_path
from checks.pr import PullRequest as PrMetadata
from checks.registry import CHECKS
from checks.runner import Checker

PR_TEMPLATE_PATH = ".github/pull_request_template.md"
TRIAGED_KINDS = ("skill", "knowledge")  # foundational_skills is upstream-only, as in upstream CI

ReviewSection = Callable[[Forge, PullRequest], str | None]


@dataclass(frozen=True, slots=True)
class TriageOutcome:
    """What one triage run published (also what `dry-run` prints)."""

    pr: PullRequest
    report: Report | None
    check_run: CheckRunResult
    comment: str
    labels: LabelChange


def contribution_paths(changed: Sequence[tuple[str, str]], exists: Callable[[str], bool]) -> list[str]:
    """The qna files to check: changed ones that still exist, plus those whose attribution changed."""
    found: dict[str, None] = {}
    attributions = []
    for path, status in changed:
        p = PurePosixPath(path)
        if kind_of(taxonomy_path(p)) not in TRIAGED_KINDS:
            continue
        if p.name in QNA_NAMES and status != "removed":
            found[path] = None
        elif p.name == ATTRIBUTION:
            attributions.append(p)
    for p in attributions:
        if not any((p.parent / name).as_posix() in found for name in QNA_NAMES):
            sibling = (p.parent / "qna.yaml").as_posix()
            if exists(sibling):
                found[sibling] = None
    return list(found)


def pr_metadata(forge: Forge, pr: PullRequest) -> PrMetadata:
    """What the pr-template and dco checks read of the PR: its body, its commits and the base's template."""
    template = forge.read_file(PR_TEMPLATE_PATH, pr.base_ref)
    return PrMetadata(body=pr.body, commits=tuple(forge.commits(pr)),
                      template=template.decode("utf-8", errors="replace") if template is not None else None)


def contribution_sources(forge: Forge, pr: PullRequest) -> tuple[Contribution, list[str]]:
    """The PR's contribution files at its head SHA, each with its `attribution.txt`, and every changed path."""
    changed = [(c.path, c.status) for c in forge.changed_files(pr)]
    paths = contribution_paths(changed, lambda p: forge.entry_kind(p, pr.head_sha) is not None)
    return read_contribution(forge, paths, pr.head_sha), [p for p, _ in changed]


def check_pull_request(forge: Forge, pr: PullRequest, config: RepoConfig, *, skip: Sequence[str] = (),
                       indexes: IndexStore | None = None) -> tuple[Report, list[str]]:
    """Run the checks on the PR's contribution files at its head SHA."""
    contribution, changed = contribution_sources(forge, pr)
    sources = contribution.sources
    checker = Checker(config, skip=skip)
    if indexes is not None and "duplicate" in checker.selected:
        checker.index = indexes.for_pull_request(forge, forge.name, pr.number, pr.base_ref, sources)
    wants_pr = any(c.scope == "pr" and c.id in checker.selected for c in CHECKS)
    metadata = pr_metadata(forge, pr) if wants_pr else None
    return contribution.complete(checker.check(sources, pr=metadata)), changed


def publish_check_run(forge: Forge, pr: PullRequest, result: CheckRunResult,
                      existing: ExistingCheckRun | None = None) -> None:
    """Post `result` on the head's newest check run, never twice and never on top of another result.

    The API only appends annotations, so a run is marked with the digest of its result
    (`external_id`): the same result already complete is a no-op (a redelivery, a retried job);
    a run that a crashed attempt left half-filled with the same result is resumed after the
    annotations it already has; a run holding another result (a `/recheck`, a changed base
    configuration) or unmarked annotations is left as it is and a new run shows the new result
    (GitHub shows the newest). Only this app's runs made for this PR are looked at: a run on the same
    commit made for another PR (or by another app) is never resumed nor taken as this PR's result.
    Every check run's summary goes out within GitHub's limit (`fit`), whoever rendered it."""
    summary = fit(result.summary, CHECK_RUN_LIMIT, f"the `{result.name}` check run's summary did not fit.")
    head_sha, result = pr.head_sha, replace(result, pr=pr.number, summary=summary)
    existing = existing or forge.find_check_run(head_sha, result.name, pr=pr.number)
    if existing is not None and existing.external_id == result.digest and existing.status == "completed":
        return
    if existing is None or existing.status == "completed" or (
            existing.annotations_count and existing.external_id != result.digest):
        existing = ExistingCheckRun(forge.start_check_run(head_sha, result.name, pr=pr.number), "in_progress")
    for batch in batches(result.annotations[existing.annotations_count:]):
        forge.add_annotations(existing.id, result, batch)
    forge.complete_check_run(existing.id, result)


def publish_labels(forge: Forge, number: int, wanted: set[str], *, new_contribution: bool) -> LabelChange:
    add, remove = label_plan(forge.labels(number), wanted, new_contribution=new_contribution)
    if add:
        forge.add_labels(number, add)
    for name in remove:
        forge.remove_label(number, name)
    return LabelChange(added=add, removed=remove)


def mark_started(forge: Forge, pr: PullRequest) -> ExistingCheckRun:
    """Show the head's check run in progress as soon as a worker picks the job up.

    A new run is started when no run dates the head's current stint (`bot.forges.heads`): none yet,
    or the head came back after another commit was seen (its old runs predate that)."""
    existing = forge.find_check_run(pr.head_sha, CHECK_RUN_NAME, pr=pr.number)
    if existing is None or read_head_since(forge, pr) is None:
        return ExistingCheckRun(forge.start_check_run(pr.head_sha, CHECK_RUN_NAME, pr=pr.number), "in_progress")
    if existing.status == "queued":
        forge.mark_in_progress(existing.id)
    return existing


def triage(forge: Forge, number: int, *, skip: Sequence[str] = (), indexes: IndexStore | None = None,
           review_section: ReviewSection | None = None,
           limits: AnnotationLimits = AnnotationLimits()) -> TriageOutcome | None:
    """Triage the PR's current head and publish the check run, the comment and the labels.

    A PR with no triage comment yet is a new contribution (`triage-needed`): that survives
    coalescing and redelivery, unlike the event's action. Labels go before the comment, so a
    crash between them still labels the PR on the retry. `review_section` renders the review
    workflow's part of the sticky comment (the caller hands it in). Returns None for a closed PR."""
    pr = forge.pull_request(number)
    if pr.state != "open":
        return None
    run = mark_started(forge, pr)
    try:
        config = read_config(forge, pr)
    except ConfigError as exc:
        result = failed_check_run(f"the repository configuration is invalid: {exc}")
        publish_check_run(forge, pr, result, run)
        review = review_section(forge, pr) if review_section is not None else None
        body = upsert(forge, number, {"verdict": could_not_run(), "triage": result.summary, "review": review})
        return TriageOutcome(pr, None, result, body, LabelChange())
    report, changed = check_pull_request(forge, pr, config, skip=skip, indexes=indexes)
    result = render_check_run(report, limits)
    publish_check_run(forge, pr, result, run)
    # The review part reads the check run just completed, so it never waits for a finished check.
    review = review_section(forge, pr) if review_section is not None else None
    comment = forge.find_comment(number, MARKER)
    labels = publish_labels(forge, number, wanted_labels(report, changed), new_contribution=comment is None)
    template = None
    if names_template((f.check, f.message) for f in report.all_findings()):
        template = template_reference(forge.read_file(TEMPLATE_PATH, pr.base_ref) is not None)
    sections = {"verdict": verdict(report, result.conclusion),
                "triage": triage_section(report, pr.head_sha, template), "review": review}
    body = upsert(forge, number, sections, comment)
    return TriageOutcome(pr, report, result, body, labels)


def report_failure(forge: Forge, number: int, reason: str) -> None:
    """Retries are spent: say so on the PR's head as a failed check run, never drop it silently."""
    pr = forge.pull_request(number)
    publish_check_run(forge, pr, failed_check_run(reason))
