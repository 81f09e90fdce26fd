"""The review workflow on the bot: read the PR's timeline through the forge, derive, apply the plan.

Registered for comments (created, edited, deleted), reviews, pushes and the triage check run
finishing. Every run derives the state from what the forge shows now, so jobs need no order and
a redelivery or a retry is harmless: labels and the commit status are set only when they differ,
the reply to a comment is found again by its marker and edited, the merge is pinned to the head
SHA the state was derived at.

The head's date comes from `bot.heads`: the first sighting of the head (a start of its
`taxonomist/triage` check run, a force push to it) after the last sighting of any other commit,
so a head force-pushed back to an old commit is not dated by its old check run. While no sighting
dates it, the head is dated now, which drops every earlier LGTM.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.forge import Forge, IssueComment, PullRequest
from bot.heads import read_head_since
from bot.precheck_section import keep_section, with_section
from bot.render import CHECK_RUN_NAME, MARKER
from bot.review.effects import SECTION_MARKER, STATUS_CONTEXT, Plan, plan, reply_marker, section
from bot.review.membership import TeamCache
from bot.review.state import Comment, Push, Review, ReviewKind, ReviewState, Timeline, derive, is_bot
from bot.router import HandlerContext, Job, router
from bot.triage import read_config, triage
from checks.config import ConfigError, RepoConfig

log = logging.getLogger(__name__)
TEAMS = TeamCache()
REVIEW_HEADING = "### Review"


def _review_kind(state: str) -> ReviewKind:
    try:
        return ReviewKind(state.upper())
    except ValueError:
        return ReviewKind.COMMENTED  # a state GitHub adds later counts for nothing


def read_timeline(forge: Forge, pr: PullRequest, comments: list[IssueComment]) -> tuple[Timeline, str | None]:
    """The PR's timeline as the forge shows it, and the triage check run's conclusion at the head."""
    run = forge.find_check_run(pr.head_sha, CHECK_RUN_NAME)
    since = read_head_since(forge, pr) or datetime.now(UTC)
    conclusion = run.conclusion if run is not None and run.status == "completed" else None
    reviews = tuple(Review(r.id, r.author, _review_kind(r.state), r.commit_sha, r.submitted_at)
                    for r in forge.reviews(pr.number) if r.submitted_at is not None)
    timeline = Timeline(
        author=pr.author,
        head_sha=pr.head_sha,
        pushes=(Push(pr.head_sha, since),),
        comments=tuple(Comment(c.id, c.author, c.body, c.created_at, c.updated_at) for c in comments),
        reviews=reviews,
        open=pr.state == "open",
    )
    return timeline, conclusion


def derive_for(forge: Forge, pr: PullRequest, config: RepoConfig,
               comments: list[IssueComment]) -> tuple[ReviewState, str | None]:
    timeline, conclusion = read_timeline(forge, pr, comments)
    membership = TEAMS.membership(lambda user, team: forge.is_team_member(team, user))
    return derive(timeline, config.review, membership), conclusion


def splice_section(body: str, review: str) -> str:
    """The sticky comment with its review part (last but for the precheck's section, which stays) replaced."""
    rest = with_section(body, None)
    at = rest.rfind(f"{REVIEW_HEADING}\n\n{SECTION_MARKER}")
    before = rest[:at] if at >= 0 else rest
    return keep_section(f"{before.rstrip()}\n\n{REVIEW_HEADING}\n\n{review.strip()}\n", body)


def _bot_comment(comments: list[IssueComment], marker: str) -> IssueComment | None:
    return next((c for c in comments if is_bot(c.author) and c.body.startswith(marker)), None)


def _apply(forge: Forge, pr: PullRequest, the_plan: Plan, comments: list[IssueComment]) -> str | None:
    """Publish the plan; returns the merge line for the sticky comment when a merge was tried."""
    if the_plan.labels_add:
        forge.add_labels(pr.number, list(the_plan.labels_add))
    for name in the_plan.labels_remove:
        forge.remove_label(pr.number, name)
    status = the_plan.status
    if forge.commit_status(pr.head_sha, STATUS_CONTEXT) != (status.state, status.description):
        forge.set_commit_status(pr.head_sha, status.state, STATUS_CONTEXT, status.description)
    for reply in the_plan.replies:
        existing = _bot_comment(comments, reply_marker(reply.comment_id))
        if existing is None:
            forge.create_comment(pr.number, reply.body)
        elif existing.body != reply.body:
            forge.edit_comment(existing.id, reply.body)
    if the_plan.merge is None:
        return None
    failure = forge.merge(pr.number, the_plan.merge.sha, the_plan.merge.method)
    if failure is None:
        log.info("merged", extra={"pr": pr.number, "sha": the_plan.merge.sha})
        return f"**Merged** `{the_plan.merge.sha[:7]}` ({the_plan.merge.method})."
    log.warning("merge refused", extra={"pr": pr.number, "reason": failure})
    return f"**Merge failed:** {failure}. It is tried again on the next review event once fixed."


def _triggering_comment(job: Job) -> int | None:
    if job.event == "issue_comment" and job.action in ("created", "edited"):
        return int(job.payload["comment"]["id"])
    return None


@router.on("issue_comment", "created", "edited", "deleted")
@router.on("pull_request_review", "submitted", "edited", "dismissed")
@router.on("pull_request", "synchronize")
@router.on("check_run", "completed")
def review_pull_request(job: Job, ctx: HandlerContext) -> Plan | None:
    """Derive the review state of the job's PR and apply its effects; returns the plan (dry run)."""
    if job.event == "check_run" and job.payload.get("check_run", {}).get("name") != CHECK_RUN_NAME:
        return None
    if job.event == "issue_comment" and is_bot(job.payload.get("comment", {}).get("user", {}).get("login", "")):
        return None  # our own replies and sticky comment
    forge: Forge = ctx.forge
    pr = forge.pull_request(job.pr)
    if pr.state != "open":
        return None
    try:
        config = read_config(forge, pr)
    except ConfigError as exc:
        forge.set_commit_status(pr.head_sha, "error", STATUS_CONTEXT, "invalid .github/taxonomist.yml")
        log.warning("review skipped: invalid configuration", extra={"pr": pr.number, "error": str(exc)})
        return None
    comments = forge.issue_comments(pr.number)
    state, conclusion = derive_for(forge, pr, config, comments)
    the_plan = plan(state, config.review, labels=forge.labels(pr.number), triage=conclusion,
                    comment_id=_triggering_comment(job), pushed=job.action == "synchronize")
    merge_note = _apply(forge, pr, the_plan, comments)
    if the_plan.recheck and merge_note is None:  # triage renders the sticky comment, review part included
        triage(forge, pr.number, skip=ctx.skip_checks, indexes=ctx.indexes, review_section=review_section_for)
        return the_plan
    sticky = _bot_comment(comments, MARKER)
    if sticky is not None:
        body = splice_section(sticky.body, section(state, config.review, the_plan.blockers, merge_note))
        if body != sticky.body:
            forge.edit_comment(sticky.id, body)
    return the_plan


def review_section_for(forge: Forge, pr: PullRequest) -> str | None:
    """The review part of the sticky comment, for triage to render it (None when it cannot be known)."""
    try:
        config = read_config(forge, pr)
    except ConfigError:
        return None
    state, conclusion = derive_for(forge, pr, config, forge.issue_comments(pr.number))
    the_plan = plan(state, config.review, labels=frozenset(), triage=conclusion)
    return the_plan.section


router.provide_review_section(review_section_for)

