"""The review workflow's route: commands in comments, reviews, pushes, the triage run finishing.

Intake decides from the payload alone whether a job is worth its API calls (`wants_review`): a
comment without a command (nor a line that looks like one) makes no job, unless it is an edit or
a deletion of a comment that held one; comments by bots make none; one user's commands are
rate-limited per repository (`COMMAND_RATE`). The handler wires triage in for `/recheck`, so
`bot.review` and `bot.triage.run` never import each other.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.dashboard.record import on_review
from bot.review.commands import parse
from bot.review.edits import foreign_edit
from bot.review.effects import Plan
from bot.review.state import is_bot
from bot.review.workflow import review_pull_request
from bot.service import metrics
from bot.service.jobs import pull_request_numbers
from bot.service.ratelimit import UserRateLimit
from bot.service.router import HandlerContext, Job, Router
from bot.triage.handler import run_triage

log = logging.getLogger(__name__)
router = Router()
COMMAND_RATE = (10, 60.0)  # at most 10 commanding comments per user and repository in 60 seconds


COMMANDS = UserRateLimit(*COMMAND_RATE)


def _commanding(body: object) -> bool:
    parsed = parse(body if isinstance(body, str) else "")
    return bool(parsed.commands or parsed.problems)


def _field(data: object, name: str) -> Any:
    """`data[name]` when `data` is a mapping (payload fields are hostile: any type may come)."""
    return data.get(name) if isinstance(data, dict) else None


def wants_review(event: str, payload: dict[str, Any]) -> bool:
    """Whether a delivery can change the review state or needs a reply, from the payload alone."""
    if event == "pull_request" and _field(payload, "action") == "edited":
        return isinstance(_field(_field(payload, "changes"), "base"), dict)  # a change of the base branch only
    if event != "issue_comment":
        return True
    if not pull_request_numbers(event, payload):
        return False  # an issue's comment: no review, and no count against the writer
    comment, user = _field(payload, "comment"), _field(_field(payload, "comment"), "user")
    login = str(_field(user, "login") or "")
    if is_bot(login) or _field(user, "type") == "Bot":
        return False  # our own sticky comment and replies, and other apps: never commands
    previous = _field(_field(_field(payload, "changes"), "body"), "from")
    if not (_commanding(_field(comment, "body")) or _commanding(previous)):  # a deletion carries the old body
        return False
    if foreign_edit(payload):
        return True  # someone else's edit, never rate-limited: it must be remembered (`bot.review.edits`)
    repo = str(_field(_field(payload, "repository"), "full_name") or "")
    if not COMMANDS.allow(repo, login):
        metrics.COMMANDS_LIMITED.inc()
        log.warning("commands rate-limited", extra={"repo": repo, "user": login})
        return False
    return True


@router.on("issue_comment", "created", "edited", "deleted", name="review", wants=wants_review)
@router.on("pull_request_review", "submitted", "edited", "dismissed", name="review")
@router.on("pull_request", "synchronize", name="review")
@router.on("pull_request", "edited", name="review")
@router.on("check_run", "completed", name="review")
def review(job: Job, ctx: HandlerContext) -> Plan | None:
    """Derive the review state of the job's PR and apply it; `/recheck` runs triage here."""
    store = ctx.store
    derived = None if store is None else (lambda pr, state, plan: on_review(store, job.repo, pr.number, state, plan))
    return review_pull_request(job, ctx.forge, lambda: run_triage(job, ctx), derived, store)
