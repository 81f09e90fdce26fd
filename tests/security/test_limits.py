"""Issue 11.4, the limits: a huge report fits GitHub, annotations are capped with the count left out.
Issue 22.1: every check-run summary and comment the bot writes goes through the size limit."""

from __future__ import annotations

from bot.comment.sticky import CHECK_RUN_LIMIT, COMMENT_LIMIT, escape
from bot.dashboard.store import Store
from bot.forges.forge import CheckRunResult, PullRequest
from bot.lifecycle.handler import welcome
from bot.precheck.run import render_check_run as precheck_check_run
from bot.triage.render import AnnotationLimits, render_check_run, render_comment
from bot.triage.run import publish_check_run
from checks.config import LifecycleConfig, WelcomeConfig
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


class RecordingForge:
    """Records what reaches GitHub's check-run and comment endpoints."""

    name = "o/r"

    def __init__(self) -> None:
        self.summaries: list[str] = []
        self.comments: list[str] = []

    def find_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> None:
        return None

    def start_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> int:
        return 1

    def add_annotations(self, check_run_id: int, result: CheckRunResult, annotations: list) -> None:
        self.summaries.append(result.summary)

    def complete_check_run(self, check_run_id: int, result: CheckRunResult) -> None:
        self.summaries.append(result.summary)

    def find_comment(self, number: int, marker: str) -> None:
        return None

    def create_comment(self, number: int, body: str) -> int:
        self.comments.append(body)
        return 1


PR = PullRequest(number=4, head_sha="a" * 40, base_ref="main", author="carla", author_association="FIRST_TIMER")


def test_the_precheck_summary_of_3000_files_is_cut_to_fit_the_check_run() -> None:
    files = [{"path": f"compositional_skills/{'area/' * 40}leaf{i:04}/qna.yaml", "verdict": "new",
              "examples": [{"grade": {"label": "wrong"}}] * 5} for i in range(3000)]
    forge = RecordingForge()
    publish_check_run(forge, PR, precheck_check_run({"model": "m", "files": files}))  # type: ignore[arg-type]
    assert forge.summaries and all(len(s.encode()) <= CHECK_RUN_LIMIT for s in forge.summaries)
    assert "more files" in forge.summaries[-1] or "**Cut here:**" in forge.summaries[-1]


def test_a_welcome_message_from_the_configuration_is_cut_to_fit_a_comment(tmp_path) -> None:
    forge = RecordingForge()
    config = LifecycleConfig(welcome=WelcomeConfig(enabled=True, message="Welcome! " * 20000))
    assert welcome(forge, Store(tmp_path / "s.sqlite3"), PR, config)  # type: ignore[arg-type]
    (body,) = forge.comments
    assert len(body.encode()) <= COMMENT_LIMIT and "**Cut here:**" in body
