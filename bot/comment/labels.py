"""The labels triage owns, and which of them a pull request should carry after a triage run.

The bot adds and removes only its own labels: a label a person set is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

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


class LabelForge(Protocol):
    """What `set_label` needs of a forge (`bot.forges.forge.Forge` has it)."""

    def labels(self, number: int) -> set[str]: ...

    def add_labels(self, number: int, names: list[str]) -> None: ...

    def remove_label(self, number: int, name: str) -> None: ...


def set_label(forge: LabelForge, number: int, name: str, wanted: bool, labels: Iterable[str] | None = None) -> None:
    """Add or remove label `name` so that its presence matches `wanted`; names compare without case, as
    GitHub's do. `labels`: the PR's labels when the caller already has them (saves a read)."""
    present = next((label for label in (forge.labels(number) if labels is None else labels)
                    if label.lower() == name.lower()), None)
    if wanted and present is None:
        forge.add_labels(number, [name])
    elif not wanted and present is not None:
        forge.remove_label(number, present)
