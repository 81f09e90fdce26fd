"""What the bot should do about a review state: labels, the commit status, a merge, replies.

Pure: state, configuration, the triage check's conclusion and the current labels in, a `Plan`
out. The handler applies it; since the plan is a function of what the forge shows, applying it
twice (a redelivered webhook, a retried job) changes nothing the second time. Replies carry a
marker naming the comment they answer, so the handler edits its earlier reply instead of
posting another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.comment.sticky import escape
from bot.review.commands import HELP_TEXT, Command, Name
from bot.review.state import ReviewState, Vote
from checks.config import ReviewConfig
from checks.excerpt import excerpt

STATUS_CONTEXT = "taxonomist/review"
LGTM_LABEL = "lgtm"
TRIAGE_PREFIX = "triage-"
NEEDS_TRIAGE = "triage-needed"
CHANGES_REQUESTED_LABEL = "triage-requested-changes"
# `neutral` means warnings that ask a human to look: the approver is that human.
TRIAGE_PASSING = frozenset({"success", "neutral"})
MAX_DESCRIPTION = 140  # GitHub's limit for a commit status description


def reply_marker(comment_id: int) -> str:
    """The hidden marker of the bot's reply to one comment: found again, edited, never doubled."""
    return f"<!-- taxonomist:review-reply:{comment_id} -->"


@dataclass(frozen=True, slots=True)
class Status:
    state: str  # success or pending
    description: str
    context: str = STATUS_CONTEXT


@dataclass(frozen=True, slots=True)
class Merge:
    sha: str  # pinned: the merge fails if the head moved since the state was derived
    method: str


@dataclass(frozen=True, slots=True)
class Reply:
    comment_id: int
    body: str  # starts with reply_marker(comment_id)


class Wait(StrEnum):
    """What the merge gate waits for, as data (the dashboard derives each PR's state from it)."""

    CLOSED = "closed"
    APPROVAL = "approval"
    LGTMS = "lgtms"
    HOLD = "hold"
    TRIAGE = "triage"


@dataclass(frozen=True, slots=True)
class Plan:
    labels_add: tuple[str, ...]
    labels_remove: tuple[str, ...]
    status: Status
    merge: Merge | None
    blockers: tuple[str, ...]  # why it does not merge; empty when `merge` is set
    replies: tuple[Reply, ...]
    recheck: bool
    section: str  # markdown for the sticky comment
    waits: tuple[Wait, ...] = ()  # what `blockers` say, as data


def short(sha: str) -> str:
    return sha[:7]


def _users(votes: tuple[Vote, ...]) -> str:
    return ", ".join(escape(v.user) for v in votes)  # names, not @mentions: the comment is edited often


def _holders(state: ReviewState) -> str:
    return ", ".join(escape(user) for user in state.holds)


def status_of(state: ReviewState) -> Status:
    """`success` only with enough LGTMs on the head and no hold: branch protection requires it."""
    count = f"{len(state.lgtms)}/{state.required_lgtms} LGTM"
    if state.lgtms:
        count += f": {_users(state.lgtms)}"
    if not state.maintainers_configured:
        return Status("pending", f"{count}: no maintainers configured")
    if state.holds:
        return Status("pending", _clip(f"on hold ({', '.join(state.holds)}); {count}"))
    if state.enough_lgtms:
        return Status("success", f"{len(state.lgtms)}/{state.required_lgtms} LGTM")
    return Status("pending", _clip(count))


def _clip(text: str) -> str:
    return excerpt(text, MAX_DESCRIPTION)


def gate(state: ReviewState, triage: str | None) -> tuple[tuple[Wait, str], ...]:
    """Everything that stands between the PR and a merge: what it is, and in words for people."""
    if not state.open:
        return ((Wait.CLOSED, "the pull request is not open"),)
    found: list[tuple[Wait, str]] = []
    if not state.approvals:
        found.append((Wait.APPROVAL, "an approval (`/approve` by an approver)" if state.approvers_configured
                      else "an approval, but no approvers are configured"))
    if not state.enough_lgtms:
        found.append((Wait.LGTMS, f"{state.required_lgtms} LGTMs on `{short(state.head_sha)}` "
                      f"(has {len(state.lgtms)})" if state.maintainers_configured
                      else "LGTMs, but no maintainers are configured"))
    if state.holds:
        found.append((Wait.HOLD, f"the hold by {_holders(state)} to be lifted"))
    if triage not in TRIAGE_PASSING:
        found.append((Wait.TRIAGE, "the triage check to finish" if triage is None
                      else f"the triage check to pass (it concluded `{triage}`)"))
    return tuple(found)


def blockers_of(state: ReviewState, triage: str | None) -> tuple[str, ...]:
    """The gate's blockers in words."""
    return tuple(words for _, words in gate(state, triage))


def _label_ops(state: ReviewState, config: ReviewConfig, labels: set[str], commands: tuple[Command, ...],
               pushed: bool, refused: set[Command]) -> tuple[set[str], list[str]]:
    """The labels wanted after this event, and what to tell the commenter about label commands."""
    wanted, notes = set(labels), []
    if pushed and CHANGES_REQUESTED_LABEL in wanted:
        wanted.discard(CHANGES_REQUESTED_LABEL)
        wanted.add(NEEDS_TRIAGE)
    allowed = {n.lower(): n for n in config.labels}  # GitHub's label names ignore case
    for command in commands:
        if command.name not in (Name.LABEL, Name.REMOVE_LABEL) or command in refused:
            continue
        for asked in command.labels:
            name = allowed.get(asked.lower())
            if name is None:
                notes.append(f"{escape(asked, code=True)} is not a label I may change; allowed: "
                             + ", ".join(f"`{n}`" for n in config.labels))
            elif command.name is Name.REMOVE_LABEL:
                wanted.discard(name)
            else:
                if name.startswith(TRIAGE_PREFIX):  # one triage state at a time
                    wanted -= {n for n in config.labels if n.startswith(TRIAGE_PREFIX)}
                wanted.add(name)
    if state.enough_lgtms and state.maintainers_configured:
        wanted.add(LGTM_LABEL)
    else:
        wanted.discard(LGTM_LABEL)
    return wanted, notes


def _reply(state: ReviewState, comment_id: int, refused: set[Command], notes: list[str],
           blockers: tuple[str, ...]) -> Reply | None:
    lines = [f"@{escape(r.user, plain=True)}: {r.reason}"  # the one intended mention: the commenter
             for r in state.refusals if r.comment_id == comment_id]
    lines += [p.message for cid, p in state.problems if cid == comment_id]
    lines += notes
    commands = state.commands_of(comment_id)
    if blockers and any(c.name is Name.APPROVE and not c.cancel and c not in refused for c in commands):
        lines.append("Not merging yet; waiting for " + "; ".join(blockers)
                     + ". The approval stands: the PR merges once these clear (`/approve cancel` withdraws it).")
    if any(c.name is Name.HELP for c in commands):
        lines.append(HELP_TEXT)
    if not lines:
        return None
    return Reply(comment_id, "\n\n".join([reply_marker(comment_id), *lines]))


def section(state: ReviewState, config: ReviewConfig, blockers: tuple[str, ...],
            merge_note: str | None = None) -> str:
    """The sticky comment's review part (under its `### Review` heading): who gave what, what a push
    dropped, what blocks the merge. `merge_note` replaces the merge line once a merge was tried."""
    head = f"`{short(state.head_sha)}`"
    lines: list[str] = []
    if not state.maintainers_configured:
        lines.append("- **LGTM:** nobody can give one: no `review.maintainers` in `.github/taxonomist.yml`.")
    else:
        given = f": {_users(state.lgtms)}" if state.lgtms else ""
        lines.append(f"- **LGTM: {len(state.lgtms)}/{state.required_lgtms}** on {head}{given}")
    for vote in state.dropped_lgtms:
        lines.append(f"- LGTM by {escape(vote.user)} was given {_on(vote)} and dropped by the push of {head}: "
                     "`/lgtm` again to count it.")
    if state.approvals:
        lines.append(f"- **Approved** by {_users(state.approvals)}")
    for vote in state.dropped_approvals:
        lines.append(f"- Approval by {escape(vote.user)} was given {_on(vote)} and dropped by the push of {head}: "
                     "`/approve` again.")
    if state.holds:
        lines.append(f"- **On hold** by {_holders(state)}: `/hold cancel` lifts it.")
    if merge_note:
        lines.append(f"- {merge_note}")
    elif blockers:
        lines.append("- **Merge** waits for: " + "; ".join(blockers) + ".")
    else:
        lines.append(f"- **Merge:** ready, {config.merge_method} of {head}.")
    lines += ["", "Write `/help` in a comment for the review commands."]
    return "\n".join(lines)


def _on(vote: Vote) -> str:
    return f"on `{short(vote.sha)}`" if vote.sha else "before the head commit was pushed"


def plan(state: ReviewState, config: ReviewConfig, *, labels: set[str] | frozenset[str], triage: str | None,
         comment_id: int | None = None, pushed: bool = False) -> Plan:
    """Every effect of the current state. `comment_id` is the comment that triggered this run, if one
    did (only its commands get replies and change labels); `pushed` says a push triggered it."""
    refused = {r.command for r in state.refusals if r.comment_id == comment_id}
    commands = state.commands_of(comment_id) if comment_id is not None else ()
    wanted, notes = _label_ops(state, config, set(labels), commands, pushed, refused)
    waits = gate(state, triage)
    blockers = tuple(words for _, words in waits)
    reply = _reply(state, comment_id, refused, notes, blockers) if comment_id is not None else None
    return Plan(
        labels_add=tuple(sorted(wanted - set(labels))),
        labels_remove=tuple(sorted(set(labels) - wanted)),
        status=status_of(state),
        merge=None if blockers else Merge(state.head_sha, config.merge_method),
        blockers=blockers,
        replies=(reply,) if reply else (),
        recheck=any(c.name is Name.RECHECK and c not in refused for c in commands),
        section=section(state, config, blockers),
        waits=tuple(wait for wait, _ in waits),
    )
