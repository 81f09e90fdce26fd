"""For every pull request in the corpus, the comment opens with a verdict that agrees with the check run.

Structural checks only (all 918 PRs in seconds; the content checks load models and would take
minutes): blocked with the check run's error count when it fails, "needs a human look" naming the
flags when it is neutral, "ready for review" when it succeeds; and no file's table repeats a row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.comment.sticky import first_visible_line
from bot.triage.render import MARKER, conclusion_of, render_check_run, render_comment
from bot.triage.summary import VERDICTS
from tests.bot.corpus_prs import pr_numbers, pr_reports

pytestmark = pytest.mark.corpus


def first_line(comment: str) -> str:
    """The first line a reader sees: the one after the hidden marker."""
    assert comment.splitlines()[0] == MARKER
    return first_visible_line(comment)


def test_every_corpus_pr_opens_with_a_verdict_consistent_with_its_check_run(corpus: Path) -> None:
    numbers = pr_numbers(corpus)
    assert len(numbers) >= 900
    seen = set()
    for number, report in pr_reports(corpus, numbers):
        run = render_check_run(report)
        comment = render_comment(report, "0" * 40)
        line = first_line(comment)
        assert line.startswith(f"**{VERDICTS[run.conclusion]}:"), (number, run.conclusion, line)
        assert run.conclusion == conclusion_of(report)
        if run.conclusion == "failure":
            noun = "error" if report.errors == 1 else "errors"
            assert line.startswith(f"**Blocked: {report.errors} {noun} to fix.**"), (number, line)
        for table in comment.split("\n### ")[1:]:  # one per file, then the PR's and the review's
            rows = [row for row in table.splitlines() if row.startswith("| `")]
            assert len(rows) == len(set(rows)), number  # repeats are folded
        seen.add(run.conclusion)
    assert seen == {"failure", "neutral", "success"}  # the corpus exercises every verdict
