"""The review workflow on the bot: read the PR's timeline through the forge, derive, apply the plan.

Routed (`bot.review.handler`) for comments (created, edited, deleted), reviews, pushes and the
triage check run finishing. Every run derives the state from what the forge shows now, so jobs need no order and
a redelivery or a retry is harmless: labels and the commit status are set only when they differ,
the reply to a comment is found again by its marker and edited, the merge is pinned to the head
SHA the state was derived at.

The head's date comes from `bot.forges.heads`: the first sighting of the head (a start of this app's
`taxonomist/triage` check run made for this PR, a force push to it) after the last sighting of any other commit,
so a head force-pushed back to an old commit is not dated by its old check run. While no sighting
dates it, the head is dated now, which drops every earlier LGTM. A change of the base branch (the PR's
`base_ref_changed` events) drops every vote given before it.

A comment someone other than its author edited counts with the text its author left
(`bot.review.edits`, from the bot's memory): only a comment's author makes or changes a vote by editing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.comment.sticky import MARKER, splice, upsert_comment
from bot.forges.forge import Forge, IssueComment, PullRequest
from bot.forges.heads import CHECK_RUN_NAME, read_head_since
from bot.forges.repoconfig import read_config
from bot.review.edits import Memory, authored_bodies, note_edit
from bot.review.effects import STATUS_CONTEXT, Plan, plan, reply_marker, section
from bot.review.membership import TeamCache
from bot.review.state import Comment, Push, Review, ReviewKind, ReviewState, Timeline, derive
from bot.service.jobs import Job
from checks.config import ConfigError, RepoConfig

log = logging.getLogger(__name__)
TEAMS = TeamCache()


def _review_kind(state: str) -> ReviewKind:
    try:
        return ReviewKind(state.upper())
    except ValueError:
        return ReviewKind.COMMENTED  # a state GitHub adds later counts for nothing


def read_timeline(forge: Forge, pr: PullRequest, comments: list[IssueComment],
                  authored: dict[int, str] | None = None) -> tuple[Timeline, str | None]:
    """The PR's timeline as the forge shows it, and the triage check run's conclusion at the head
    (this app's run made for this PR only: another app's or another PR's never unblocks a merge);
    `authored` replaces the text of comments someone other than their author edited."""
    authored = authored or {}
    run = forge.find_check_run(pr.head_sha, CHECK_RUN_NAME, pr=pr.number)
    since = read_head_since(forge, pr) or datetime.now(UTC)
    conclusion = run.conclusion if run is not None and run.status == "completed" else None
    reviews = tuple(Review(r.id, r.author, _review_kind(r.state), r.commit_sha, r.submitted_at)
                    for r in forge.reviews(pr.number) if r.submitted_at is not None)
    timeline = Timeline(
        author=pr.author,
        head_sha=pr.head_sha,
        pushes=(Push(pr.head_sha, since),),
        comments=tuple(Comment(c.id, c.author, authored.get(c.id, c.body), c.created_at, c.updated_at)
                       for c in comments),
        reviews=reviews,
        open=pr.state == "open",
        base_changed_at=max(forge.base_changes(pr.number), default=None),
    )
    return timeline, conclusion


def derive_for(forge: Forge, pr: PullRequest, config: RepoConfig, comments: list[IssueComment],
               memory: Memory | None = None, repo: str = "") -> tuple[ReviewState, str | None]:
    authored = authored_bodies(memory, repo, [c.id for c in comments if not c.by_this_app])
    timeline, conclusion = read_timeline(forge, pr, comments, authored)
    membership = TEAMS.membership(lambda user, team: forge.is_team_member(team, user))
    return derive(timeline, config.review, membership), conclusion


def _own_comment(comments: list[IssueComment], marker: str) -> tuple[int, str] | None:
    """This app's own comment starting with `marker`: a person's or another app's copy is never it."""
    found = next((c for c in comments if c.by_this_app and c.body.startswith(marker)), None)
    return (found.id, found.body) if found is not None else None


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
        marker = reply_marker(reply.comment_id)
        upsert_comment(forge, pr.number, marker, reply.body, _own_comment(comments, marker))
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


def review_pull_request(job: Job, forge: Forge, retriage: Callable[[], object],
                        derived: Callable[[PullRequest, ReviewState, Plan], object] | None = None,
                        memory: Memory | None = None) -> Plan | None:
    """Derive the review state of the job's PR and apply its effects; returns the plan (dry run).

    `derived(pr, state, plan)` hears the derived state (the dashboard records it); `memory` keeps the
    text authors left in comments others edited (none in a dry run).
    `retriage()` runs triage again for `/recheck` (the caller wires it: review never imports triage);
    triage then renders the whole sticky comment, the review section included."""
    if job.event == "check_run" and job.payload.get("check_run", {}).get("name") != CHECK_RUN_NAME:
        return None
    assert job.pr is not None, "the review route runs per pull request"
    if memory is not None and job.event == "issue_comment":
        note_edit(memory, job.repo, job.payload)
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
    state, conclusion = derive_for(forge, pr, config, comments, memory, job.repo)
    the_plan = plan(state, config.review, labels=forge.labels(pr.number), triage=conclusion,
                    comment_id=_triggering_comment(job), pushed=job.action == "synchronize")
    if derived is not None:
        derived(pr, state, the_plan)
    merge_note = _apply(forge, pr, the_plan, comments)
    if the_plan.recheck and merge_note is None:
        retriage()
        return the_plan
    sticky = _own_comment(comments, MARKER)
    if sticky is not None:
        body = splice(sticky[1], "review", section(state, config.review, the_plan.blockers, merge_note))
        if body != sticky[1]:
            forge.edit_comment(sticky[0], body)
    return the_plan


def review_section_for(forge: Forge, pr: PullRequest, memory: Memory | None = None, repo: str = "") -> str | None:
    """The review part of the sticky comment, for triage to render it (None when it cannot be known)."""
    try:
        config = read_config(forge, pr)
    except ConfigError:
        return None
    state, conclusion = derive_for(forge, pr, config, forge.issue_comments(pr.number), memory, repo)
    the_plan = plan(state, config.review, labels=frozenset(), triage=conclusion)
    return the_plan.section
