"""The review state of a pull request, derived from its timeline every time (never stored).

The timeline is plain data the I/O side reads from the forge: comments, reviews, the head
commits in the order they became the head, the author. `derive` replays it, as Prow's approve
plugin does, so a restart, a redelivered webhook or a lost job cannot corrupt the state:
the same timeline always gives the same state, and a comment seen twice is one comment.

Rules (docs/review.md has the why):
- A comment takes effect at its creation time with its latest text: an edit replaces its
  commands but is not a second command; a deleted comment's commands no longer count.
- A comment's command applies to the head at its creation time: the last push with
  `at < created_at`. Push times must never be earlier than the moment the commit really
  became the head; a late time only drops more LGTMs (safe), an early one would not. For
  the same reason a comment at the very instant of a push (GitHub's times are to the second)
  is taken as written before it.
- A review applies to the commit it names (`commit_sha`). APPROVED counts as `/lgtm`,
  CHANGES_REQUESTED as `/lgtm cancel`; other states (COMMENTED, DISMISSED, PENDING) do nothing.
- Each person's last LGTM-affecting act decides: an LGTM counts when it was given on the head
  commit, by a maintainer who is not the PR's author. Approvals likewise from approvers, and
  survive pushes only with `keep_approvals_on_push`.
- Holds are per person; `/hold cancel` lifts your own, or every hold when a maintainer or an
  approver writes it. Pushes do not lift holds.
- A change of the base branch drops every LGTM and approval given before it (approvals too, even
  with `keep_approvals_on_push`): they were given for a merge into another branch. Holds stay.
- Authors ending in `[bot]` are ignored (the bot's own help text must never run).
- Comments and reviews at the same instant are ordered comments first, then reviews, each by id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.forges.heads import Push
from bot.review.commands import Command, Name, Problem, parse
from checks.config import ReviewConfig

Membership = Callable[[str, str], bool]
"""`is_member(user, "org/team")`: the I/O side answers (and caches) team lookups."""


class ReviewKind(StrEnum):
    APPROVED = "APPROVED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    COMMENTED = "COMMENTED"
    DISMISSED = "DISMISSED"
    PENDING = "PENDING"


class Role(StrEnum):
    MAINTAINERS = "maintainers"
    APPROVERS = "approvers"
    TRIAGERS = "triagers"


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    author: str
    body: str
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    author: str
    state: ReviewKind
    commit_sha: str
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class Timeline:
    author: str
    head_sha: str
    pushes: tuple[Push, ...]  # the opening head first
    comments: tuple[Comment, ...] = ()
    reviews: tuple[Review, ...] = ()
    open: bool = True
    base_changed_at: datetime | None = None  # the last change of the base branch


@dataclass(frozen=True, slots=True)
class Vote:
    """One person's standing LGTM or approval, and where it came from."""

    user: str
    sha: str | None  # the head it was given on; None when it predates every known push
    at: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command its writer had no right to: the bot replies, saying who can."""

    comment_id: int
    user: str
    command: Command
    reason: str


@dataclass(frozen=True, slots=True)
class ReviewState:
    head_sha: str
    required_lgtms: int
    lgtms: tuple[Vote, ...] = ()  # valid at the head, oldest first
    dropped_lgtms: tuple[Vote, ...] = ()  # standing LGTMs given on another head
    approvals: tuple[Vote, ...] = ()
    dropped_approvals: tuple[Vote, ...] = ()
    holds: tuple[str, ...] = ()  # who holds the PR, in the order they put it on hold
    refusals: tuple[Refusal, ...] = ()
    problems: tuple[tuple[int, Problem], ...] = ()  # (comment id, problem)
    commands: tuple[tuple[int, str, Command], ...] = ()  # (comment id, writer, command), all of them
    maintainers_configured: bool = True
    approvers_configured: bool = True
    open: bool = True

    @property
    def enough_lgtms(self) -> bool:
        return len(self.lgtms) >= self.required_lgtms

    def commands_of(self, comment_id: int) -> tuple[Command, ...]:
        return tuple(c for cid, _, c in self.commands if cid == comment_id)


def is_bot(user: str) -> bool:
    return user.lower().endswith("[bot]")


@dataclass(slots=True)
class Roles:
    """Who holds which role, asking `membership` at most once per (user, team) per derivation."""

    config: ReviewConfig
    membership: Membership
    _cache: dict[tuple[str, str], bool] = field(default_factory=dict)

    def entries(self, role: Role) -> tuple[str, ...]:
        return getattr(self.config, role.value)

    def has(self, user: str, role: Role) -> bool:
        for entry in self.entries(role):
            if "/" not in entry:
                if entry.lower() == user.lower():
                    return True
                continue
            key = (user.lower(), entry.lower())
            if key not in self._cache:
                self._cache[key] = bool(self.membership(user, entry))
            if self._cache[key]:
                return True
        return False

    def who(self, role: Role) -> str:
        """The role's members for a reply, or a note that nobody has it."""
        entries = self.entries(role)
        if not entries:
            return f"nobody: no `review.{role}` configured in `.github/taxonomist.yml`"
        return ", ".join(f"`{e}`" for e in entries)  # no @: a refusal must not ping a whole team


def head_at(pushes: tuple[Push, ...], when: datetime) -> str | None:
    """The head commit at `when`: the last push strictly before it (None before the first)."""
    sha = None
    for push in sorted(pushes, key=lambda p: p.at):
        if push.at < when:
            sha = push.sha
    return sha


def latest_comments(comments: Iterable[Comment]) -> list[Comment]:
    """One record per comment id, the latest edit winning (a redelivery adds nothing)."""
    latest: dict[int, Comment] = {}
    for c in comments:
        seen = latest.get(c.id)
        if seen is None or _version(c) >= _version(seen):
            latest[c.id] = c
    return sorted(latest.values(), key=lambda c: (c.created_at, c.id))


def _version(c: Comment) -> tuple[datetime, bool]:
    return (c.edited_at or c.created_at, c.deleted)


@dataclass(slots=True)
class _Replay:
    """The mutable state of one replay; `derive` turns it into a `ReviewState`."""

    timeline: Timeline
    roles: Roles
    lgtm: dict[str, Vote | None] = field(default_factory=dict)
    approve: dict[str, Vote | None] = field(default_factory=dict)
    holds: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # lower-case login: (since, login)
    refusals: list[Refusal] = field(default_factory=list)

    def refuse(self, comment: Comment, command: Command, reason: str) -> None:
        self.refusals.append(Refusal(comment.id, comment.author, command, reason))

    def comment(self, comment: Comment, commands: tuple[Command, ...]) -> None:
        user, author = comment.author, self.timeline.author
        sha = head_at(self.timeline.pushes, comment.created_at)
        vote = Vote(user, sha, comment.created_at)
        for command in commands:
            if command.name in (Name.LGTM, Name.APPROVE):
                role = Role.MAINTAINERS if command.name is Name.LGTM else Role.APPROVERS
                votes = self.lgtm if command.name is Name.LGTM else self.approve
                if command.cancel:
                    votes[user.lower()] = None
                elif user.lower() == author.lower():
                    self.refuse(comment, command, f"you cannot `/{command.name}` your own pull request")
                elif not self.roles.has(user, role):
                    self.refuse(comment, command, f"only {role} may `/{command.name}`: {self.roles.who(role)}")
                else:
                    votes[user.lower()] = vote
            elif command.name is Name.HOLD:
                self._hold(comment, command)
            elif command.name in (Name.LABEL, Name.REMOVE_LABEL):
                if not self.roles.has(user, Role.TRIAGERS):
                    self.refuse(comment, command,
                                f"only triagers may `/{command.name}`: {self.roles.who(Role.TRIAGERS)}")
            elif command.name is Name.RECHECK and user.lower() != author.lower() \
                    and not any(self.roles.has(user, r) for r in Role):
                self.refuse(comment, command,
                            "only the PR's author, maintainers, approvers and triagers may `/recheck`")

    def _hold(self, comment: Comment, command: Command) -> None:
        user = comment.author
        if not command.cancel:
            self.holds.setdefault(user.lower(), (comment.created_at, user))
        elif self.roles.has(user, Role.MAINTAINERS) or self.roles.has(user, Role.APPROVERS):
            self.holds.clear()
        else:
            self.holds.pop(user.lower(), None)

    def review(self, review: Review) -> None:
        user = review.author
        if review.state is ReviewKind.CHANGES_REQUESTED:
            self.lgtm[user.lower()] = None
        elif review.state is ReviewKind.APPROVED and user.lower() != self.timeline.author.lower() \
                and self.roles.has(user, Role.MAINTAINERS):
            self.lgtm[user.lower()] = Vote(user, review.commit_sha, review.submitted_at)


def _split(votes: dict[str, Vote | None], head: str, keep: bool = False,
           base_changed_at: datetime | None = None) -> tuple[tuple[Vote, ...], tuple[Vote, ...]]:
    """(valid, dropped): standing votes on the head (or all with `keep`) given after the last change of
    the base branch, and the others."""
    standing = sorted((v for v in votes.values() if v is not None), key=lambda v: (v.at, v.user.lower()))
    valid = tuple(v for v in standing if (keep or v.sha == head)
                  and (base_changed_at is None or v.at > base_changed_at))
    return valid, tuple(v for v in standing if v not in valid)


def derive(timeline: Timeline, config: ReviewConfig, membership: Membership) -> ReviewState:
    """Replay the timeline into the review state at its head."""
    replay = _Replay(timeline, Roles(config, membership))
    comments = [c for c in latest_comments(timeline.comments) if not c.deleted and not is_bot(c.author)]
    reviews = {r.id: r for r in timeline.reviews if not is_bot(r.author)}.values()
    parsed = {c.id: parse(c.body) for c in comments}
    events: list[tuple[datetime, int, int, Comment | Review]] = [
        *((c.created_at, 1, c.id, c) for c in comments),
        *((r.submitted_at, 2, r.id, r) for r in reviews),
    ]
    for _, _, _, item in sorted(events, key=lambda e: e[:3]):
        if isinstance(item, Comment):
            replay.comment(item, parsed[item.id].commands)
        else:
            replay.review(item)
    lgtms, dropped = _split(replay.lgtm, timeline.head_sha, base_changed_at=timeline.base_changed_at)
    approvals, dropped_approvals = _split(replay.approve, timeline.head_sha, config.keep_approvals_on_push,
                                          timeline.base_changed_at)
    return ReviewState(
        head_sha=timeline.head_sha,
        required_lgtms=config.required_lgtms,
        lgtms=lgtms,
        dropped_lgtms=dropped,
        approvals=approvals,
        dropped_approvals=dropped_approvals,
        holds=tuple(user for _, user in sorted(replay.holds.values())),
        refusals=tuple(replay.refusals),
        problems=tuple((c.id, p) for c in comments for p in parsed[c.id].problems),
        commands=tuple((c.id, c.author, cmd) for c in comments for cmd in parsed[c.id].commands),
        maintainers_configured=bool(config.maintainers),
        approvers_configured=bool(config.approvers),
        open=timeline.open,
    )
