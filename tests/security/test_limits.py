"""Issue 11.4, the limits: a huge report fits GitHub, annotations are capped with the count left out."""

from __future__ import annotations

from bot.comment.sticky import CHECK_RUN_LIMIT, COMMENT_LIMIT, escape
from bot.triage.render import AnnotationLimits, render_check_run, render_comment
from checks.findings import FileReport, Report
from tests.bot.helpers import finding, report


def test_the_escaping_function_breaks_mentions_and_commands() -> None:
    assert escape("@someone") == "@\u200bsomeone" and escape("/lgtm").startswith("\u200b")


def test_a_pull_request_with_3000_files_fits_the_comment_and_the_check_run() -> None:
    files = [FileReport(path=f"compositional_skills/area/leaf{i:04}/qna.yaml",
                        source=f"compositional_skills/area/leaf{i:04}/qna.yaml", kind="skill", schema_version=3,
                        findings=[finding(line=i, message=f"problem {i}")]) for i in range(3000)]
    big = Report(files=files)
    body = render_comment(big, "a" * 40, review_section="- **LGTM: 0/2**")
    assert len(body.encode()) <= COMMENT_LIMIT
    assert "**Cut here:**" in body and "check run" in body
    assert "### Review" in body and "**LGTM: 0/2**" in body  # the review section survives the cut
    result = render_check_run(big, AnnotationLimits(per_file=5, per_run=1000))
    assert len(result.summary.encode()) <= CHECK_RUN_LIMIT and "**Cut here:**" in result.summary
    assert len(result.annotations) == 1000


def test_annotations_are_capped_per_file_and_per_run_with_the_count_left_out() -> None:
    many = report(*[finding(line=i) for i in range(1, 31)])
    result = render_check_run(many, AnnotationLimits(per_file=10, per_run=25))
    assert len(result.annotations) == 10
    assert "20 more findings left out of the annotations (at most 10 per file and 25 per run)" in result.summary
