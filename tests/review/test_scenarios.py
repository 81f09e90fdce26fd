"""The review workflow against the GitHub emulator, one scenario per rule.

Real parts: the emulator (a loopback HTTP server checking every call against GitHub's REST
description), the PyGithub forge authenticated as the app, the router building jobs from
webhook payloads made from GitHub's own examples, and the triage and review handlers. Only the
queue is left out: jobs run in the test's thread, in delivery order. Each scenario asserts
what the emulator recorded: labels, commit statuses, comments and merge calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.demo import SAMPLES
from bot.forges.github import GitHubApp
from bot.review.commands import HELP_TEXT
from bot.review.effects import reply_marker
from bot.review.workflow import review_section_for
from bot.service.handlers import load_handlers
from bot.service.router import HandlerContext
from bot.service.settings import Settings
from bot.triage.render import CHECK_RUN_NAME, MARKER
from bot.triage.run import triage
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.emulator.webhooks import Webhook, WebhookFactory

pytestmark = pytest.mark.corpus  # the emulator and the webhook payloads come from GitHub's descriptions

REPO = f"{ORG}/taxonomy"
AUTHOR = "carla"
BOT = "taxonomist[bot]"
LEAF = "compositional_skills/linguistics/opposites"
CONFIG = """\
review:
  maintainers: [alice, bob, octo-org/reviewers]
  approvers: [dave]
  triagers: [tess]
  required_lgtms: 2
  merge_method: squash
"""
NO_MAINTAINERS = "review:\n  approvers: [dave]\n"


def files_under(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def contribution(note: str = "") -> dict[str, str]:
    """A leaf that passes the structural checks (the sample skill under another name)."""
    leaf = files_under(SAMPLES / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms")
    leaf["attribution.txt"] += note
    return {f"{LEAF}/{name}": text for name, text in leaf.items()}


def next_second() -> None:
    """GitHub's times are to the second: wait so what follows is dated after what came before."""
    time.sleep(1.05 - (time.time() % 1.0))


@dataclass
class Scene:
    gh: EmulatorClient
    hooks: WebhookFactory
    ctx: HandlerContext
    number: int

    def deliver(self, webhook: Webhook) -> None:
        """Run every job the router makes of this delivery, as a worker would."""
        router = load_handlers()
        for job in router.jobs_for(webhook.event, webhook.delivery, webhook.payload, time.time()):
            router.dispatch(job, self.ctx)

    def say(self, user: str, body: str) -> tuple[dict[str, Any], Webhook]:
        comment = self.gh.comment_as(user, REPO, self.number, body)
        hook = self.hooks.issue_comment(REPO, self.number, comment)
        self.deliver(hook)
        return comment, hook

    def review(self, user: str, state: str, body: str = "") -> None:
        review = self.gh.review_as(user, REPO, self.number, state=state, body=body)
        self.deliver(self.hooks.pull_request_review(REPO, self.number, review))

    def triaged(self, webhook: Webhook) -> None:
        """Deliver a `pull_request` event, then the `check_run completed` GitHub sends once triage is done."""
        self.deliver(webhook)
        head = self.head
        runs = [r for r in self.state()["check_runs"] if r["head_sha"] == head and r["name"] == CHECK_RUN_NAME]
        newest = max(runs, key=lambda r: r["id"])  # a head seen again may have a newer run beside its old one
        self.deliver(self.hooks.check_run(REPO, newest, sender=BOT, action="completed"))
        next_second()

    def push(self, note: str) -> str:
        pushed = self.gh.push_to_pull(REPO, self.number, contribution(note), author=AUTHOR)
        self.triaged(self.hooks.pull_request(REPO, self.number, "synchronize", before=pushed["before"]))
        return pushed["sha"]

    def force_push(self, sha: str) -> None:
        """`git push --force` of an existing commit to the PR's branch, then its `synchronize` event."""
        moved = self.gh.force_push(REPO, self.number, sha, actor=AUTHOR)
        self.triaged(self.hooks.pull_request(REPO, self.number, "synchronize", before=moved["before"]))

    # --- what the emulator recorded ------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return self.gh.state(REPO)

    @property
    def head(self) -> str:
        return self.state()["pulls"][str(self.number)]["head_sha"]

    def labels(self) -> set[str]:
        return set(self.state()["labels"].get(str(self.number), []))

    def status(self) -> tuple[str, str]:
        head = self.head
        found = [s for s in self.state()["statuses"]
                 if s["url"].endswith(f"/statuses/{head}") and s["context"] == "taxonomist/review"]
        return found[-1]["state"], found[-1]["description"]

    def bot_comments(self) -> list[dict[str, Any]]:
        return [c for c in self.state()["comments"]
                if c["user"]["login"].endswith("[bot]") and c["issue_url"].endswith(f"/issues/{self.number}")]

    def reply_to(self, comment: dict[str, Any]) -> list[str]:
        return [c["body"] for c in self.bot_comments() if c["body"].startswith(reply_marker(comment["id"]))]

    def sticky(self) -> str:
        (body,) = [c["body"] for c in self.bot_comments() if c["body"].startswith(MARKER)]
        return body

    def merge_calls(self) -> list[dict[str, Any]]:
        return self.gh.calls("PUT", "/merge")


@pytest.fixture
def scene_for(github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path,
              corpus: Path) -> Callable[..., Scene]:
    """A PR by AUTHOR, triaged, on a repository with CONFIG (or the given configuration)."""
    gh = github_emulator

    def make(config: str = CONFIG) -> Scene:
        for login in ("alice", "bob", "tina", "dave", "tess", "sam", AUTHOR):
            gh.add_user(login)
        gh.add_team(ORG, "reviewers", ["tina"])
        base = files_under(SAMPLES / "taxonomy")
        base.pop(".github/pull_request_template.md", None)
        gh.create_repo(REPO, {**base, ".github/taxonomist.yml": config})
        key = tmp_path / "app.pem"
        key.write_text(github_app.private_key_pem, encoding="utf-8")
        settings = Settings(app_id=str(github_app.app_id), private_key=key, webhook_secret="s",
                            github_api_url=gh.url, api_retries=1, request_timeout=10)
        forge = GitHubApp(settings).forge(REPO, github_app.installation_id)
        hooks = WebhookFactory(gh, github_app.installation_id, corpus)
        pull = gh.open_pull(REPO, "opposites", files=contribution(), user=AUTHOR,
                            body="Adds a skill.\n\nSigned-off-by: Carla <carla@example.org>")
        ctx = HandlerContext(forge=forge, skip_checks=("content",))
        scene = Scene(gh, hooks, ctx, int(pull["number"]))
        scene.triaged(hooks.pull_request(REPO, scene.number, "opened"))
        return scene

    return make


@pytest.fixture
def scene(scene_for: Callable[..., Scene]) -> Iterator[Scene]:
    yield scene_for()


def test_new_pr_is_triaged_and_pending_review(scene: Scene) -> None:
    run = [r for r in scene.state()["check_runs"] if r["head_sha"] == scene.head]
    assert [r["conclusion"] for r in run] in (["success"], ["neutral"])
    sticky = scene.sticky()
    assert "**LGTM: 0/2**" in sticky and "triage check" not in sticky  # updated once triage completed
    assert scene.status() == ("pending", "0/2 LGTM")


def test_author_lgtm_is_ignored_with_a_reply(scene: Scene) -> None:
    comment, _ = scene.say(AUTHOR, "/lgtm")
    assert scene.status() == ("pending", "0/2 LGTM")
    assert "lgtm" not in scene.labels()
    (reply,) = scene.reply_to(comment)
    assert f"@{AUTHOR}: you cannot `/lgtm` your own pull request" in reply


def test_non_maintainer_lgtm_is_refused_saying_who_can(scene: Scene) -> None:
    comment, _ = scene.say("sam", "Nice one!\n/lgtm")
    assert scene.status() == ("pending", "0/2 LGTM")
    (reply,) = scene.reply_to(comment)
    assert "@sam: only maintainers may `/lgtm`: `alice`, `bob`, `octo-org/reviewers`" in reply


def test_team_member_lgtm_counts_and_two_lgtms_succeed(scene: Scene) -> None:
    scene.say("tina", "/lgtm")
    assert scene.status() == ("pending", "1/2 LGTM: tina")
    scene.say("alice", "/LGTM")
    assert scene.status() == ("success", "2/2 LGTM")
    assert "lgtm" in scene.labels()
    assert "**LGTM: 2/2**" in scene.sticky() and "alice, tina" in scene.sticky()  # same second: by name
    assert scene.gh.calls("GET", "/teams/reviewers/memberships/tina")


def test_two_lgtms_then_a_push_go_back_to_zero(scene: Scene) -> None:
    scene.say("alice", "/lgtm")
    scene.review("bob", "APPROVED")
    assert scene.status() == ("success", "2/2 LGTM")
    old = scene.head
    new = scene.push("\n")
    assert new != old
    assert scene.status() == ("pending", "0/2 LGTM")
    assert "lgtm" not in scene.labels()
    sticky = scene.sticky()
    assert "**LGTM: 0/2**" in sticky and f"`{new[:7]}`" in sticky
    assert "LGTM by alice was given before the head commit was pushed" in sticky
    assert f"LGTM by bob was given on `{old[:7]}`" in sticky
    scene.say("alice", "/lgtm")  # after the push it counts again
    assert scene.status() == ("pending", "1/2 LGTM: alice")


def test_changes_requested_withdraws_the_reviewers_lgtm(scene: Scene) -> None:
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    scene.review("bob", "CHANGES_REQUESTED", body="Please fix the third example.")
    assert scene.status() == ("pending", "1/2 LGTM: alice")


def test_redelivered_comment_is_counted_once(scene: Scene) -> None:
    scene.say("alice", "/lgtm")
    comment, hook = scene.say("sam", "/lgtm")
    scene.deliver(hook)  # the same delivery again
    scene.deliver(scene.hooks.issue_comment(REPO, scene.number, comment))  # and under a new delivery id
    assert scene.status() == ("pending", "1/2 LGTM: alice")
    assert len(scene.reply_to(comment)) == 1
    statuses = [s for s in scene.state()["statuses"] if s["context"] == "taxonomist/review"]
    assert len(statuses) == len({(s["state"], s["description"]) for s in statuses})  # nothing re-posted


def test_edited_comment_replaces_its_command_and_its_reply(scene: Scene) -> None:
    comment, _ = scene.say("alice", "/lgtm")
    assert scene.status() == ("pending", "1/2 LGTM: alice")
    edited = scene.gh.edit_comment_as(REPO, comment["id"], "On second thought, not yet.\n/lgmt")
    scene.deliver(scene.hooks.issue_comment(REPO, scene.number, edited, action="edited", previous_body="/lgtm"))
    assert scene.status() == ("pending", "0/2 LGTM")
    (reply,) = scene.reply_to(comment)
    assert "`/lgmt` is not a command" in reply
    edited = scene.gh.edit_comment_as(REPO, comment["id"], "/lgtm\n/help")
    scene.deliver(scene.hooks.issue_comment(REPO, scene.number, edited, action="edited"))
    (reply,) = scene.reply_to(comment)  # the same reply, edited
    assert HELP_TEXT in reply and "/lgmt" not in reply


def test_approve_without_enough_lgtms_is_refused(scene: Scene) -> None:
    scene.say("alice", "/lgtm")
    comment, _ = scene.say("dave", "/approve")
    assert scene.merge_calls() == []
    (reply,) = scene.reply_to(comment)
    assert "Not merging yet" in reply and f"2 LGTMs on `{scene.head[:7]}` (has 1)" in reply


def test_approve_by_a_non_approver_is_refused(scene: Scene) -> None:
    comment, _ = scene.say("alice", "/approve")
    (reply,) = scene.reply_to(comment)
    assert "@alice: only approvers may `/approve`: `dave`" in reply


def test_hold_blocks_the_merge_until_lifted(scene: Scene) -> None:
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    scene.say("sam", "/hold")
    assert scene.status()[0] == "pending" and scene.status()[1].startswith("on hold (sam)")
    comment, _ = scene.say("dave", "/approve")
    assert scene.merge_calls() == []
    assert "hold by sam" in scene.reply_to(comment)[0]
    scene.say("bob", "/hold cancel")  # a maintainer lifts every hold: the standing approval merges
    (merge,) = scene.merge_calls()
    assert merge["request"]["sha"] == scene.head and merge["status"] == 200


def test_approve_merges_pinned_to_the_head_with_the_configured_method(scene: Scene) -> None:
    head = scene.head
    scene.say("alice", "/lgtm")
    scene.say("tina", "/lgtm")
    scene.say("dave", "/approve")
    (merge,) = scene.merge_calls()
    assert merge["request"] == {"sha": head, "merge_method": "squash"} and merge["status"] == 200
    state = scene.state()
    assert state["pulls"][str(scene.number)]["merged"] and len(state["merges"]) == 1
    assert f"**Merged** `{head[:7]}` (squash)" in scene.sticky()


def test_a_failed_merge_is_reported_in_the_comment(scene: Scene) -> None:
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    scene.gh.edit_pull(REPO, scene.number, mergeable=False)
    scene.say("dave", "/approve")
    (merge,) = scene.merge_calls()
    assert merge["status"] == 405
    assert "**Merge failed:** Pull Request is not mergeable (HTTP 405)" in scene.sticky()
    assert not scene.state()["pulls"][str(scene.number)]["merged"]


def test_no_maintainers_configured_fails_closed(scene_for: Callable[..., Scene]) -> None:
    scene = scene_for(NO_MAINTAINERS)
    comment, _ = scene.say("alice", "/lgtm")
    state, description = scene.status()
    assert state == "pending" and "no maintainers configured" in description
    assert "nobody: no `review.maintainers` configured" in scene.reply_to(comment)[0]
    scene.say("dave", "/approve")
    assert scene.merge_calls() == []


def test_triager_labels_and_a_push_after_requested_changes_goes_back_to_triage(scene: Scene) -> None:
    assert "triage-needed" in scene.labels()
    scene.say("tess", "/label triage-requested-changes")
    assert "triage-requested-changes" in scene.labels() and "triage-needed" not in scene.labels()
    comment, _ = scene.say("sam", "/label triage-approved")
    assert "only triagers may `/label`: `tess`" in scene.reply_to(comment)[0]
    scene.push("\n")
    assert "triage-needed" in scene.labels() and "triage-requested-changes" not in scene.labels()


def test_a_standing_approval_merges_when_triage_completes(scene: Scene) -> None:
    head = scene.gh.push_to_pull(REPO, scene.number, contribution("\n"), author=AUTHOR)["sha"]
    forge = scene.ctx.forge
    forge.start_check_run(head, CHECK_RUN_NAME, pr=scene.number)  # triage has started on the new head, not finished
    next_second()
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    comment, _ = scene.say("dave", "/approve")
    assert scene.merge_calls() == [] and "the triage check to finish" in scene.reply_to(comment)[0]
    triage(forge, scene.number, skip=("content",), review_section=review_section_for)
    (run,) = [r for r in scene.state()["check_runs"] if r["head_sha"] == head]
    scene.deliver(scene.hooks.check_run(REPO, run, sender=BOT, action="completed"))
    (merge,) = scene.merge_calls()
    assert merge["request"] == {"sha": head, "merge_method": "squash"} and merge["status"] == 200


def test_recheck_runs_triage_again(scene: Scene) -> None:
    scene.gh.clear_calls()
    comment, _ = scene.say("sam", "/recheck")
    assert scene.gh.calls("GET", f"/pulls/{scene.number}/files") == []  # a stranger may not
    assert "may `/recheck`" in scene.reply_to(comment)[0]
    scene.say(AUTHOR, "/recheck")
    assert scene.gh.calls("GET", f"/pulls/{scene.number}/files")


def test_an_invalid_configuration_sets_the_review_status_to_error(scene_for: Callable[..., Scene]) -> None:
    scene = scene_for("review:\n  maintainer: [alice]\n")  # a typo: unknown keys are errors, never ignored
    scene.say("alice", "/lgtm")
    assert scene.status() == ("error", "invalid .github/taxonomist.yml")
    assert scene.merge_calls() == []


def test_lgtms_on_a_later_head_do_not_survive_a_force_push_back_to_an_older_one(scene: Scene) -> None:
    malicious = scene.head  # A: triaged at the PR's opening, long before the LGTMs below
    harmless = scene.push("\n")  # B
    scene.say("alice", "/lgtm")
    scene.review("bob", "APPROVED")
    assert scene.status() == ("success", "2/2 LGTM")
    scene.force_push(malicious)
    assert scene.head == malicious
    (event,) = scene.state()["issue_events"]
    assert event["event"] == "head_ref_force_pushed" and event["commit_id"] == malicious
    assert scene.status() == ("pending", "0/2 LGTM")  # A's old check run no longer dates the head
    assert "lgtm" not in scene.labels()
    sticky = scene.sticky()
    assert "**LGTM: 0/2**" in sticky and f"LGTM by bob was given on `{harmless[:7]}`" in sticky
    scene.say("dave", "/approve")
    assert scene.merge_calls() == []


def test_lgtms_do_not_survive_a_fast_forward_back_after_a_force_push_to_an_ancestor(scene: Scene) -> None:
    malicious = scene.head
    base = scene.state()["branches"]["main"]
    scene.force_push(base)  # back to an ancestor of A (recorded), then forward to A again (not a force push)
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    assert scene.status() == ("success", "2/2 LGTM")
    scene.force_push(malicious)
    assert [e["commit_id"] for e in scene.state()["issue_events"]] == [base]  # the fast-forward left no event
    assert scene.status() == ("pending", "0/2 LGTM")
    runs = [r for r in scene.state()["check_runs"] if r["head_sha"] == malicious]
    assert len(runs) == 2  # triage started a fresh run: it dates A from now on
    scene.say("alice", "/lgtm")
    assert scene.status() == ("pending", "1/2 LGTM: alice")


def test_a_recheck_with_new_findings_starts_a_new_check_run_and_keeps_the_lgtms(scene: Scene) -> None:
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    assert scene.status() == ("success", "2/2 LGTM")
    stricter = CONFIG + "checks:\n  min_examples: {skill: 50}\n"
    scene.gh.push(REPO, {".github/taxonomist.yml": stricter})  # the base branch's configuration changes
    scene.say(AUTHOR, "/recheck")
    old, new = sorted((r for r in scene.state()["check_runs"] if r["head_sha"] == scene.head),
                      key=lambda r: r["id"])
    assert new["conclusion"] == "failure" and old["conclusion"] != "failure"
    assert len(new["annotations"]) == new["output"]["annotations_count"]  # nothing appended to the old run
    assert scene.status() == ("success", "2/2 LGTM")  # the head was not pushed: its date is its first run
