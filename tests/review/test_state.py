"""Deriving the review state from a timeline, one rule at a time."""

from __future__ import annotations

from bot.review.state import derive
from checks.config import ReviewConfig

from .helpers import AUTHOR, TEAM, comment, review, team_membership, timeline

CONFIG = ReviewConfig(maintainers=("alice", "bob", TEAM), approvers=("dave",), triagers=("tess",))


def lgtm_users(tl, config: ReviewConfig = CONFIG) -> list[str]:
    return [v.user for v in derive(tl, config, team_membership).lgtms]


def test_maintainer_lgtms_count_at_the_head() -> None:
    state = derive(timeline(comment(1, "alice", "/lgtm", 1), comment(2, "bob", "/lgtm", 2)), CONFIG,
                   team_membership)
    assert [v.user for v in state.lgtms] == ["alice", "bob"]
    assert state.enough_lgtms and state.refusals == ()


def test_author_lgtm_is_ignored_and_refused_even_for_a_maintainer() -> None:
    state = derive(timeline(comment(1, AUTHOR, "/lgtm", 1)), ReviewConfig(maintainers=(AUTHOR,)),
                   team_membership)
    assert state.lgtms == ()
    assert [r.reason for r in state.refusals] == ["you cannot `/lgtm` your own pull request"]


def test_non_maintainer_lgtm_is_refused_saying_who_can() -> None:
    state = derive(timeline(comment(1, "stranger", "/lgtm", 1)), CONFIG, team_membership)
    assert state.lgtms == ()
    (refusal,) = state.refusals
    assert refusal.comment_id == 1 and refusal.user == "stranger"
    assert "only maintainers may `/lgtm`" in refusal.reason and "`alice`" in refusal.reason
    assert f"`{TEAM}`" in refusal.reason


def test_team_members_count_and_membership_is_asked_once_per_pair() -> None:
    asked: list[tuple[str, str]] = []

    def membership(user: str, team: str) -> bool:
        asked.append((user, team))
        return team_membership(user, team)

    tl = timeline(comment(1, "tina", "/lgtm", 1), comment(2, "tina", "/lgtm", 2),
                  comment(3, "zed", "/lgtm", 3))
    assert [v.user for v in derive(tl, CONFIG, membership).lgtms] == ["tina"]
    assert sorted(asked) == [("tina", TEAM), ("zed", TEAM)]


def test_no_maintainers_configured_fails_closed() -> None:
    state = derive(timeline(comment(1, "alice", "/lgtm", 1), comment(2, "dave", "/approve", 2)),
                   ReviewConfig(), team_membership)
    assert state.lgtms == () and state.approvals == ()
    assert not state.maintainers_configured
    assert all("nobody" in r.reason for r in state.refusals) and len(state.refusals) == 2


def test_logins_compare_case_insensitively() -> None:
    assert lgtm_users(timeline(comment(1, "Alice", "/lgtm", 1), comment(2, "TINA", "/lgtm", 2))) == [
        "Alice", "TINA"]


def test_a_push_drops_lgtms_given_on_an_older_head() -> None:
    tl = timeline(comment(1, "alice", "/lgtm", 1), comment(2, "bob", "/lgtm", 2),
                  comment(3, "tina", "/lgtm", 6), pushes=(("a1", 0), ("b2", 5)))
    state = derive(tl, CONFIG, team_membership)
    assert [v.user for v in state.lgtms] == ["tina"]
    assert [(v.user, v.sha) for v in state.dropped_lgtms] == [("alice", "a1"), ("bob", "a1")]


def test_a_comment_at_the_push_instant_is_taken_as_before_it() -> None:
    """GitHub's times are to the second: a tie must not let an LGTM slip onto the new head."""
    tl = timeline(comment(1, "alice", "/lgtm", 5), comment(2, "bob", "/lgtm", 5.02), pushes=(("a1", 0), ("b2", 5)))
    assert lgtm_users(tl) == ["bob"]


def test_force_push_back_to_a_reviewed_commit_restores_its_lgtms() -> None:
    tl = timeline(comment(1, "alice", "/lgtm", 1), pushes=(("a1", 0), ("b2", 5), ("a1", 9)))
    assert lgtm_users(tl) == ["alice"]


def test_lgtm_cancel_withdraws_only_your_own() -> None:
    tl = timeline(comment(1, "alice", "/lgtm", 1), comment(2, "bob", "/lgtm", 2),
                  comment(3, "alice", "/lgtm cancel", 3), comment(4, "stranger", "/lgtm cancel", 4))
    assert lgtm_users(tl) == ["bob"]


def test_later_command_in_the_same_comment_wins() -> None:
    assert lgtm_users(timeline(comment(1, "alice", "/lgtm\n/lgtm cancel", 1))) == []
    assert lgtm_users(timeline(comment(1, "alice", "/lgtm cancel\n/lgtm", 1))) == ["alice"]


def test_approving_review_counts_as_lgtm_on_its_commit() -> None:
    tl = timeline(review(1, "alice", "APPROVED", "a1", 1), review(2, "bob", "APPROVED", "a1", 6),
                  pushes=(("a1", 0), ("b2", 5)))
    state = derive(tl, CONFIG, team_membership)
    assert state.lgtms == () and [v.user for v in state.dropped_lgtms] == ["alice", "bob"]


def test_changes_requested_cancels_that_reviewers_lgtm() -> None:
    tl = timeline(comment(1, "alice", "/lgtm", 1), comment(2, "bob", "/lgtm", 2),
                  review(3, "alice", "CHANGES_REQUESTED", "a1", 3), review(4, "bob", "COMMENTED", "a1", 4))
    assert lgtm_users(tl) == ["bob"]


def test_review_approvals_from_non_maintainers_and_the_author_do_not_count() -> None:
    tl = timeline(review(1, "stranger", "APPROVED", "a1", 1), review(2, AUTHOR, "APPROVED", "a1", 2))
    state = derive(tl, ReviewConfig(maintainers=(AUTHOR, "alice")), team_membership)
    assert state.lgtms == () and state.refusals == ()


def test_dismissed_review_counts_for_nothing() -> None:
    assert lgtm_users(timeline(review(1, "alice", "DISMISSED", "a1", 1))) == []


def test_edited_comment_counts_once_with_its_latest_text_at_its_creation_time() -> None:
    original = comment(1, "alice", "looks fine", 1)
    edited = comment(1, "alice", "looks fine\n/lgtm", 1, edited=8)
    assert lgtm_users(timeline(original, edited)) == ["alice"]
    # Edited after a push, it still belongs to the head it was written on.
    assert lgtm_users(timeline(original, edited, pushes=(("a1", 0), ("b2", 5)))) == []
    # The edit removing /lgtm withdraws it, whatever order the records arrive in.
    assert lgtm_users(timeline(comment(1, "alice", "no", 1, edited=3), comment(1, "alice", "/lgtm", 1))) == []


def test_deleted_comment_commands_no_longer_count() -> None:
    tl = timeline(comment(1, "alice", "/lgtm", 1), comment(2, "bob", "/lgtm", 2),
                  comment(1, "alice", "/lgtm", 1, edited=4, deleted=True))
    state = derive(tl, CONFIG, team_membership)
    assert [v.user for v in state.lgtms] == ["bob"] and state.commands_of(1) == ()


def test_redelivered_comment_counts_once() -> None:
    once = timeline(comment(1, "alice", "/lgtm", 1))
    twice = timeline(comment(1, "alice", "/lgtm", 1), comment(1, "alice", "/lgtm", 1))
    assert derive(once, CONFIG, team_membership) == derive(twice, CONFIG, team_membership)


def test_bots_never_issue_commands() -> None:
    assert lgtm_users(timeline(comment(1, "taxonomist[bot]", "/lgtm", 1)),
                      ReviewConfig(maintainers=("taxonomist[bot]",))) == []


def test_approvals_need_an_approver_and_are_dropped_by_a_push_unless_kept() -> None:
    tl = timeline(comment(1, "dave", "/approve", 1), comment(2, "alice", "/approve", 2),
                  pushes=(("a1", 0), ("b2", 5)))
    state = derive(tl, CONFIG, team_membership)
    assert state.approvals == () and [v.user for v in state.dropped_approvals] == ["dave"]
    assert [r.user for r in state.refusals] == ["alice"]
    kept = derive(tl, ReviewConfig(maintainers=("alice",), approvers=("dave",), keep_approvals_on_push=True),
                  team_membership)
    assert [v.user for v in kept.approvals] == ["dave"] and kept.dropped_approvals == ()


def test_author_cannot_approve_own_pr() -> None:
    state = derive(timeline(comment(1, AUTHOR, "/approve", 1)), ReviewConfig(approvers=(AUTHOR,)),
                   team_membership)
    assert state.approvals == () and "own pull request" in state.refusals[0].reason


def test_holds_are_per_person_and_survive_pushes() -> None:
    tl = timeline(comment(1, "stranger", "/hold", 1), comment(2, AUTHOR, "/hold", 2),
                  comment(3, AUTHOR, "/hold cancel", 3), pushes=(("a1", 0), ("b2", 5)))
    assert derive(tl, CONFIG, team_membership).holds == ("stranger",)


def test_a_maintainer_or_approver_lifts_every_hold() -> None:
    for lifter in ("alice", "dave", "tina"):
        tl = timeline(comment(1, "stranger", "/hold", 1), comment(2, "bob", "/hold", 2),
                      comment(3, lifter, "/hold cancel", 3))
        assert derive(tl, CONFIG, team_membership).holds == ()


def test_label_and_recheck_rights() -> None:
    tl = timeline(comment(1, "tess", "/label triage-approved", 1), comment(2, "stranger", "/label x", 2),
                  comment(3, AUTHOR, "/recheck", 3), comment(4, "stranger", "/recheck", 4),
                  comment(5, "stranger", "/help\n/hold", 5))
    state = derive(tl, CONFIG, team_membership)
    assert [(r.comment_id, str(r.command)) for r in state.refusals] == [(2, "/label x"), (4, "/recheck")]
    assert "only triagers" in state.refusals[0].reason and "`tess`" in state.refusals[0].reason


def test_problems_are_kept_per_comment() -> None:
    state = derive(timeline(comment(7, "stranger", "/lgmt", 1)), CONFIG, team_membership)
    assert [(cid, p.text) for cid, p in state.problems] == [(7, "/lgmt")]


def test_a_comment_before_every_known_push_is_on_no_head() -> None:
    tl = timeline(comment(1, "alice", "/lgtm", 1), pushes=(("a1", 2),))
    state = derive(tl, CONFIG, team_membership)
    assert state.lgtms == () and state.dropped_lgtms[0].sha is None
