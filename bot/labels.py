"""The labels triage owns, and which of them a pull request should carry after a triage run.

The bot adds and removes only its own labels: a label a person set is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from checks.findings import Report, Severity
from checks.paths import kind_of, taxonomy_path

NEW_CONTRIBUTION = "triage-needed"
KIND_LABELS = {"skill": "skill", "knowledge": "knowledge"}
FLAG_LABELS = {
    "pii": "pii-suspected",
    "duplicate": "possible-duplicate",
    "topic": "topic-review",
    "llm-text": "llm-text-suspected",
}
OWNED = frozenset({NEW_CONTRIBUTION, *KIND_LABELS.values(), *FLAG_LABELS.values()})


def wanted_labels(report: Report, changed_paths: Iterable[str]) -> set[str]:
    """The owned labels the current head deserves: its kinds and the flags its findings raise."""
    wanted = {KIND_LABELS[k] for k in (kind_of(taxonomy_path(p)) for p in changed_paths) if k in KIND_LABELS}
    # An `info` finding only informs (a `duplicate` note about one file's own examples raises no flag).
    wanted |= {FLAG_LABELS[f.check] for f in report.all_findings()
               if f.check in FLAG_LABELS and f.severity is not Severity.INFO}
    return wanted


def label_plan(current: set[str], wanted: set[str], *, new_contribution: bool) -> tuple[list[str], list[str]]:
    """(to add, to remove). `triage-needed` is added on a new contribution (its first triage) and
    never removed here: taking it off is a human's (or the review workflow's) decision."""
    if new_contribution:
        wanted = wanted | {NEW_CONTRIBUTION}
    add = sorted(wanted - current)
    remove = sorted((current & OWNED) - wanted - {NEW_CONTRIBUTION})
    return add, remove
