"""Triage on every push: pull request activity and a re-requested check run or suite."""

from __future__ import annotations

from bot.router import HandlerContext, Job, router
from bot.triage import TriageOutcome, report_failure, triage

TRIAGE_ACTIONS = ("opened", "reopened", "synchronize", "edited", "ready_for_review")


def triage_failed(job: Job, ctx: HandlerContext, reason: str) -> None:
    """Retries are spent: a failed check run on the PR's head says why."""
    report_failure(ctx.forge, job.pr, reason)


@router.on("pull_request", *TRIAGE_ACTIONS, coalesce=True, on_failure=triage_failed)
@router.on("check_run", "rerequested", coalesce=True, on_failure=triage_failed)
@router.on("check_suite", "rerequested", coalesce=True, on_failure=triage_failed)
def triage_pull_request(job: Job, ctx: HandlerContext) -> TriageOutcome | None:
    """Triage the PR's current head: a newer push already queued makes this job a no-op."""
    return triage(ctx.forge, job.pr, skip=ctx.skip_checks, indexes=ctx.indexes,
                  review_section=ctx.review_section)
