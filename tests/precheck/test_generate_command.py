"""`/generate` by a triager against the GitHub emulator: the preview, its check run, and the build reusing it."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.generate.run import CHECK_RUN_NAME, READY_LABEL
from bot.service.handlers import load_handlers
from bot.service.router import HandlerContext, Job
from pipeline.generate.preview import preview
from pipeline.generate.stage import generate
from pipeline.models import tiny_model
from tests.bot.world import app_forge, clean_contribution, tree
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.pipeline.generate_helpers import ScriptedBackend, fast_settings, scripted_teacher

REPO = f"{ORG}/taxonomy"
LEAF = "compositional_skills/linguistics/opposites"


class Setup:
    """A `GenerateSetup` stand-in: the build's preview with a scripted teacher and a cache folder."""

    def __init__(self, cache: Path, student: Path) -> None:
        self.backend = ScriptedBackend()
        self.cache, self.settings = cache, fast_settings(student)

    def previewer(self) -> Any:
        def run(sources: Sequence[Any]) -> dict[str, Any]:
            return preview(sources, self.settings, self.cache, teacher=scripted_teacher(self.backend))

        return run


def comment_job(number: int, user: str, body: str = "Thanks!\n/generate\n") -> Job:
    payload = {"action": "created", "issue": {"number": number, "pull_request": {}},
               "comment": {"id": int(time.time_ns() % 10**9), "body": body, "user": {"login": user}},
               "repository": {"full_name": REPO}}
    (job,) = [j for j in load_handlers().jobs_for("issue_comment", f"d{time.time_ns()}", payload, time.time())
              if j.route == "generate"]
    return job


@pytest.fixture
def pr(github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path, corpus: Path) -> tuple[Any, int]:
    from bot.demo import SAMPLES

    base = tree(SAMPLES / "taxonomy")
    base[".github/taxonomist.yml"] = "review:\n  triagers: [tina]\n"
    github_emulator.create_repo(REPO, base)
    forge = app_forge(github_emulator, github_app, tmp_path, REPO)
    pull = github_emulator.open_pull(REPO, "opposites", files=clean_contribution(LEAF), user="carla")
    return forge, int(pull["number"])


def replies(gh: EmulatorClient, number: int) -> list[str]:
    return [c["body"] for c in gh.state(REPO)["comments"] if c["issue_url"].endswith(f"/issues/{number}")]


def test_generate_by_a_triager_previews_and_the_build_reuses_the_samples(
        github_emulator: EmulatorClient, pr: tuple[Any, int], tmp_path: Path) -> None:
    forge, number = pr
    setup = Setup(tmp_path / "cache", tiny_model(tmp_path / "tiny"))
    ctx = HandlerContext(forge=forge, generate=setup)
    outcome = load_handlers().dispatch(comment_job(number, "tina"), ctx)
    assert outcome.preview is not None and setup.backend.calls
    (leaf,) = outcome.preview["leaves"]
    assert leaf["leaf"] == LEAF and leaf["kept"] and not leaf["cached"]
    (run,) = [r for r in github_emulator.state(REPO)["check_runs"] if r["name"] == CHECK_RUN_NAME]
    assert run["conclusion"] == "success" and "Kept:" in run["output"]["summary"]
    assert READY_LABEL in github_emulator.state(REPO)["labels"][str(number)]
    (reply,) = replies(github_emulator, number)
    assert "samples kept" in reply

    calls = len(setup.backend.calls)  # again: from the cache, no teacher call, the same reply edited
    again = load_handlers().dispatch(comment_job(number, "tina"), ctx)
    assert again.preview["leaves"][0]["cached"] and len(setup.backend.calls) == calls
    assert len(replies(github_emulator, number)) == 1

    # once merged, the weekly build finds the leaf in its cache under the same key: no teacher call
    taxonomy = tmp_path / "taxonomy"
    from bot.demo import SAMPLES

    for path, text in {**tree(SAMPLES / "taxonomy"), **clean_contribution(LEAF)}.items():
        (taxonomy / path).parent.mkdir(parents=True, exist_ok=True)
        (taxonomy / path).write_text(text, encoding="utf-8")
    build_backend = ScriptedBackend()
    sections = generate(taxonomy, tmp_path / "build", tmp_path / "cache", setup.settings,
                        teacher=scripted_teacher(build_backend), progress=False)
    assert LEAF in sections["leaves"]["reused"]
    assert not any(LEAF.rsplit("/", 1)[1] in text for _, text in build_backend.calls)
    heldout = [json.loads(line) for line in (tmp_path / "build" / "data" / "heldout.jsonl").read_text().splitlines()]
    assert any(h["leaf"] == LEAF for h in heldout)


def test_generate_by_someone_else_is_refused_with_who_may(
        github_emulator: EmulatorClient, pr: tuple[Any, int], tmp_path: Path) -> None:
    forge, number = pr
    setup = Setup(tmp_path / "cache", tiny_model(tmp_path / "tiny"))
    outcome = load_handlers().dispatch(comment_job(number, "mallory"), HandlerContext(forge=forge, generate=setup))
    assert outcome.preview is None and not setup.backend.calls
    (reply,) = replies(github_emulator, number)
    assert "Only triagers, maintainers and approvers" in reply and "`tina`" in reply and "@tina" not in reply
    assert not [r for r in github_emulator.state(REPO)["check_runs"] if r["name"] == CHECK_RUN_NAME]


def test_generate_under_an_invalid_configuration_says_so_once_and_is_not_retried(
        github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path, corpus: Path) -> None:
    from bot.demo import SAMPLES

    base = tree(SAMPLES / "taxonomy")
    base[".github/taxonomist.yml"] = "review:\n  triagers: tina\n"  # a string where a list belongs
    github_emulator.create_repo(REPO, base)
    forge = app_forge(github_emulator, github_app, tmp_path, REPO)
    number = int(github_emulator.open_pull(REPO, "opposites", files=clean_contribution(LEAF), user="carla")["number"])
    setup = Setup(tmp_path / "cache", tiny_model(tmp_path / "tiny"))
    outcome = load_handlers().dispatch(comment_job(number, "tina"), HandlerContext(forge=forge, generate=setup))
    assert outcome.preview is None and not setup.backend.calls
    (reply,) = replies(github_emulator, number)
    assert "waits for a valid `.github/taxonomist.yml`" in reply


def test_generate_is_not_an_unknown_command_for_the_review_workflow() -> None:
    from bot.review.commands import Name, parse

    parsed = parse("/generate")
    assert [c.name for c in parsed.commands] == [Name.GENERATE] and not parsed.problems
