"""A raw HTTP client authenticated as the installation, for tests that check statuses and headers."""

from __future__ import annotations

from typing import Any

import requests

from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp

REPO = "octo-org/taxonomy"
SKILL = "compositional_skills/writing/haiku/qna.yaml"


class Api:
    """GitHub's REST API on the emulator, authenticated with a fresh installation token."""

    def __init__(self, emulator: EmulatorClient, app: GitHubApp) -> None:
        self.base = emulator.api_url
        self.session = requests.Session()
        answer = self.session.post(f"{self.base}/app/installations/{app.installation_id}/access_tokens",
                                   headers={"Authorization": f"Bearer {app.jwt()}"}, timeout=10)
        assert answer.status_code == 201, answer.text
        self.token = answer.json()["token"]
        self.session.headers["Authorization"] = f"token {self.token}"
        self.session.headers["Accept"] = "application/vnd.github+json"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, f"{self.base}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)


def seed(emulator: EmulatorClient, files: dict[str, Any] | None = None) -> dict[str, Any]:
    """`octo-org/taxonomy` with a README and one skill, and PR 1 from `alice` adding another skill."""
    emulator.create_repo(REPO, {"README.md": "# Taxonomy\n", SKILL: "version: 3\ntask_description: haiku\n"})
    return emulator.open_pull(REPO, "alice/new-skill", user="alice", title="Add a skill", body="Adds a skill.",
                              files=files or {"compositional_skills/writing/limerick/qna.yaml": "version: 3\n"})
