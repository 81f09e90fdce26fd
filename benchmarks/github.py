"""What the bot's benchmarks share: GitHub's REST description from the corpus, and the emulator with
the Taxonomist app installed on an organisation, as the bot's settings see it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP_ID = 4242
ORG = "octo-org"


def corpus() -> Path | None:
    """The corpus folder when it holds GitHub's REST description (TAXONOMIST_CORPUS, else ../shared/corpus)."""
    path = Path(os.environ.get("TAXONOMIST_CORPUS", ROOT.parent / "shared" / "corpus"))
    return path if (path / "github" / "rest-openapi.json").is_file() else None


@dataclass(frozen=True)
class InstalledApp:
    url: str  # the emulator's base URL
    gh: Any  # tests.emulator.client.EmulatorClient: the emulator's own controls
    installation: int
    settings: Any  # bot.service.settings.Settings for the app
    tmp: Path  # a folder that lives as long as the app (its key is there)


@contextmanager
def installed_app(found: Path) -> Iterator[InstalledApp]:
    """The GitHub emulator, started, with the app registered and installed on ORG; stopped after."""
    from bot.service.settings import Settings
    from tests.emulator.client import EmulatorClient
    from tests.emulator.plugin import rsa_key_pair
    from tests.emulator.server import EmulatorServer

    server = EmulatorServer(found / "github" / "rest-openapi.json").start()
    try:
        gh = EmulatorClient(server.url)
        private, public = rsa_key_pair()
        gh.add_user(ORG, type="Organization")
        gh.register_app(APP_ID, public, slug="taxonomist", owner=ORG)
        installation = gh.install(APP_ID, ORG)
        with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
            key = Path(tmp) / "app.pem"
            key.write_text(private, encoding="utf-8")
            settings = Settings(app_id=str(APP_ID), private_key=key, webhook_secret="s", github_api_url=server.url)
            yield InstalledApp(server.url, gh, installation, settings, Path(tmp))
    finally:
        server.stop()
