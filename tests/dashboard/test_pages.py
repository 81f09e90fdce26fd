"""The dashboard's store, views and pages without a browser: states, blockers, filters, escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.dashboard import record, views, web
from bot.dashboard.builds import BuildRecordError, build_row
from bot.dashboard.store import BuildRow, PullRow, SimilarMatch, Store
from bot.lifecycle.rules import StaleInput, StaleStep, pick_reviewers, size_label, stale_step
from bot.review.effects import plan
from bot.review.state import ReviewState, Vote
from checks.config import AssignConfig, ConfigError, ReviewConfig, SizeConfig, StaleConfig, parse_config

NOW = 1_800_000_000.0
DAY = 86400.0
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> @everyone'


def row(number: int, *, labels: tuple[str, ...] = (), triage: dict | None = None, review: dict | None = None,
        age: float = 1.0, author: str = "alice", leaves: tuple[str, ...] = (), similar: tuple[SimilarMatch, ...] = (),
        title: str = "Add a skill") -> PullRow:
    return PullRow(repo="o/t", number=number, title=title, author=author,
                   html_url=f"https://github.com/o/t/pull/{number}", state="open", draft=False,
                   created_at=NOW - age * DAY, activity_at=NOW - age * DAY, waiting_since=NOW - age * DAY,
                   head_sha="a" * 40, base_ref="main", labels=labels, triage=triage, review=review,
                   leaves=leaves, similar=similar)


def review(lgtms: list[str], holds: list[str] = (), approvals: list[str] = (), required: int = 2,
           triage: str | None = "success") -> dict:
    """The review record as the review job stores it: the real merge gate's plan over this state."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    state = ReviewState(head_sha="a" * 40, required_lgtms=required, lgtms=tuple(Vote(u, "a" * 40, at) for u in lgtms),
                        approvals=tuple(Vote(u, "a" * 40, at) for u in approvals), holds=tuple(holds))
    return record.review_record(state, plan(state, ReviewConfig(required_lgtms=required), labels=frozenset(),
                                            triage=triage))


PASSED = {"conclusion": "success", "errors": 0, "warnings": 0}
FAILED = {"conclusion": "failure", "errors": 2, "warnings": 1}


def test_states_and_blockers_in_words() -> None:
    failing = views.view(row(1, triage=FAILED, review=review(["bob"])), NOW)
    assert failing.state is views.PrState.CHECKS_FAILING
    assert failing.blockers == ("1/2 LGTM: bob", "no /approve yet", "triage failed: 2 errors")
    waiting = views.view(row(2, triage=PASSED, review=review(["bob"], approvals=["dave"])), NOW)
    assert (waiting.state, waiting.state_text, waiting.blockers) == (
        views.PrState.WAITING_LGTMS, "waiting on LGTMs 1/2", ("1/2 LGTM: bob",))
    ready = views.view(row(3, triage=PASSED, review=review(["bob", "carol"], approvals=["dave"])), NOW)
    assert (ready.state, ready.blockers) == (views.PrState.READY, ())
    held = views.view(row(4, triage=PASSED, review=review(["bob", "carol"], holds=["erin"], approvals=["d"])), NOW)
    assert held.state is views.PrState.ON_HOLD and held.blockers == ("on hold by erin",)
    new = views.view(row(5, labels=("triage-needed", "pii-suspected", "model-already-knows")), NOW)
    assert new.state is views.PrState.TRIAGE_NEEDED
    assert new.flags == ("model already knows", "PII")
    assert "review state not derived yet" in new.blockers and "triage not finished" in new.blockers
    changes = views.view(row(6, labels=("triage-requested-changes",), triage=PASSED, review=review([])), NOW)
    assert changes.state is views.PrState.CHANGES_REQUESTED and "changes requested" in changes.blockers


def test_enough_lgtms_without_approve_waits_on_an_approver_not_on_lgtms() -> None:
    three = views.view(row(1, triage=PASSED, review=review(["bob", "carol", "dan"])), NOW)
    assert (three.state, three.state_text, three.next_actor) == (
        views.PrState.WAITING_APPROVE, "waiting on /approve", "an approver")
    held = views.view(row(2, triage=PASSED, review=review(["bob"], holds=["max"])), NOW)
    assert held.state_text == "on hold by max" and held.next_actor == "who put it on hold"


def test_the_authors_part_comes_first() -> None:
    ready = review(["bob", "carol"], approvals=["dave"])
    for labels, state in ((("needs-rebase", "stale"), views.PrState.NEEDS_REBASE), (("stale",), views.PrState.STALE),
                          (("triage-requested-changes", "stale"), views.PrState.CHANGES_REQUESTED)):
        seen = views.view(row(1, labels=labels, triage=PASSED, review=ready), NOW)
        assert (seen.state, seen.next_actor) == (state, "the author")
    assert "needs a rebase" in views.view(row(1, labels=("needs-rebase",), triage=PASSED, review=ready), NOW).blockers


def test_the_state_follows_the_gates_waits_where_the_gate_saw_another_triage() -> None:
    pending = views.view(row(1, triage=PASSED, review=review(["bob", "carol"], approvals=["d"], triage=None)), NOW)
    assert pending.state is views.PrState.TRIAGE_NEEDED  # the gate still waits: the review job runs again on it
    old = row(2, triage=PASSED, review={k: v for k, v in review(["bob", "carol"], approvals=["d"]).items()
                                        if k != "waits"})
    assert views.view(old, NOW).state is views.PrState.TRIAGE_NEEDED  # stored before the gate's waits were


def test_filters_and_waiting_order() -> None:
    rows = [row(1, age=3, author="Alice", labels=("skill",), leaves=("compositional_skills/a",)),
            row(2, age=9, author="bob", labels=("knowledge",), leaves=("knowledge/science/x",)),
            row(3, age=5, author="bob", labels=("skill",), leaves=("compositional_skills/b",), triage=FAILED)]
    prs = [views.view(r, NOW) for r in rows]
    assert [v.row.number for v in views.pull_requests(prs, views.Filters()).prs] == [2, 3, 1]
    assert [v.row.number for v in views.pull_requests(prs, views.Filters(author="alice")).prs] == [1]
    assert [v.row.number for v in views.pull_requests(prs, views.Filters(label="skill")).prs] == [3, 1]
    assert [v.row.number for v in views.pull_requests(prs, views.Filters(path="knowledge/")).prs] == [2]
    assert [v.row.number for v in views.pull_requests(prs, views.Filters(state="checks failing")).prs] == [3]


def test_sorting_by_any_column_and_pages_of_fifty() -> None:
    prs = [views.view(row(n, age=n % 17, author=f"a{n % 5}"), NOW) for n in range(1, 121)]
    first = views.pull_requests(prs, views.Filters())
    assert (first.pages, first.matched, len(first.prs), first.number) == (3, 120, 50, 1)
    assert [v.age_days for v in first.prs] == sorted((v.age_days for v in first.prs), reverse=True)
    last = views.pull_requests(prs, views.Filters(), page=9)  # past the end: the last page
    assert (last.number, len(last.prs)) == (3, 20)
    by_number = views.pull_requests(prs, views.Filters(), "number", descending=True)
    assert [v.row.number for v in by_number.prs[:3]] == [120, 119, 118]
    shown = {v.row.number for p in (1, 2, 3) for v in views.pull_requests(prs, views.Filters(), "author", page=p).prs}
    assert shown == set(range(1, 121))  # every PR on exactly one page
    assert views.Filters(author="a1", label="x y").query(sort="age", page="") == "label=x+y&author=a1&sort=age"


def test_waiting_on_me_is_a_requested_reviewer_without_an_lgtm_while_it_is_not_the_authors_turn() -> None:
    def pr(number: int, requested: tuple[str, ...], lgtms: list[str], triage: dict = PASSED) -> views.PrView:
        return views.view(replace(row(number, triage=triage, review=review(lgtms)), requested=requested), NOW)

    prs = [pr(1, ("mona",), []), pr(2, ("mona", "max"), ["mona"]), pr(3, ("max",), []),
           pr(4, ("Mona",), [], triage=FAILED)]
    assert [v.row.number for v in views.pull_requests(prs, views.Filters(reviewer="MONA")).prs] == [1]
    assert [v.row.number for v in views.pull_requests(prs, views.Filters(number="#3")).prs] == [3]


def test_a_ready_pr_says_why_it_is_not_merged_and_a_failing_one_links_its_checks() -> None:
    ready = views.view(row(1, triage=PASSED, review=review(["bob", "carol"], approvals=["ada"])), NOW)
    assert ready.state is views.PrState.READY and "approved by ada" in ready.why_not_merged
    assert "GitHub refused the merge" in ready.why_not_merged
    failing = views.view(row(2, triage=FAILED, review=review([])), NOW)
    assert failing.why_not_merged == "" and failing.checks_url == "https://github.com/o/t/pull/2/checks"


def match(leaf: str, pr: int, matched: str, score: float = 0.97, *examples: tuple[str, str]) -> SimilarMatch:
    return SimilarMatch(leaf, pr, matched, score, tuple(examples))


def test_similar_groups_link_leaves_not_prs_and_only_open() -> None:
    pun, mail = "compositional_skills/puns", "compositional_skills/email"
    rows = [row(1, similar=(match(pun, 2, pun, 0.99, (".seed_examples[0]", ".seed_examples[3]")),)),
            row(2, similar=(match(pun, 1, pun, 0.97),)),
            row(3, similar=(match(pun, 2, pun), match(mail, 5, mail), match(pun, 99, pun))),
            row(4), row(5), row(6, similar=(match("compositional_skills/limericks", 3, mail),))]
    groups = views.similar_groups(rows)
    # PR 3 touches both leaves: the pun PRs and the e-mail PRs stay apart, and PR 99 (closed) is not shown
    assert [[r.number for r in g.prs] for g in groups] == [[1, 2, 3], [3, 5, 6]]
    pairs = {(p.a.number, p.leaf_a, p.b.number, p.leaf_b): p for p in groups[0].pairs}
    assert set(pairs) == {(1, pun, 2, pun), (2, pun, 3, pun)}
    one_two = pairs[(1, pun, 2, pun)]  # seen from both PRs: the closer score and its examples
    assert one_two.score == 0.99 and one_two.examples == ((".seed_examples[0]", ".seed_examples[3]"),)
    mails = {(p.a.number, p.b.number) for p in groups[1].pairs}
    assert mails == {(3, 5), (3, 6)}


def test_a_match_seen_from_the_other_side_pairs_its_examples_the_right_way_round() -> None:
    leaf = "compositional_skills/puns"
    rows = [row(1), row(2, similar=(match(leaf, 1, leaf + "_too", 0.96, (".seed_examples[4]", ".seed_examples[0]")),))]
    (pair,) = views.leaf_pairs(rows)
    assert (pair.a.number, pair.leaf_a, pair.b.number, pair.leaf_b) == (1, leaf + "_too", 2, leaf)
    assert pair.examples == ((".seed_examples[0]", ".seed_examples[4]"),)


def test_similar_matches_come_from_the_findings_data_not_their_messages() -> None:
    from checks.findings import Finding, Severity, Similar

    leaf = "compositional_skills/twins"
    findings = [
        Finding("duplicate", Severity.ERROR, "near-duplicate of x in open pr/77 (similarity 1.00)",
                similar=(Similar(leaf, "compositional_skills/synonyms", "base", 1.0, (("a", "b"),)),
                         Similar(leaf, "compositional_skills/twins_too", "pr/12", 1.0, (("a", "b"),)))),
        Finding("duplicate", Severity.ERROR, "anything", similar=(
            Similar(leaf, "compositional_skills/twins_too", "pr/12", 0.98, (("c", "d"),)),
            Similar(leaf, leaf, "pr/4", 1.0))),  # its own PR: never similar to itself
    ]
    assert record.similar_prs(findings, own=4) == [
        SimilarMatch(leaf, 12, "compositional_skills/twins_too", 1.0, (("a", "b"), ("c", "d")))]


def test_the_store_keeps_similar_matches_and_reads_what_an_older_version_wrote(store_location: str | Path) -> None:
    store = Store(store_location)
    store.upsert_pull(row(2))
    kept = [match("knowledge/x", 3, "knowledge/y", 0.91, (".seed_examples[0].questions_and_answers[1]", ".a"))]
    store.set_triage("o/t", 2, "a" * 40, PASSED, ["knowledge/x"], kept)
    assert store.pull("o/t", 2).similar == tuple(kept)
    with store.db.tx() as db:
        db.execute("UPDATE pulls SET \"similar\"='[3, 4]'")  # bare numbers, as stored before
    assert store.pull("o/t", 2).similar == ()


def test_age_plot_counts_every_pr_once() -> None:
    bars = views.age_plot([views.view(row(n, age=a), NOW) for n, a in enumerate((0.5, 2, 2, 40, 400))])
    assert [b.count for b in bars] == [1, 2, 0, 0, 0, 1, 1]
    assert max(b.height for b in bars) == 140 and all(b.y + b.height == 160 for b in bars)


def test_store_records_deliveries_and_only_a_persons_activity(store_location: str | Path) -> None:
    store = Store(store_location)
    pr = {"number": 7, "title": HOSTILE, "user": {"login": "alice"}, "state": "open", "html_url": "javascript:x",
          "created_at": "2026-01-01T00:00:00Z", "labels": [{"name": "skill"}], "head": {"sha": "b" * 40},
          "base": {"ref": "main"}, "requested_reviewers": [{"login": "tina"}]}
    payload = {"action": "opened", "repository": {"full_name": "o/t"}, "sender": {"login": "alice", "type": "User"},
               "pull_request": pr}
    record.on_delivery(store, "pull_request", "d1", payload, [], NOW)
    stored = store.pull("o/t", 7)
    assert stored is not None and stored.title == HOSTILE and stored.html_url == "" and stored.requested == ("tina",)
    assert stored.activity_at == NOW
    bot = {**payload, "action": "labeled", "sender": {"login": "taxonomist[bot]", "type": "Bot"}}
    record.on_delivery(store, "pull_request", "d2", bot, [], NOW + DAY)
    assert store.pull("o/t", 7).activity_at == NOW  # the bot's own acts are not activity
    comment = {"action": "created", "repository": {"full_name": "o/t"}, "issue": {"number": 7},
               "sender": {"login": "bob", "type": "User"}}
    record.on_delivery(store, "issue_comment", "d3", comment, [], NOW + 2 * DAY)
    assert store.pull("o/t", 7).activity_at == NOW + 2 * DAY
    assert [d["id"] for d in store.deliveries()] == ["d3", "d2", "d1"]


def test_build_down_and_back(store_location: str | Path) -> None:
    store = Store(store_location)
    assert store.build_down_since() is None and store.build_back_at() is None
    store.record_build(BuildRow("1", NOW, "published", "passed"))
    store.record_build(BuildRow("2", NOW + DAY, "failed", "not evaluated"))
    store.record_build(BuildRow("3", NOW + 2 * DAY, "paused", "runner down"))
    assert store.build_down_since() == NOW + DAY
    store.record_build(BuildRow("4", NOW + 3 * DAY, "published", "passed"))
    assert store.build_down_since() is None and store.build_back_at() == NOW + 3 * DAY


def test_build_folder_becomes_a_row(tmp_path: Path) -> None:
    (tmp_path / "build.json").write_text('{"gate": {"passed": false}, "leaves": {"used": ["a/b"], '
                                         '"skipped": [{"leaf": "c/d", "reason": "x"}]}, '
                                         '"taxonomy": {"commit": "0123456789abcdef"}}', encoding="utf-8")
    built = build_row(tmp_path, "https://example.org/r", at=NOW)
    assert (built.status, built.gate, built.leaves_in, built.leaves_out) == ("rejected", "rejected", ("a/b",),
                                                                             ("c/d",))
    with pytest.raises(BuildRecordError, match="only http"):
        build_row(tmp_path, "javascript:alert(1)")
    with pytest.raises(BuildRecordError, match="cannot read"):
        build_row(tmp_path / "missing")


def test_pages_escape_hostile_text_and_make_no_script(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.sqlite3")
    store.upsert_pull(row(1, title=HOSTILE, author="<b>mallory</b>", labels=("<i>x</i>",)))
    store.set_repo_private("o/t", False)  # as a webhook says: its jobs and deliveries may be shown
    store.record_delivery(HOSTILE, "pull_request", "opened", "o/t", 1, 1, NOW)
    store.job_queued("k", "triage", "o/t", 1, NOW)
    store.job_state("k", "failed", NOW, reason=HOSTILE)
    client = TestClient(Starlette(routes=web.routes(store, clock=lambda: NOW)))
    for path in ("/", "/similar", "/queue", "/builds", "/?label=%3Cscript%3E&author=%22%3E%3Cscript%3E"):
        page = client.get(path)
        assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text and "<img" not in page.text and "<b>mallory" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/").text
    assert "&lt;script&gt;" in client.get("/queue").text
    assert client.post("/").status_code == 405  # read-only


def test_dashboard_page_shows_filters_and_counts(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.sqlite3")
    store.upsert_pull(row(1, labels=("skill",)))
    store.upsert_pull(row(2, labels=("knowledge",), author="bob"))
    store.set_triage("o/t", 2, "a" * 40, FAILED, ["knowledge/x"], [])
    page = TestClient(Starlette(routes=web.routes(store, clock=lambda: NOW))).get("/?state=checks+failing")
    assert re.findall(r'data-number="(\d+)"', page.text) == ["2"]
    assert "1 of 2 open pull requests" in page.text and "<svg" in page.text


def test_lifecycle_rules() -> None:
    size = SizeConfig()
    assert [size_label(1, 5, size), size_label(3, 5, size), size_label(1, 31, size), size_label(11, 1, size)] == [
        "size/S", "size/M", "size/L", "size/XL"]
    chosen, nxt = pick_reviewers(["a", "b", "c"], 1, "B", {"c": 5}, AssignConfig(reviewers=2, max_load=5))
    assert (chosen, nxt) == (["a"], 1)
    stale = StaleConfig(enabled=True, warn_after_days=10, label_after_days=5, exempt_labels=("legal-hold",))
    idle = StaleInput(frozenset(), NOW - 11 * DAY, None, False, None)
    assert stale_step(idle, stale, NOW) is StaleStep.WARN
    assert stale_step(StaleInput(frozenset({"legal-hold"}), NOW - 99 * DAY, None, False, None), stale,
                      NOW) is StaleStep.NOTHING
    assert stale_step(StaleInput(frozenset(), NOW - 99 * DAY, NOW - 6 * DAY, False, None), stale,
                      NOW) is StaleStep.LABEL
    assert stale_step(StaleInput(frozenset(), NOW - 99 * DAY, None, True, None), stale, NOW) is StaleStep.NOTHING
    assert stale_step(StaleInput(frozenset(), NOW - 99 * DAY, None, False, NOW - DAY), stale,
                      NOW) is StaleStep.NOTHING


def test_lifecycle_configuration_is_validated() -> None:
    assert not parse_config("").lifecycle.welcome.enabled  # upstream has no lifecycle: off until configured
    config = parse_config("lifecycle:\n  stale: {enabled: true}\n  assign: {max_load: 3}\n")
    assert config.lifecycle.stale.enabled and config.lifecycle.assign.max_load == 3
    with pytest.raises(ConfigError, match=r"taxonomist.yml:2:3: .lifecycle.stael: unknown key `stael`"):
        parse_config("lifecycle:\n  stael: {}\n")
    with pytest.raises(ConfigError, match=r"size\.examples"):
        parse_config("lifecycle:\n  size: {examples: [1, 2]}\n")


def test_workers_silent_for_a_day_are_forgotten(store_location: str | Path) -> None:
    store = Store(store_location)
    store.heartbeat("host:1/w1", "triage o/t#1", NOW)
    store.heartbeat("host:2/w1", None, NOW + 2 * DAY)
    assert [w["id"] for w in store.workers()] == ["host:2/w1"]
    store.heartbeat("host:2/w1", None, NOW + 2 * DAY + 15, keep_job=True)
    store.heartbeat("host:2/w1", "triage o/t#2", NOW + 2 * DAY + 16)
    store.heartbeat("host:2/w1", None, NOW + 2 * DAY + 17, keep_job=True)
    assert store.workers()[0]["current_job"] == "triage o/t#2"  # the periodic beat keeps the current job


def test_a_worker_process_beats_before_its_first_job(tmp_path: Path) -> None:
    import time

    from bot.dashboard.jobs import JobRecorder

    store = Store(tmp_path / "d.sqlite3")
    JobRecorder(store).start_heartbeat(3)
    deadline = time.monotonic() + 10
    while not store.workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    (worker,) = store.workers()
    assert worker["current_job"] == "3 worker thread(s)" and time.time() - worker["heartbeat_at"] < 10


def demo_world(tmp_path: Path, corpus: Path | None) -> tuple[Store, dict]:
    from bot.dashboard.demo import corpus_contributions, sample_contributions, seed

    store = Store(tmp_path / "demo.sqlite3")
    contributions = sample_contributions() + (corpus_contributions(corpus, 150) if corpus is not None else [])
    return store, seed(store, contributions, NOW)


def assert_states_agree_with_the_gate(store: Store, derived: dict) -> dict[views.PrState, int]:
    """Each PR's one state against the review state and the merge gate's plan the real workflow derived."""
    seen: dict[views.PrState, int] = {}
    for row in store.open_pulls():
        pr, d = views.view(row, NOW), derived[row.number]
        seen[pr.state] = seen.get(pr.state, 0) + 1
        state, gate = d.state, d.plan
        authors_turn = d.triage == "failure" or {"needs-rebase", "stale", "triage-requested-changes"} & set(row.labels)
        assert (pr.next_actor == "the author") == bool(authors_turn), (row.number, pr.state)
        if authors_turn or "triage-needed" in row.labels:
            continue
        assert (pr.state is views.PrState.READY) == (gate.merge is not None), (row.number, pr.state, gate.blockers)
        assert (pr.state is views.PrState.ON_HOLD) == bool(state.holds), row.number
        if not state.holds:
            assert (pr.state is views.PrState.WAITING_LGTMS) == (not state.enough_lgtms), row.number
            assert (pr.state is views.PrState.WAITING_APPROVE) == (state.enough_lgtms and not state.approvals)
        if pr.state is views.PrState.WAITING_LGTMS:
            assert pr.state_text == f"waiting on LGTMs {len(state.lgtms)}/{state.required_lgtms}"
    return seen


def test_every_pr_of_the_demo_world_is_in_the_state_the_merge_gate_derives(tmp_path: Path) -> None:
    store, derived = demo_world(tmp_path, None)
    assert_states_agree_with_the_gate(store, derived)
    (failed,) = store.jobs(("failed",))
    assert failed["attempts"] == 6  # one run and five retries, each raised, before the retries were spent


@pytest.mark.corpus
def test_every_pr_of_the_corpus_demo_world_is_in_the_state_the_merge_gate_derives(tmp_path: Path,
                                                                                  corpus: Path) -> None:
    seen = assert_states_agree_with_the_gate(*demo_world(tmp_path, corpus))
    for state in (views.PrState.READY, views.PrState.WAITING_LGTMS, views.PrState.WAITING_APPROVE,
                  views.PrState.ON_HOLD, views.PrState.CHECKS_FAILING, views.PrState.STALE):
        assert seen.get(state), (state, seen)  # the world has every kind of PR, so the test can fail
