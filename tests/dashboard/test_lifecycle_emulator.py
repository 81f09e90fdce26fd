"""Lifecycle scenarios against the GitHub emulator: the real service, handlers, store and PyGithub forge."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.dashboard.builds import paused_row
from bot.dashboard.store import BuildRow
from bot.lifecycle.handler import STALE_MARKER, WELCOME_MARKER, stale_sweep
from tests.dashboard.harness import REPO, World, clean_leaf
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp

pytestmark = pytest.mark.corpus  # GitHub's REST description and webhook examples come from the corpus

DAY = 86400.0
CONFIG = """\
review:
  maintainers: [mona]
  approvers: [mona]
  triagers: [tina, tess, tom]
lifecycle:
  welcome: {enabled: true}
  assign: {enabled: true, max_load: 2}
  needs_rebase: {enabled: true}
  size: {enabled: true}
  stale: {enabled: true, warn_after_days: 30, label_after_days: 14, exempt_labels: [legal-hold]}
"""
PEOPLE = ("alice", "bob", "carla", "dan", "erin", "fay", "gus", "mona", "tina", "tess", "tom")


@pytest.fixture
def world_for(github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path,
              corpus: Path) -> Callable[..., World]:
    def make(config: str = CONFIG) -> World:
        for login in PEOPLE:
            github_emulator.add_user(login)
        github_emulator.add_team(ORG, "maintainers", ["mona"])
        return World.make(github_emulator, github_app, tmp_path, corpus, config)
    return make


def requested(world: World, number: int) -> list[str]:
    return [u["login"] for u in world.gh.pull(REPO, number)["pull_request"]["requested_reviewers"]]


def test_welcome_once_per_first_time_contributor(world_for: Callable[..., World]) -> None:
    world = world_for()
    first = world.open("alice/one", clean_leaf("compositional_skills/linguistics/one"), "alice")
    welcomes = [b for b in world.bot_comments(first) if b.startswith(WELCOME_MARKER)]
    assert len(welcomes) == 1 and "What happens next" in welcomes[0]
    world.deliver(world.hooks.pull_request(REPO, first, "opened"))  # a redelivery changes nothing
    assert sum(b.startswith(WELCOME_MARKER) for b in world.bot_comments(first)) == 1
    second = world.open("alice/two", clean_leaf("compositional_skills/linguistics/two"), "alice")
    assert not any(b.startswith(WELCOME_MARKER) for b in world.bot_comments(second))
    member = world.open("mona/three", clean_leaf("compositional_skills/linguistics/three"), "mona")
    assert not any(b.startswith(WELCOME_MARKER) for b in world.bot_comments(member))  # MEMBER: no welcome


def test_the_lifecycle_is_off_unless_configured(world_for: Callable[..., World]) -> None:
    world = world_for("review:\n  triagers: [tina]\n")
    number = world.open("bob/one", clean_leaf("compositional_skills/linguistics/one"), "bob")
    assert not any(b.startswith(WELCOME_MARKER) for b in world.bot_comments(number))
    assert requested(world, number) == [] and not {lb for lb in world.labels(number) if lb.startswith("size/")}
    assert stale_sweep(world.service.github.forge(REPO, None), world.store, time.time() + 400 * DAY) == {
        "warned": [], "labelled": []}


def test_assignment_rotates_skips_the_author_and_respects_the_load_limit(world_for: Callable[..., World]) -> None:
    world = world_for()
    authors = ("carla", "dan", "tom", "erin", "fay", "gus", "bob")
    got = []
    for i, author in enumerate(authors):
        number = world.open(f"{author}/leaf{i}", clean_leaf(f"compositional_skills/linguistics/leaf{i}"), author)
        got.append(requested(world, number))
    # round robin tina, tess, tom; tom never reviews his own PR; nobody past 2 open requests
    assert got == [["tina"], ["tess"], ["tina"], ["tess"], ["tom"], ["tom"], []]
    world.deliver(world.hooks.pull_request(REPO, 1, "synchronize", before=world.state()["pulls"]["1"]["head_sha"]))
    assert requested(world, 1) == ["tina"]  # once per PR


def test_needs_rebase_follows_the_conflict(world_for: Callable[..., World]) -> None:
    world = world_for()
    leaf = "compositional_skills/linguistics/synonyms/attribution.txt"
    files = {**clean_leaf("compositional_skills/linguistics/clash"), leaf: "Changed by the PR\n"}
    number = world.open("carla/clash", files, "carla")
    assert "needs-rebase" not in world.labels(number)
    before = world.state()["branches"]["main"]
    after = world.gh.push(REPO, {leaf: "Changed on main\n"}, branch="main", author="mona")
    world.deliver(world.hooks.push(REPO, "refs/heads/main", before, after, sender="mona"))
    assert "needs-rebase" in world.labels(number)
    pushed = world.gh.push_to_pull(REPO, number, {leaf: "Changed on main\n"}, author="carla")
    world.triaged(number, world.hooks.pull_request(REPO, number, "synchronize", before=pushed["before"]))
    assert "needs-rebase" not in world.labels(number)


def test_size_label_from_leaves_and_examples(world_for: Callable[..., World]) -> None:
    world = world_for()
    small = world.open("carla/small", clean_leaf("compositional_skills/linguistics/small"), "carla")
    three = {**clean_leaf("compositional_skills/linguistics/a"), **clean_leaf("compositional_skills/linguistics/b"),
             **clean_leaf("compositional_skills/linguistics/c")}
    medium = world.open("dan/medium", three, "dan")
    assert {lb for lb in world.labels(small) if lb.startswith("size/")} == {"size/S"}
    assert {lb for lb in world.labels(medium) if lb.startswith("size/")} == {"size/M"}


def test_stale_warning_then_label_exemptions_and_activity(world_for: Callable[..., World]) -> None:
    world = world_for()
    quiet = world.open("carla/quiet", clean_leaf("compositional_skills/linguistics/quiet"), "carla")
    exempt = world.open("dan/exempt", clean_leaf("compositional_skills/linguistics/exempt"), "dan")
    talked = world.open("erin/talked", clean_leaf("compositional_skills/linguistics/talked"), "erin")
    forge = world.service.github.forge(REPO, None)
    forge.add_labels(exempt, ["legal-hold"])  # a maintainer's label, seen through its webhook
    world.deliver(world.hooks.pull_request(REPO, exempt, "labeled", sender="mona"))
    now = time.time()
    assert stale_sweep(forge, world.store, now + 10 * DAY) == {"warned": [], "labelled": []}
    assert stale_sweep(forge, world.store, now + 31 * DAY)["warned"] == [quiet, talked]
    warned_quiet = [b for b in world.bot_comments(quiet) if b.startswith(STALE_MARKER)]
    assert len(warned_quiet) == 1 and "30 days" in warned_quiet[0]
    assert not any(b.startswith(STALE_MARKER) for b in world.bot_comments(exempt))
    world.say("erin", talked, "Still working on it, new examples coming.")  # activity: the clock restarts
    done = stale_sweep(forge, world.store, now + 46 * DAY)
    assert done["labelled"] == [quiet]
    assert "stale" in world.labels(quiet) and "stale" not in world.labels(talked)
    assert "stale" not in world.labels(exempt)
    assert stale_sweep(forge, world.store, now + 47 * DAY) == {"warned": [], "labelled": []}  # once


def test_no_stale_clock_while_the_build_is_down(world_for: Callable[..., World]) -> None:
    world = world_for()
    number = world.open("carla/waiting", clean_leaf("compositional_skills/linguistics/waiting"), "carla")
    forge = world.service.github.forge(REPO, None)
    now = time.time()
    world.store.record_build(BuildRow("b1", now + DAY, "failed", "not evaluated"))
    assert stale_sweep(forge, world.store, now + 40 * DAY) == {"warned": [], "labelled": []}
    world.store.record_build(paused_row("GPU runner down", now + 41 * DAY))
    assert stale_sweep(forge, world.store, now + 60 * DAY) == {"warned": [], "labelled": []}
    world.store.record_build(BuildRow("b2", now + 61 * DAY, "published", "passed"))
    # back up: the clock counts from the build's return, not from the PR's last activity
    assert stale_sweep(forge, world.store, now + 62 * DAY) == {"warned": [], "labelled": []}
    assert not any(b.startswith(STALE_MARKER) for b in world.bot_comments(number))
    assert stale_sweep(forge, world.store, now + 92 * DAY)["warned"] == [number]
    assert any(b.startswith(STALE_MARKER) for b in world.bot_comments(number))


def test_a_refused_review_request_does_not_fail_the_job(world_for: Callable[..., World]) -> None:
    world = world_for("review:\n  triagers: [ghost]\nlifecycle:\n  assign: {enabled: true}\n  size: {enabled: true}\n")
    number = world.open("carla/leaf", clean_leaf("compositional_skills/linguistics/leaf"), "carla")
    assert requested(world, number) == [] and "size/S" in world.labels(number)  # the rest of the job ran
    assert world.store.job_counts().get("retrying", 0) == 0
