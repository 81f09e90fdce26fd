"""`bot.comment.sticky.splice`: replacing the review part of the triage comment in place."""

from __future__ import annotations

from bot.comment.sticky import splice
from bot.review.effects import section
from bot.review.state import derive
from bot.triage.render import render_comment
from checks.config import ReviewConfig
from checks.findings import Report

from .helpers import comment, team_membership, timeline

CONFIG = ReviewConfig(maintainers=("alice", "bob"))


def report() -> Report:
    return Report(files=[], findings=[])


def splice_section(body: str, review: str) -> str:
    return splice(body, "review", review)


def review_part(*items) -> str:
    return section(derive(timeline(*items), CONFIG, team_membership), CONFIG, ())


def test_splice_matches_what_triage_renders() -> None:
    """The same text either way, so triage and the review handler never undo each other's edit."""
    first, second = review_part(), review_part(comment(1, "alice", "/lgtm", 1))
    assert first != second
    without = render_comment(report(), "c" * 40)
    assert splice_section(without, first) == render_comment(report(), "c" * 40, first)
    assert splice_section(render_comment(report(), "c" * 40, first), second) == \
        render_comment(report(), "c" * 40, second)


def test_splicing_twice_is_a_no_op() -> None:
    body = render_comment(report(), "c" * 40, review_part())
    assert splice_section(body, review_part()) == body
