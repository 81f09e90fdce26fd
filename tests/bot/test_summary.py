"""The verdict line and the folding of repeated findings (bot.triage.summary), and how the comment uses them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.comment.sticky import first_visible_line
from bot.triage.render import conclusion_of, render_comment
from bot.triage.summary import MAX_LINES_SHOWN, VERDICTS, fold, lines_text, verdict
from checks.findings import Report, Severity
from tests.bot.helpers import finding, report


def test_identical_findings_fold_into_one_row_with_their_lines() -> None:
    joke = "jokes are a topic the taxonomy avoids"
    rows = fold([finding("topic", Severity.WARNING, line, joke) for line in (30, 3, 12, 12)])
    assert len(rows) == 1
    assert rows[0].lines == (3, 12, 30) and rows[0].count == 4


def test_rows_differ_by_check_severity_and_message_and_errors_come_first() -> None:
    rows = fold([finding("topic", Severity.WARNING, 2, "a"), finding("schema", Severity.ERROR, 9, "a"),
                 finding("topic", Severity.WARNING, 4, "b"), finding("schema", Severity.ERROR, 1, "a")])
    assert [(r.check, r.message, r.lines) for r in rows] == [("schema", "a", (1, 9)), ("topic", "a", (2,)),
                                                             ("topic", "b", (4,))]


def test_lines_are_listed_as_ranges_and_capped() -> None:
    assert lines_text([3, 7, 8, 9, 15]) == "3, 7-9, 15"
    assert lines_text([]) == ""
    many = list(range(1, 100, 2))
    assert lines_text(many).endswith(f"(+{len(many) - MAX_LINES_SHOWN} more)")


@pytest.mark.parametrize(("findings", "expected"), [
    ((finding(), finding(line=9, message="other")), "**Blocked: 2 errors to fix.** Next: the author fixes them"),
    ((finding("pii", Severity.WARNING), finding("topic", Severity.WARNING)),
     "**Needs a human look: `pii-suspected`, `topic-review`.** Next: a triager"),
    ((), "**Ready for review: no problems found.** Next: maintainers review it"),
])
def test_verdict_states_where_the_pr_stands_and_who_acts_next(findings: tuple, expected: str) -> None:
    r = report(*findings)
    assert verdict(r, conclusion_of(r)).startswith(expected)


def test_verdict_word_matches_every_conclusion() -> None:
    for r in (report(finding()), report(finding(severity=Severity.WARNING)), report(), Report()):
        assert verdict(r, conclusion_of(r)).startswith(f"**{VERDICTS[conclusion_of(r)]}:")


def test_comment_opens_with_the_verdict_and_folds_a_file_of_repeats() -> None:
    body = render_comment(report(*[finding("topic", Severity.WARNING, line, "knock-knock jokes")
                                   for line in range(5, 60, 5)]), "f" * 40)
    first = next(line for line in body.splitlines() if line and not line.startswith("<!--"))
    assert first.startswith("**Needs a human look: `topic-review`.**")
    assert body.count("knock-knock jokes") == 1
    assert "| `topic` | warning | 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55 | knock-knock jokes |" in body


def test_triage_that_could_not_run_opens_with_blocked(tmp_path: Path) -> None:
    from bot.demo import make_sample_repo
    from bot.forges.localgit import LocalGitForge
    from bot.triage.run import triage

    repo = make_sample_repo(tmp_path / "taxonomy")
    (repo / ".github").mkdir(exist_ok=True)
    (repo / ".github" / "taxonomist.yml").write_text("checks: {no_such_key: 1}\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=a", "-c", "user.email=a@example.org", "commit", "-qam",
                    "bad config"], check=True, capture_output=True)
    outcome = triage(LocalGitForge(repo=repo, base="main", head="contribution"), 1)
    assert outcome is not None and outcome.check_run.conclusion == "failure"
    assert first_visible_line(outcome.comment).startswith(f"**{VERDICTS['failure']}: triage could not run.**")
