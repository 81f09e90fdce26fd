"""The trust tests replay attacks on the review scenes of `tests/review/test_scenarios.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.forges.github import GitHubApp, GitHubForge
from bot.service.settings import Settings
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.review.test_scenarios import REPO, Scene, scene, scene_for  # noqa: F401  (fixtures)


@pytest.fixture
def impostor(github_emulator: EmulatorClient, other_app: EmulatedApp, tmp_path: Path) -> GitHubForge:
    """The repository as the second app sees it: what it creates is its own, not the bot's."""
    key = tmp_path / "impostor.pem"
    key.write_text(other_app.private_key_pem, encoding="utf-8")
    settings = Settings(app_id=str(other_app.app_id), private_key=key, github_api_url=github_emulator.url,
                        api_retries=1, request_timeout=10)
    return GitHubApp(settings).forge(REPO, other_app.installation_id)
