"""The emulator without GitHub's description, and as a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO_ROOT
from tests.emulator.app import EmulatorWarning
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import APP_ID, GitHubApp
from tests.emulator.server import EmulatorServer
from tests.emulator_tests.helpers import REPO, Api


def test_without_the_description_the_emulator_serves_unchecked_and_says_so(tmp_path: Path) -> None:
    with pytest.warns(EmulatorWarning, match="NOT validating"), \
            EmulatorServer(openapi_path=tmp_path / "missing.json") as server:
        client = EmulatorClient(server.url)
        info = client.info()
        assert info["validating"] is False and "NOT validating" in info["validation"]
        client.create_repo(REPO, {"README.md": "x\n"})
        assert requests.get(f"{server.url}/repos/{REPO}", timeout=5).status_code == 401
        client.assert_no_violations()


def test_the_emulator_runs_as_its_own_process(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "tests.emulator", "--openapi", str(tmp_path / "none.json")],
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert EmulatorClient(url).info()["api_url"] == url
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_a_request_the_emulator_cannot_handle_is_a_500_and_a_violation(tmp_path: Path, app_key_pair) -> None:
    private, public = app_key_pair
    with pytest.warns(EmulatorWarning), EmulatorServer(openapi_path=tmp_path / "missing.json") as server:
        client = EmulatorClient(server.url)
        client.register_app(APP_ID, public, slug="taxonomist")
        app = GitHubApp(APP_ID, "taxonomist", private, public, client.install(APP_ID, "octo-org"), "octo-org")
        client.create_repo(REPO, {"README.md": "x\n"})
        answer = Api(client, app).call("POST", f"/repos/{REPO}/labels", json={"colour": "red"})
        assert answer.status_code == 500
        taken = client.take_violations()
        assert [v["where"] for v in taken] == ["emulator"] and "AttributeError" in taken[0]["problems"][0]
