"""A world for the dashboard and lifecycle tests: the GitHub emulator, the real `Service`, its store.

Deliveries are made from GitHub's example payloads (`WebhookFactory`), recorded in the store as
the web process records them, and their jobs run through `Service.run` in the test's thread (as a
worker would run them, in delivery order), so the store sees exactly what the bot would write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dashboard import record
from bot.demo import SAMPLES
from bot.service.settings import Settings
from bot.service.wiring import Service
from bot.triage.render import CHECK_RUN_NAME
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.emulator.webhooks import Webhook, WebhookFactory

REPO = f"{ORG}/taxonomy"
BOT = "taxonomist[bot]"


def files_under(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def clean_leaf(leaf: str, note: str = "") -> dict[str, str]:
    """A leaf that passes the structural checks: the sample skill under another name."""
    files = files_under(SAMPLES / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms")
    files["attribution.txt"] += note
    return {f"{leaf}/{name}": text for name, text in files.items()}


def next_second() -> None:
    time.sleep(1.05 - (time.time() % 1.0))


@dataclass
class World:
    gh: EmulatorClient
    hooks: WebhookFactory
    service: Service

    @classmethod
    def make(cls, gh: EmulatorClient, app: EmulatedApp, tmp: Path, corpus: Path, config: str,
             skip: tuple[str, ...] = ("content",), base_files: dict[str, str] | None = None) -> World:
        base = files_under(SAMPLES / "taxonomy") if base_files is None else base_files
        base.pop(".github/pull_request_template.md", None)
        gh.create_repo(REPO, {**base, ".github/taxonomist.yml": config})
        key = tmp / "app.pem"
        key.write_text(app.private_key_pem, encoding="utf-8")
        settings = Settings(app_id=str(app.app_id), private_key=key, webhook_secret="s", github_api_url=gh.url,
                            api_retries=1, request_timeout=10, data_dir=tmp / "data", skip_checks=skip)
        return cls(gh, WebhookFactory(gh, app.installation_id, corpus), Service(settings))

    @property
    def store(self) -> Any:
        return self.service.store

    def deliver(self, webhook: Webhook) -> None:
        """What `POST /webhook` records, then every job of the delivery through the service."""
        jobs = self.service.router.jobs_for(webhook.event, webhook.delivery, webhook.payload, time.time())
        record.on_delivery(self.store, webhook.event, webhook.delivery, webhook.payload, jobs, time.time())
        for job in jobs:
            self.service.run(job)

    def open(self, branch: str, files: dict[str, str], user: str, title: str | None = None) -> int:
        """Open a PR, deliver `opened`, then the triage check run's `completed` (the review workflow runs)."""
        pull = self.gh.open_pull(REPO, branch, files=files, user=user, title=title or branch,
                                 body="Adds a skill.\n\nSigned-off-by: Someone <someone@example.org>")
        number = int(pull["number"])
        self.triaged(number, self.hooks.pull_request(REPO, number, "opened"))
        return number

    def triaged(self, number: int, webhook: Webhook) -> None:
        self.deliver(webhook)
        head = self.state()["pulls"][str(number)]["head_sha"]
        runs = [r for r in self.state()["check_runs"] if r["head_sha"] == head and r["name"] == CHECK_RUN_NAME]
        if runs:
            self.deliver(self.hooks.check_run(REPO, max(runs, key=lambda r: r["id"]), sender=BOT, action="completed"))
        next_second()  # GitHub's times are to the second: what follows is dated after the head's check run

    def say(self, user: str, number: int, body: str) -> None:
        comment = self.gh.comment_as(user, REPO, number, body)
        self.deliver(self.hooks.issue_comment(REPO, number, comment))

    def state(self) -> dict[str, Any]:
        return self.gh.state(REPO)

    def labels(self, number: int) -> set[str]:
        return set(self.state()["labels"].get(str(number), []))

    def bot_comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.state()["comments"]
                if c["user"]["login"].endswith("[bot]") and c["issue_url"].endswith(f"/issues/{number}")]
