"""The comment and check run rendered from a report: content, escaping, limits, determinism."""

from __future__ import annotations

from bot.comment.sticky import first_visible_line
from bot.triage.render import (
    ANNOTATION_BATCH,
    CHECK_RUN_NAME,
    MARKER,
    batches,
    conclusion_of,
    failed_check_run,
    render_check_run,
    render_comment,
)
from checks.findings import Report, Severity
from tests.bot.helpers import PATH, finding, report


def test_comment_has_marker_table_row_fix_and_next_steps() -> None:
    body = render_comment(report(finding("yamllint", line=7, message="trailing spaces")), "a" * 40)
    assert body.startswith(MARKER)
    assert f"### `{PATH}` (skill)" in body
    assert "| `yamllint` | error | 7 | trailing spaces | Remove trailing spaces" in body
    assert "**1 error, 0 warnings in 1 file** at `aaaaaaa`" in body
    assert first_visible_line(body).startswith("**Blocked: 1 error to fix.** Next: the author fixes it")


def test_comment_escapes_pipes_newlines_and_comment_openers_from_messages() -> None:
    body = render_comment(report(finding(message="a | b\nc <!-- taxonomist:triage -->")), "b" * 40)
    # `>` is escaped too now (issue 11.4: HTML in user text is escaped, not only comment openers)
    assert "a \\| b c &lt;!-- taxonomist:triage --&gt;" in body
    assert body.count(MARKER) == 1


def test_comment_includes_review_section_given_from_outside() -> None:
    body = render_comment(report(), "c" * 40, review_section="LGTM 1 of 2")
    assert "### Review\n\nLGTM 1 of 2" in body
    assert "No problems found." in body
    assert "**Ready for review: no problems found.**" in body


def test_comment_lists_pr_level_findings() -> None:
    body = render_comment(report(pr_findings=(finding("dco", line=None, path=None, message="not signed"),)), "d" * 40)
    assert "### Pull request" in body and "| `dco` | error |  | not signed |" in body


def test_comment_stays_bounded_for_a_huge_report() -> None:
    many = [finding(line=i, message=f"problem {i}") for i in range(1, 1001)]
    body = render_comment(report(*many), "e" * 40)
    assert len(body) < 65536
    assert "…and 800 more" in body


def test_conclusion_follows_severity() -> None:
    assert conclusion_of(report(finding())) == "failure"
    assert conclusion_of(report(finding(severity=Severity.WARNING))) == "neutral"
    assert conclusion_of(report()) == "success"


def test_check_run_annotations_at_real_lines_in_batches_of_50() -> None:
    result = render_check_run(report(*[finding(line=i) for i in range(1, 121)],
                                     finding("pii", Severity.WARNING, None, "e-mail")))
    assert result.name == CHECK_RUN_NAME and result.conclusion == "failure"
    assert [a.start_line for a in result.annotations[:3]] == [1, 2, 3]
    assert result.annotations[-1].start_line == 1 and result.annotations[-1].annotation_level == "warning"
    sizes = [len(b) for b in batches(result.annotations)]
    assert sizes == [50, 50, 21] and max(sizes) == ANNOTATION_BATCH
    assert f"| `{PATH}` | skill | 120 | 1 |" in result.summary


def test_rendering_is_deterministic_and_summary_changes_with_findings() -> None:
    a, b = render_check_run(report(finding())), render_check_run(report(finding()))
    assert a == b
    # the summary's `<!-- result ... -->` digest was never read (issue 12.6 removed it): the run's
    # external_id digest is what tells a changed result apart
    assert render_check_run(report(finding(line=6))).digest != a.digest


def test_failed_check_run_says_why() -> None:
    result = failed_check_run("HTTP 502 from the API")
    assert result.conclusion == "failure" and "HTTP 502 from the API" in result.summary


def test_no_files_headline() -> None:
    assert render_check_run(Report()).title == "No taxonomy files changed"
