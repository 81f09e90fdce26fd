"""Label decisions: kinds by path, flags by finding, and never a label the bot does not own."""

from __future__ import annotations

from bot.comment.labels import OWNED, label_plan, wanted_labels
from checks.findings import Severity
from tests.bot.helpers import finding, report


def test_kind_and_flag_labels_from_paths_and_findings() -> None:
    found = report(finding("pii", Severity.WARNING), finding("llm-text", Severity.WARNING))
    wanted = wanted_labels(found, ["compositional_skills/a/qna.yaml", "knowledge/b/qna.yaml", "README.md"])
    assert wanted == {"skill", "knowledge", "pii-suspected", "llm-text-suspected"}


def test_plan_adds_missing_removes_stale_owned_and_keeps_foreign_labels() -> None:
    add, remove = label_plan({"pii-suspected", "good first issue", "knowledge"}, {"skill"}, new_contribution=False)
    assert add == ["skill"]
    assert remove == ["knowledge", "pii-suspected"]
    assert "good first issue" not in remove


def test_triage_needed_added_on_new_contribution_and_never_removed() -> None:
    assert label_plan(set(), {"skill"}, new_contribution=True)[0] == ["skill", "triage-needed"]
    assert label_plan({"triage-needed"}, set(), new_contribution=False) == ([], [])


def test_owned_labels_are_the_designs() -> None:
    assert {"skill", "knowledge", "triage-needed", "pii-suspected", "possible-duplicate", "topic-review",
            "llm-text-suspected"} == OWNED
