"""Keep the duplicate check's index current: the default branch on push, open PRs as they close."""

from __future__ import annotations

import logging

from bot.service.router import HandlerContext, Job, Router

log = logging.getLogger(__name__)
router = Router()


@router.on("push", name="refresh_merged_taxonomy", coalesce=True, per_pull_request=False)
def refresh_merged_taxonomy(job: Job, ctx: HandlerContext) -> None:
    """A push to the default branch changes the merged taxonomy: re-index it (new texts only)."""
    payload = job.payload
    default = payload.get("repository", {}).get("default_branch")
    if ctx.indexes is None or payload.get("ref") != f"refs/heads/{default}" or payload.get("deleted"):
        return
    leaves = ctx.indexes.refresh_base(ctx.forge, job.repo, payload["after"])
    log.info("merged-taxonomy index refreshed", extra={"leaves": leaves})


@router.on("pull_request", "closed", name="forget_closed_pull_request", per_pull_request=True)
def forget_closed_pull_request(job: Job, ctx: HandlerContext) -> None:
    """A closed PR's leaves stop counting as open contributions (merged ones return via push)."""
    if ctx.indexes is None:
        return
    base = job.payload.get("pull_request", {}).get("base", {}).get("ref", "main")
    ctx.indexes.forget_pull_request(ctx.forge, job.repo, job.pr, base)
