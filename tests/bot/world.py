"""An emulated GitHub holding the sample taxonomy, and the webhook deliveries GitHub would send.

Payloads start from GitHub's real examples (`webhook-examples.json` in the corpus) with the
pull request, repository and installation replaced by what the emulator renders.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from bot.demo import SAMPLES
from bot.forges.github import GitHubApp, GitHubForge
from bot.service.settings import Settings
from tests.emulator.client import EmulatorClient
from tests.emulator.server import EmulatorServer

REPO = "sample-org/taxonomy"
APP_ID = 4242
CONTRIBUTION = "compositional_skills/linguistics/antonyms"


def app_forge(emulator: EmulatorClient, app: Any, tmp_path: Path, repo: str) -> GitHubForge:
    """This app's PyGithub forge for `repo` on the emulator, as the bot builds it (one retry, 10 s)."""
    key = tmp_path / "app.pem"
    key.write_text(app.private_key_pem, encoding="utf-8")
    settings = Settings(app_id=str(app.app_id), private_key=key, webhook_secret="s",
                        github_api_url=emulator.url, api_retries=1, request_timeout=10)
    return GitHubApp(settings).forge(repo, app.installation_id)


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def contribution_files() -> dict[str, str]:
    return tree(SAMPLES / "contribution")


def clean_contribution(leaf: str) -> dict[str, str]:
    """A leaf that passes the structural checks: the sample base skill copied under another name."""
    base = tree(SAMPLES / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms")
    return {f"{leaf}/{name}": text for name, text in base.items()}


@dataclass
class World:
    server: EmulatorServer
    client: EmulatorClient
    installation: int
    examples: dict[str, list[dict[str, Any]]]

    @classmethod
    def start(cls, key_path: Path, corpus: Path) -> World:
        server = EmulatorServer(corpus / "github" / "rest-openapi.json").start()
        client = EmulatorClient(server.url)
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        client.register_app(APP_ID, public, slug="taxonomist", owner="sample-org")
        client.add_user("sam-contributor")
        client.create_repo(REPO, tree(SAMPLES / "taxonomy"))
        installation = client.install(APP_ID, "sample-org")
        examples = {e["name"]: e["examples"]
                    for e in json.loads((corpus / "github" / "webhook-examples.json").read_text(encoding="utf-8"))}
        return cls(server, client, installation, examples)

    def stop(self) -> None:
        self.server.stop()

    def open_pull(self, branch: str, files: dict[str, str]) -> int:
        pr = self.client.open_pull(REPO, branch, files=files, user="sam-contributor",
                                   body="Adds a skill.\n\nSigned-off-by: Sam <sam@example.org>")
        return int(pr["number"])

    def pull_request_event(self, number: int, action: str) -> bytes:
        """GitHub's example `pull_request` delivery for ACTION, made to describe PR NUMBER here."""
        rendered = self.client.pull(REPO, number)
        payload = copy.deepcopy(next(e for e in self.examples["pull_request"] if e.get("action") == action))
        payload.update({"number": number, "pull_request": rendered["pull_request"],
                        "repository": rendered["repository"], "installation": {"id": self.installation}})
        return json.dumps(payload).encode()

    def check_runs(self, head_sha: str) -> list[dict[str, Any]]:
        return [r for r in self.client.state(REPO)["check_runs"] if r["head_sha"] == head_sha]


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "the bot", logs: Any = None) -> Any:
    """Poll until `predicate()` is truthy; fail with the bot's log tail when it never is."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = logs()[-4000:] if logs else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tail}")


def settled(world: World, number: int, labels: set[str]) -> dict[str, Any] | None:
    """The repository state once PR NUMBER has a completed check run at its head, a comment and LABELS."""
    state = world.client.state(REPO)
    head = state["pulls"][str(number)]["head_sha"]
    runs = [r for r in state["check_runs"] if r["head_sha"] == head and r["name"] == "taxonomist/triage"]
    comments = [c for c in state["comments"] if c["issue_url"].endswith(f"/issues/{number}")]
    if runs and all(r["status"] == "completed" for r in runs) and comments \
            and labels <= set(state["labels"].get(str(number), [])) and head[:7] in comments[-1]["body"]:
        return {"head": head, "runs": runs, "comments": comments, "labels": set(state["labels"][str(number)])}
    return None
