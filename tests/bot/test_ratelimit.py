"""Rate limits ahead of time: the forge slows down, waits or defers before GitHub answers 403."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bot.forges.github import GitHubApp, GitHubForge
from bot.service.ratelimit import RateLimitDeferred, RatePacer, pause_before_call
from bot.service.settings import Settings
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp

REPO = f"{ORG}/taxonomy"


def test_plenty_left_or_nothing_known_goes_straight_on() -> None:
    assert pause_before_call(4000, 5000, 1000.0, 0.0) == 0.0
    assert pause_before_call(-1, -1, 0.0, 0.0) == 0.0  # no answer seen yet


def test_few_left_spreads_the_calls_over_the_time_to_the_reset() -> None:
    assert pause_before_call(450, 5000, 1000.0, 0.0) == pytest.approx(1000.0 / 400)
    assert pause_before_call(100, 5000, 1000.0, 0.0) > pause_before_call(300, 5000, 1000.0, 0.0)


def test_at_the_reserve_it_waits_for_the_reset_and_not_after_it() -> None:
    assert pause_before_call(50, 5000, 1000.0, 400.0) == 601.0
    assert pause_before_call(0, 5000, 1000.0, 1000.0) == 0.0  # those headers describe a window that is over


def test_a_wait_longer_than_allowed_defers_the_job() -> None:
    class Requester:
        rate_limiting = (3, 5000)
        rate_limiting_resettime = time.time() + 3600

    slept: list[float] = []
    with pytest.raises(RateLimitDeferred, match="3 of 5000 API calls left"):
        RatePacer(max_wait=120, sleep=slept.append).before_call(Requester())
    assert slept == []


def make_forge(gh: EmulatorClient, app: EmulatedApp, tmp_path: Path, pacer: RatePacer) -> tuple[GitHubForge, int]:
    gh.create_repo(REPO, {"README.md": "taxonomy\n"})
    pull = gh.open_pull(REPO, "topic", files={"a.txt": "a\n"}, user="carla")
    key = tmp_path / "app.pem"
    key.write_text(app.private_key_pem, encoding="utf-8")
    settings = Settings(app_id=str(app.app_id), private_key=key, webhook_secret="s", github_api_url=gh.url,
                        api_retries=1, request_timeout=10)
    forge = GitHubApp(settings).forge(REPO, app.installation_id)
    forge.pacer = pacer
    return forge, int(pull["number"])


def test_the_forge_defers_before_the_emulator_refuses(github_emulator: EmulatorClient, github_app: EmulatedApp,
                                                      tmp_path: Path) -> None:
    forge, number = make_forge(github_emulator, github_app, tmp_path, RatePacer(max_wait=1.0, reserve=5))
    github_emulator.settings(rate_limit=30)
    with pytest.raises(RateLimitDeferred):
        for _ in range(40):
            forge.labels(number)
    calls = github_emulator.calls()
    assert [c for c in calls if c["status"] == 403] == []  # the limit was never hit
    assert 25 <= len(calls) < 30


def test_the_forge_slows_down_then_waits_for_the_reset(github_emulator: EmulatorClient, github_app: EmulatedApp,
                                                       tmp_path: Path) -> None:
    slept: list[float] = []
    pacer = RatePacer(max_wait=7200, reserve=5, slow_below=0.5, sleep=slept.append)
    forge, number = make_forge(github_emulator, github_app, tmp_path, pacer)
    github_emulator.settings(rate_limit=30)
    headers: dict[str, Any] = {}
    for _ in range(40):
        forge.labels(number)
        headers = {"remaining": forge.requester.rate_limiting[0], "reset": forge.requester.rate_limiting_resettime}
        if slept and slept[-1] > headers["reset"] - time.time():
            break  # it waited for the reset (the sleep is recorded, not slept: stop before the limit)
    assert len(slept) >= 3 and slept[0] < slept[-1]
    assert all(wait < headers["reset"] - time.time() for wait in slept[:-1])  # slowed, not stopped
    assert slept[-1] >= headers["reset"] - time.time()
    assert headers["remaining"] > 0 and [c for c in github_emulator.calls() if c["status"] == 403] == []
