"""Issue 22.6: the build's credits come from GitHub's association of a merged commit with its pull request.

The attack: an author squash-merges their PR with the subject `Add limerick (#1)`. The build used to
read PR numbers from subjects, so PR #1 (someone else's) was announced and labelled for the work, and
the author's own PR was not. Now the build records the commits that changed its leaves, and
announcing asks GitHub which merged PR brought each one in (`commits/{sha}/pulls`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.announce.run import LABEL, announce
from bot.forges.github import GitHubApp
from bot.service.settings import Settings
from pipeline.leaves import leaf_commits
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.emulator_tests.helpers import Api

REPO = "octo-org/taxonomy"
HAIKU, LIMERICK = "compositional_skills/writing/haiku", "compositional_skills/writing/limerick"


def _merge(emulator: EmulatorClient, app: EmulatedApp, user: str, leaf: str, title: str) -> tuple[int, str]:
    pull = emulator.open_pull(REPO, f"{user}/{leaf.rsplit('/', 1)[1]}", user=user, title=title,
                              files={f"{leaf}/qna.yaml": f"version: 3\n# {user}\n"})
    merged = Api(emulator, app).call("PUT", f"/repos/{REPO}/pulls/{pull['number']}/merge",
                                     json={"merge_method": "squash", "commit_title": title})
    assert merged.status_code == 200, merged.text
    return int(pull["number"]), merged.json()["sha"]


def test_a_pr_number_written_in_a_squash_subject_credits_nobody(
        tmp_path: Path, github_emulator: EmulatorClient, github_app: EmulatedApp) -> None:
    github_emulator.create_repo(REPO, {"README.md": "# Taxonomy\n"})
    first, _ = _merge(github_emulator, github_app, "alice", HAIKU, "Add haiku")
    second, squash = _merge(github_emulator, github_app, "mallory", LIMERICK, f"Add limerick (#{first})")
    build = tmp_path / "build"
    build.mkdir()
    entry = {"leaf": LIMERICK, "status": "new", "verdict": "improved", "questions": []}
    report = {"taxonomy": {"commit": "c0ffee" + "0" * 34, "prs": [first], "commits": {squash: [LIMERICK]}},
              "leaves": {"used": [HAIKU, LIMERICK]}, "gate": {"passed": True}, "published": {"path": "p"},
              "postcheck": {"prs": {str(first): [entry]}}}  # filed under the number the subject names
    (build / "build.json").write_text(json.dumps(report))
    key = tmp_path / "app.pem"
    key.write_text(github_app.private_key_pem)
    settings = Settings(app_id=str(github_app.app_id), private_key=key, github_api_url=github_emulator.url,
                        api_retries=1, request_timeout=10)
    result = announce(GitHubApp(settings).forge(REPO, github_app.installation_id), build)
    assert result.announced == [second] and not result.failed
    labels = github_emulator.state(REPO)["labels"]
    assert labels.get(str(second)) == [LABEL] and LABEL not in labels.get(str(first), [])
    (comment,) = [c["body"] for c in github_emulator.state(REPO)["comments"]]
    assert "<details>" in comment and "limerick" in comment  # the postcheck follows the leaf, not the subject


def test_the_build_records_commits_not_numbers_from_subjects(tmp_path: Path) -> None:
    repo = tmp_path / "taxonomy"
    (repo / LIMERICK).mkdir(parents=True)

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=M", "-c", "user.email=m@example.org", *args], cwd=repo,
                              check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    (repo / LIMERICK / "qna.yaml").write_text("version: 3\n")
    git("add", "-A")
    git("commit", "-q", "-m", "Add limerick (#1)")
    sha = git("rev-parse", "HEAD")
    assert leaf_commits(repo, "HEAD", [LIMERICK]) == {sha: [LIMERICK]}
