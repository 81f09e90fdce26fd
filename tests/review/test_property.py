"""Property: for any interleaving of comments, edits, deletions, reviews, pushes and redeliveries,
`derive` agrees with a plain reference model that replays the PR's history step by step.

The reference is written independently of `bot.review.state`: it knows each comment's
commands from how the comment was generated (never parsing), keeps the head as it goes, and
reads roles from plain sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.review.effects import plan
from bot.review.state import Comment, Push, Review, ReviewKind, Timeline, derive
from checks.config import ReviewConfig

from .helpers import TEAM, at, team_membership

AUTHOR = "carla"
BOT = "taxonomist[bot]"
USERS = ("alice", "Bob", "carla", "dave", "tina", "sam", BOT)
MAINTAINERS = {"alice", "bob", "carla", "tina", "tom", BOT}  # tina and tom through the team
APPROVERS = {"dave", "alice", "carla"}
SHAS = ("s0", "s1", "s2", "s3")

# (text, the command it is, as (name, cancel), or None when it must not count)
FRAGMENTS: tuple[tuple[str, tuple[str, bool] | None], ...] = (
    ("/lgtm", ("lgtm", False)),
    ("  /LGTM ", ("lgtm", False)),
    ("/lgtm cancel", ("lgtm", True)),
    ("/approve", ("approve", False)),
    ("/approve Cancel", ("approve", True)),
    ("/hold", ("hold", False)),
    ("/hold cancel", ("hold", True)),
    ("> /lgtm", None),
    ("```\n/approve\n```", None),
    ("    /hold", None),
    ("<!-- /lgtm -->", None),
    ("/lgtm please", None),
    ("thanks, looks fine", None),
    ("/help", None),
)

fragment_lists = st.lists(st.sampled_from(range(len(FRAGMENTS))), min_size=1, max_size=3)
WEIGHTED = (  # comments carry most of the rules: draw them most often, pushes and deletions rarely
    (6, st.tuples(st.just("comment"), st.sampled_from(USERS), fragment_lists)),
    (2, st.tuples(st.just("review"), st.sampled_from(USERS), st.sampled_from(list(ReviewKind)))),
    (1, st.tuples(st.just("edit"), st.integers(0, 30), fragment_lists)),
    (1, st.tuples(st.just("delete"), st.integers(0, 30))),
    (1, st.tuples(st.just("push"), st.sampled_from(SHAS))),
    (1, st.tuples(st.just("redeliver"), st.integers(0, 30), st.integers(0, 5))),
)
actions = st.lists(st.one_of(*(strategy for weight, strategy in WEIGHTED for _ in range(weight))),
                   min_size=8, max_size=40)


@dataclass
class World:
    """The PR as the forge would show it, plus what the reference needs to know."""

    pushes: list[Push] = field(default_factory=lambda: [Push("s0", at(0))])
    versions: dict[int, list[Comment]] = field(default_factory=dict)  # every version, oldest first
    fragments: dict[int, list[int]] = field(default_factory=dict)  # latest fragments per comment
    deleted: set[int] = field(default_factory=set)
    reviews: list[Review] = field(default_factory=list)
    records: list[Comment] = field(default_factory=list)  # what the I/O side hands over, duplicates included
    history: list[tuple[str, int]] = field(default_factory=list)  # ("push", index) / ("comment", id) / ...


def body_of(fragments: list[int]) -> str:
    return "\n".join(FRAGMENTS[i][0] for i in fragments)


def build(steps: list[tuple]) -> World:
    world = World()
    for minute, step in enumerate(steps, start=1):
        kind = step[0]
        ids = sorted(world.versions)
        if kind == "comment":
            cid = len(world.versions) + 1
            first = Comment(cid, step[1], body_of(step[2]), at(minute))
            world.versions[cid], world.fragments[cid] = [first], list(step[2])
            world.records.append(first)
            world.history.append(("comment", cid))
        elif kind in ("edit", "delete", "redeliver") and ids:
            cid = ids[step[1] % len(ids)]
            if kind == "redeliver":
                versions = world.versions[cid]
                world.records.append(versions[step[2] % len(versions)])
                continue
            if cid in world.deleted:
                continue
            last = world.versions[cid][-1]
            if kind == "edit":
                new = replace(last, body=body_of(step[2]), edited_at=at(minute))
                world.fragments[cid] = list(step[2])
            else:
                new = replace(last, edited_at=at(minute), deleted=True)
                world.deleted.add(cid)
            world.versions[cid].append(new)
            world.records.append(new)
        elif kind == "review":
            world.reviews.append(Review(len(world.reviews) + 1, step[1], step[2], world.pushes[-1].sha, at(minute)))
            world.history.append(("review", len(world.reviews) - 1))
        elif kind == "push":
            world.pushes.append(Push(step[1], at(minute)))
            world.history.append(("push", len(world.pushes) - 1))
    return world


def reference(world: World, keep_approvals: bool) -> dict[str, object]:
    """A straightforward replay of the history with each comment's final text."""
    head = world.pushes[0].sha
    lgtm: dict[str, str | None] = {}
    approve: dict[str, str | None] = {}
    holds: list[str] = []
    refused: list[tuple[int, str]] = []
    for kind, key in world.history:
        if kind == "push":
            head = world.pushes[key].sha
        elif kind == "review":
            r = world.reviews[key]
            user = r.author.lower()
            if r.author == BOT:
                continue
            if r.state == ReviewKind.CHANGES_REQUESTED:
                lgtm[user] = None
            elif r.state == ReviewKind.APPROVED and user in MAINTAINERS and user != AUTHOR:
                lgtm[user] = r.commit_sha
        else:
            author = world.versions[key][0].author
            user = author.lower()
            if key in world.deleted or author == BOT:
                continue
            for i in world.fragments[key]:
                command = FRAGMENTS[i][1]
                if command is None:
                    continue
                name, cancel = command
                if name == "hold":
                    if not cancel:
                        holds += [] if user in holds else [user]
                    elif user in MAINTAINERS or user in APPROVERS:
                        holds = []
                    elif user in holds:
                        holds.remove(user)
                    continue
                votes, allowed = (lgtm, MAINTAINERS) if name == "lgtm" else (approve, APPROVERS)
                if cancel:
                    votes[user] = None
                elif user == AUTHOR or user not in allowed:
                    refused.append((key, f"/{name}"))
                else:
                    votes[user] = head
    final = world.pushes[-1].sha
    return {
        "lgtms": sorted(u for u, sha in lgtm.items() if sha is not None and sha == final),
        "dropped": sorted(u for u, sha in lgtm.items() if sha is not None and sha != final),
        "approvals": sorted(u for u, sha in approve.items() if sha is not None and (keep_approvals or sha == final)),
        "dropped_approvals": sorted(u for u, sha in approve.items()
                                    if sha is not None and not keep_approvals and sha != final),
        "holds": holds,
        "refused": refused,
    }


def derived(world: World, config: ReviewConfig) -> dict[str, object]:
    timeline = Timeline(AUTHOR, world.pushes[-1].sha, tuple(world.pushes), tuple(world.records),
                        tuple(world.reviews))
    state = derive(timeline, config, team_membership)
    return {
        "lgtms": sorted(v.user.lower() for v in state.lgtms),
        "dropped": sorted(v.user.lower() for v in state.dropped_lgtms),
        "approvals": sorted(v.user.lower() for v in state.approvals),
        "dropped_approvals": sorted(v.user.lower() for v in state.dropped_approvals),
        "holds": [u.lower() for u in state.holds],
        "refused": [(r.comment_id, f"/{r.command.name}") for r in state.refusals],
    }


def config_for(keep_approvals: bool, required: int) -> ReviewConfig:
    return ReviewConfig(maintainers=("alice", "bob", AUTHOR, TEAM, BOT), approvers=("dave", "alice", AUTHOR),
                        required_lgtms=required, keep_approvals_on_push=keep_approvals)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=actions, keep_approvals=st.booleans(), required=st.integers(1, 3))
@example(steps=[("comment", "dave", [3]), ("review", "alice", ReviewKind.APPROVED), ("push", "s1"),
                ("comment", "sam", [5]), ("comment", "alice", [6]), ("review", "alice", ReviewKind.CHANGES_REQUESTED)],
         keep_approvals=True, required=1)
def test_derived_state_equals_the_reference_model(steps: list[tuple], keep_approvals: bool, required: int) -> None:
    world = build(steps)
    assert derived(world, config_for(keep_approvals, required)) == reference(world, keep_approvals)


@settings(max_examples=150, deadline=None)
@given(steps=actions, labels=st.sets(st.sampled_from(["lgtm", "skill", "triage-needed",
                                                       "triage-requested-changes"])))
def test_a_plan_applied_twice_changes_nothing_and_merges_only_on_success(steps: list[tuple],
                                                                         labels: set[str]) -> None:
    world = build(steps)
    timeline = Timeline(AUTHOR, world.pushes[-1].sha, tuple(world.pushes), tuple(world.records),
                        tuple(world.reviews))
    config = config_for(False, 2)
    state = derive(timeline, config, team_membership)
    first = plan(state, config, labels=labels, triage="success", pushed=True)
    after = (labels | set(first.labels_add)) - set(first.labels_remove)
    second = plan(state, config, labels=after, triage="success", pushed=True)
    assert (second.labels_add, second.labels_remove) == ((), ())
    assert (second.status, second.merge, second.section) == (first.status, first.merge, first.section)
    if first.merge is not None:  # the bot never merges what branch protection would refuse
        assert first.status.state == "success" and first.merge.sha == timeline.head_sha and state.approvals
