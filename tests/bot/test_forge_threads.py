"""Worker threads share the app, never a connection: each thread's calls reach the address it meant.

PyGithub's connection keeps a request's verb and URL between sending it and reading the answer; two
threads on one client sent a check run's PATCH to another pull request's labels (the distributed test,
once). For a bot that merges, each thread gets clients of its own."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.forges.github import GitHubApp
from bot.service.settings import Settings
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp

REPO = f"{ORG}/taxonomy"
THREADS, WRITES = 4, 6


def _app(gh: EmulatorClient, app: EmulatedApp, tmp_path: Path) -> GitHubApp:
    key = tmp_path / "app.pem"
    key.write_text(app.private_key_pem, encoding="utf-8")
    return GitHubApp(Settings(app_id=str(app.app_id), private_key=key, webhook_secret="s", github_api_url=gh.url,
                              api_retries=1, request_timeout=10))


def test_each_thread_has_clients_of_its_own(github_emulator: EmulatorClient, github_app: EmulatedApp,
                                            tmp_path: Path) -> None:
    app = _app(github_emulator, github_app, tmp_path)
    mine = app.installation_requester(github_app.installation_id)
    assert app.installation_requester(github_app.installation_id) is mine  # one per thread, kept
    theirs: list[object] = []
    worker = threading.Thread(target=lambda: theirs.append(app.installation_requester(github_app.installation_id)))
    worker.start()
    worker.join()
    assert theirs and theirs[0] is not mine


def test_threads_writing_at_once_each_reach_their_own_pull_request(github_emulator: EmulatorClient,
                                                                   github_app: EmulatedApp, tmp_path: Path) -> None:
    github_emulator.create_repo(REPO, {"README.md": "taxonomy\n"})
    numbers = [int(github_emulator.open_pull(REPO, f"topic-{n}", files={f"{n}.txt": "a\n"}, user="carla")["number"])
               for n in range(THREADS)]
    app = _app(github_emulator, github_app, tmp_path)
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            forge = app.forge(REPO, github_app.installation_id)
            start.wait()
            for i in range(WRITES):
                forge.add_labels(number, [f"pr-{number}-{i}"])
                forge.create_comment(number, f"note {i} for #{number}")
        except BaseException as error:  # reported below, with the thread's pull request
            failures.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in numbers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    forge = app.forge(REPO, github_app.installation_id)
    for number in numbers:
        assert forge.labels(number) == {f"pr-{number}-{i}" for i in range(WRITES)}
        assert [c.body for c in forge.issue_comments(number)] == [f"note {i} for #{number}" for i in range(WRITES)]
    github_emulator.assert_no_violations()
