"""From the review state to labels, the commit status, the merge decision and replies."""

from __future__ import annotations

from bot.review.commands import HELP_TEXT
from bot.review.effects import Merge, plan, reply_marker, section, status_of
from bot.review.state import derive
from checks.config import ReviewConfig

from .helpers import AUTHOR, comment, team_membership, timeline

CONFIG = ReviewConfig(maintainers=("alice", "bob", "cleo"), approvers=("dave",), triagers=("tess",),
                      merge_method="rebase")


def make_plan(*items, pushes=(("a1", 0),), labels=(), triage="success", trigger=None, pushed=False,
              config=CONFIG, open_=True):
    state = derive(timeline(*items, pushes=pushes, open_=open_), config, team_membership)
    return plan(state, config, labels=frozenset(labels), triage=triage, comment_id=trigger, pushed=pushed)


TWO = (comment(1, "alice", "/lgtm", 1), comment(2, "bob", "/lgtm", 2))


def test_enough_lgtms_set_the_label_and_a_successful_status() -> None:
    p = make_plan(*TWO)
    assert p.labels_add == ("lgtm",) and p.labels_remove == ()
    assert (p.status.state, p.status.description, p.status.context) == ("success", "2/2 LGTM", "taxonomist/review")


def test_fewer_lgtms_pending_naming_who_gave_one() -> None:
    p = make_plan(TWO[0], labels=("lgtm", "skill"))
    assert p.labels_remove == ("lgtm",) and p.labels_add == ()
    assert (p.status.state, p.status.description) == ("pending", "1/2 LGTM: alice")


def test_push_drops_to_zero_and_the_section_says_so() -> None:
    p = make_plan(*TWO, pushes=(("a1", 0), ("b2222222", 5)), labels=("lgtm",), pushed=True)
    assert p.status.description == "0/2 LGTM" and p.labels_remove == ("lgtm",)
    assert "LGTM by alice was given on `a1` and dropped by the push of `b222222`" in p.section
    assert "**LGTM: 0/2**" in p.section


def test_hold_makes_the_status_pending_and_blocks_the_merge() -> None:
    p = make_plan(*TWO, comment(3, "stranger", "/hold", 3), comment(4, "dave", "/approve", 4), trigger=4)
    assert p.status.state == "pending" and p.status.description.startswith("on hold (stranger)")
    assert p.merge is None and any("hold by stranger" in b for b in p.blockers)
    assert "Not merging yet" in p.replies[0].body and "hold by stranger" in p.replies[0].body


def test_approve_with_enough_lgtms_merges_pinned_to_the_head() -> None:
    p = make_plan(*TWO, comment(3, "dave", "/approve", 3), pushes=(("a1", 0),), trigger=3)
    assert p.merge == Merge("a1", "rebase") and p.blockers == () and p.replies == ()
    assert "ready, rebase of `a1`" in p.section


def test_approve_without_enough_lgtms_is_refused_with_a_reply() -> None:
    p = make_plan(TWO[0], comment(3, "dave", "/approve", 3), trigger=3)
    assert p.merge is None
    (reply,) = p.replies
    assert reply.comment_id == 3 and reply.body.startswith(reply_marker(3))
    assert "2 LGTMs on `a1` (has 1)" in reply.body


def test_a_standing_approval_merges_when_the_last_lgtm_arrives() -> None:
    p = make_plan(comment(6, "dave", "/approve", 0.5), *TWO[:1], comment(5, "cleo", "/lgtm", 5), trigger=5)
    assert p.merge == Merge("a1", "rebase") and p.replies == ()


def test_failed_or_unfinished_triage_blocks_the_merge_neutral_does_not() -> None:
    items = (*TWO, comment(3, "dave", "/approve", 3))
    assert make_plan(*items, triage="failure").blockers == ("the triage check to pass (it concluded `failure`)",)
    assert make_plan(*items, triage=None).blockers == ("the triage check to finish",)
    assert make_plan(*items, triage="neutral").merge is not None


def test_closed_pr_never_merges() -> None:
    p = make_plan(*TWO, comment(3, "dave", "/approve", 3), open_=False)
    assert p.merge is None and p.blockers == ("the pull request is not open",)


def test_refusal_reply_says_who_can() -> None:
    p = make_plan(comment(9, "stranger", "/lgtm", 1), trigger=9)
    (reply,) = p.replies
    assert "@stranger: only maintainers may `/lgtm`: `alice`, `bob`, `cleo`" in reply.body


def test_fail_closed_status_and_reply() -> None:
    p = make_plan(comment(9, "alice", "/lgtm", 1), trigger=9, config=ReviewConfig())
    assert p.status == status_of(derive(timeline(), ReviewConfig(), team_membership))
    assert p.status.state == "pending" and "no maintainers configured" in p.status.description
    assert "nobody: no `review.maintainers` configured" in p.replies[0].body
    assert "nobody can give one" in p.section


def test_replies_only_for_the_triggering_comment() -> None:
    items = (comment(1, "stranger", "/lgtm", 1), comment(2, "other", "/lgmt", 2))
    assert make_plan(*items).replies == ()
    assert [r.comment_id for r in make_plan(*items, trigger=2).replies] == [2]


def test_help_reply_and_unknown_command_reply() -> None:
    p = make_plan(comment(4, "stranger", "/help\n/frobnicate", 1), trigger=4)
    assert HELP_TEXT in p.replies[0].body and "`/frobnicate` is not a command" in p.replies[0].body


def test_triager_label_sets_one_triage_state_and_keeps_other_labels() -> None:
    p = make_plan(comment(4, "tess", "/label triage-approved", 1), labels=("triage-needed", "skill"), trigger=4)
    assert p.labels_add == ("triage-approved",) and p.labels_remove == ("triage-needed",)


def test_label_names_ignore_case_and_keep_the_configured_spelling() -> None:
    p = make_plan(comment(4, "tess", "/label Triage-Approved", 1), labels=("triage-needed",), trigger=4)
    assert p.labels_add == ("triage-approved",) and p.labels_remove == ("triage-needed",) and p.replies == ()


def test_label_outside_the_allowed_set_is_refused_and_changes_nothing() -> None:
    p = make_plan(comment(4, "tess", "/label lgtm\n/remove-label skill", 1), labels=("skill",), trigger=4)
    assert p.labels_add == () and p.labels_remove == ()
    assert "`lgtm` is not a label I may change" in p.replies[0].body


def test_remove_label_by_a_triager() -> None:
    p = make_plan(comment(4, "tess", "/remove-label precheck-generate-ready", 1),
                  labels=("precheck-generate-ready",), trigger=4)
    assert p.labels_remove == ("precheck-generate-ready",)


def test_stranger_label_changes_nothing() -> None:
    p = make_plan(comment(4, "stranger", "/label triage-approved", 1), labels=("triage-needed",), trigger=4)
    assert p.labels_add == () and p.labels_remove == () and "only triagers" in p.replies[0].body


def test_push_after_requested_changes_goes_back_to_triage_needed() -> None:
    p = make_plan(pushes=(("a1", 0), ("b2", 5)), labels=("triage-requested-changes", "skill"), pushed=True)
    assert p.labels_add == ("triage-needed",) and p.labels_remove == ("triage-requested-changes",)
    assert make_plan(labels=("triage-requested-changes",)).labels_remove == ()  # not a push: unchanged


def test_recheck_by_author_only_when_allowed() -> None:
    assert make_plan(comment(4, AUTHOR, "/recheck", 1), trigger=4).recheck
    p = make_plan(comment(4, "stranger", "/recheck", 1), trigger=4)
    assert not p.recheck and "may `/recheck`" in p.replies[0].body


def test_long_status_descriptions_are_clipped_to_githubs_limit() -> None:
    many = ReviewConfig(maintainers=tuple(f"maintainer-with-a-long-name-{i}" for i in range(9)), required_lgtms=20)
    items = [comment(i, f"maintainer-with-a-long-name-{i}", "/lgtm", i) for i in range(9)]
    p = make_plan(*items, config=many)
    assert len(p.status.description) == 140 and p.status.description.endswith("…")


def test_section_reports_a_failed_merge() -> None:
    state = derive(timeline(*TWO), CONFIG, team_membership)
    text = section(state, CONFIG, (), merge_note="**Merge failed:** Head branch was modified")
    assert "- **Merge failed:** Head branch was modified" in text and "ready" not in text


def test_same_inputs_same_plan() -> None:
    items = (*TWO, comment(3, "stranger", "/hold", 3))
    assert make_plan(*items, trigger=3) == make_plan(*items, trigger=3)
