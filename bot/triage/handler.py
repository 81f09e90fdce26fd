"""Triage on every push: pull request activity and a re-requested check run or suite."""

from __future__ import annotations

from bot.forges.forge import Forge, PullRequest
from bot.review.workflow import review_section_for
from bot.service.router import HandlerContext, Job, Router
from bot.triage.run import TriageOutcome, report_failure, triage

router = Router()
TRIAGE_ACTIONS = ("opened", "reopened", "synchronize", "edited", "ready_for_review")


def triage_failed(job: Job, ctx: HandlerContext, reason: str) -> None:
    """Retries are spent: a failed check run on the PR's head says why."""
    assert job.pr is not None
    report_failure(ctx.forge, job.pr, reason)


def run_triage(job: Job, ctx: HandlerContext) -> TriageOutcome | None:
    """Triage the job's PR, handing it the review workflow's section of the sticky comment."""
    assert job.pr is not None
    def review_section(forge: Forge, pr: PullRequest) -> str | None:
        return review_section_for(forge, pr, ctx.store, job.repo)  # the authors' own texts (`bot.review.edits`)

    return triage(ctx.forge, job.pr, skip=ctx.skip_checks, indexes=ctx.indexes, review_section=review_section,
                  limits=ctx.annotation_limits)


@router.on("pull_request", *TRIAGE_ACTIONS, name="triage", coalesce=True, on_failure=triage_failed)
@router.on("check_run", "rerequested", name="triage", coalesce=True, on_failure=triage_failed)
@router.on("check_suite", "rerequested", name="triage", coalesce=True, on_failure=triage_failed)
def triage_pull_request(job: Job, ctx: HandlerContext) -> TriageOutcome | None:
    """Triage the PR's current head: a newer push already queued makes this job a no-op."""
    return run_triage(job, ctx)
