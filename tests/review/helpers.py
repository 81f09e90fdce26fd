"""Small builders for review timelines: times are minutes after a fixed instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.review.state import Comment, Push, Review, ReviewKind, Timeline

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AUTHOR = "carla"
TEAM = "octo-org/taxonomy-maintainers"
TEAM_MEMBERS = frozenset({"tina", "tom"})


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def comment(cid: int, author: str, body: str, minute: float, *, edited: float | None = None,
            deleted: bool = False) -> Comment:
    return Comment(cid, author, body, at(minute), at(edited) if edited is not None else None, deleted)


def review(rid: int, author: str, state: str, sha: str, minute: float) -> Review:
    return Review(rid, author, ReviewKind(state), sha, at(minute))


def timeline(*items: Comment | Review, pushes: tuple[tuple[str, float], ...] = (("a1", 0),),
             author: str = AUTHOR, open_: bool = True) -> Timeline:
    return Timeline(
        author=author,
        head_sha=pushes[-1][0],
        pushes=tuple(Push(sha, at(minute)) for sha, minute in pushes),
        comments=tuple(i for i in items if isinstance(i, Comment)),
        reviews=tuple(i for i in items if isinstance(i, Review)),
        open=open_,
    )


def team_membership(user: str, team: str) -> bool:
    """A stand-in for the API's team lookup: one team with two members."""
    return team.lower() == TEAM and user.lower() in TEAM_MEMBERS
