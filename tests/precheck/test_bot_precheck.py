"""The precheck job against the GitHub emulator: check run, sticky section, label, cache, escaping, priority."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.comment.sticky import section_marker, sections_of, splice
from bot.precheck.run import CHECK_RUN_NAME, LABEL, NotTriagedYet, PrecheckCache, run_precheck
from bot.precheck.section import cell
from bot.triage.render import MARKER
from bot.triage.run import triage
from pipeline.evaluate.precheck import precheck
from tests.bot.world import app_forge, clean_contribution, contribution_files, tree
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.precheck.helpers import knowing

START = section_marker("precheck")

REPO = f"{ORG}/taxonomy"
LEAF = "compositional_skills/linguistics/opposites"
SKIP = ("content",)


class Counting:
    """A runner that answers with a scripted model and counts the files it was asked about."""

    def __init__(self, known: dict[str, str]) -> None:
        self.model = knowing(known)
        self.files = 0

    def __call__(self, leaves: Any, config: Any) -> dict[str, Any]:
        self.files += len(leaves)
        return precheck(leaves, config, model=self.model)


def seeds_of(files: dict[str, str]) -> dict[str, str]:
    data = yaml.safe_load(files[f"{LEAF}/qna.yaml"])
    return {e["question"].strip(): e["answer"].strip() for e in data["seed_examples"]}


@pytest.fixture
def open_pr(github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path,
            corpus: Path) -> Callable[[dict[str, str]], tuple[Any, int]]:
    from bot.demo import SAMPLES

    def make(files: dict[str, str]) -> tuple[Any, int]:
        github_emulator.create_repo(REPO, tree(SAMPLES / "taxonomy"))
        forge = app_forge(github_emulator, github_app, tmp_path, REPO)
        pull = github_emulator.open_pull(REPO, "opposites", files=files, user="carla")
        return forge, int(pull["number"])

    return make


def state(gh: EmulatorClient, number: int) -> tuple[list[dict], str, set[str]]:
    s = gh.state(REPO)
    runs = [r for r in s["check_runs"] if r["name"] == CHECK_RUN_NAME]
    body = next(c["body"] for c in s["comments"] if c["issue_url"].endswith(f"/issues/{number}"))
    return runs, body, set(s["labels"].get(str(number), []))


def test_precheck_on_push_publishes_run_section_and_label_and_caches(
        github_emulator: EmulatorClient, open_pr: Any, tmp_path: Path) -> None:
    files = clean_contribution(LEAF)
    forge, number = open_pr(files)
    with pytest.raises(NotTriagedYet):  # the queue retries it once triage has commented
        run_precheck(forge, number, runner=Counting({}), model="m", cache=PrecheckCache(tmp_path / "c"))
    triage(forge, number, skip=SKIP)
    runner, cache = Counting(seeds_of(files)), PrecheckCache(tmp_path / "c")
    outcome = run_precheck(forge, number, runner=runner, model="m", cache=cache)
    assert outcome is not None and outcome.computed == 1 and runner.files == 1
    runs, body, labels = state(github_emulator, number)
    assert [(r["status"], r["conclusion"]) for r in runs] == [("completed", "neutral")]
    assert LABEL in labels
    assert body.startswith(MARKER) and START in body and sections_of(body)["precheck"].endswith("</details>")
    assert "| Question | Contributor's answer | Model's answer | Grade |" in body and ": 1 known</summary>" in body

    triage(forge, number, skip=SKIP)  # a re-triage keeps the precheck's section
    assert START in state(github_emulator, number)[1]

    # a push that does not touch the leaf: no model call, same result
    github_emulator.push_to_pull(REPO, number, {"README.md": "notes\n"})
    triage(forge, number, skip=SKIP)
    again = run_precheck(forge, number, runner=runner, model="m", cache=cache)
    assert again is not None and again.computed == 0 and runner.files == 1

    # the model forgets: the verdict changes, the label goes, the run turns success
    forgetful = Counting({})
    run_precheck(forge, number, runner=forgetful, model="another", cache=cache)
    runs, body, labels = state(github_emulator, number)
    assert runs[-1]["conclusion"] == "success" and LABEL not in labels and ": 1 new</summary>" in body


def test_no_precheck_while_structural_checks_fail(github_emulator: EmulatorClient, open_pr: Any) -> None:
    forge, number = open_pr(contribution_files())  # the sample contribution: too few examples
    triage(forge, number, skip=SKIP)
    runner = Counting({})
    outcome = run_precheck(forge, number, runner=runner, model="m")
    assert outcome is not None and outcome.result is None and runner.files == 0
    runs, body, _ = state(github_emulator, number)
    assert runs == [] and START not in body


def test_user_and_model_text_is_escaped(github_emulator: EmulatorClient, open_pr: Any) -> None:
    files = clean_contribution(LEAF)
    hostile = "@octocat <img src=x onerror=alert(1)> | [link](http://evil) <!-- taxonomist:triage -->"
    data = yaml.safe_load(files[f"{LEAF}/qna.yaml"])
    data["seed_examples"][0]["answer"] = hostile
    files[f"{LEAF}/qna.yaml"] = yaml.safe_dump(data, sort_keys=False)
    forge, number = open_pr(files)
    triage(forge, number, skip=SKIP)
    question = data["seed_examples"][0]["question"].strip()
    run_precheck(forge, number, runner=Counting({question: "/approve @admin </details>"}), model="m")
    section = state(github_emulator, number)[1].split(START, 1)[1]
    for raw in ("@octocat", "@admin", "<img", "[link](http", "<!-- taxonomist:triage", "</details>\n|"):
        assert raw not in section
    assert section.count("</details>") == 1  # only the section's own
    row = next(line for line in section.splitlines() if "octocat" in line)
    assert row.count(" | ") == 3  # four cells: the answer's pipe is escaped


def test_a_cell_cuts_long_text_visibly() -> None:
    text = cell("word " * 200, limit=50)
    assert len(text) <= 50 and text.endswith("…")


def test_the_review_workflow_keeps_the_precheck_section() -> None:
    body = f"{MARKER}\n{START}\n### Model precheck\n\n<details>x</details>\n\n{section_marker('review')}\nold review\n"
    spliced = splice(body, "review", "new review")
    assert "new review" in spliced and "old review" not in spliced
    assert spliced.count(START) == 1 and sections_of(spliced)["precheck"] == "<details>x</details>"


def test_the_section_stays_within_the_comment_size_limit() -> None:
    from bot.precheck.section import render_section

    long = "x" * 5000
    files = [{"path": f"compositional_skills/a{i}/qna.yaml", "verdict": "new",
              "examples": [{"question": long, "answer": long, "model_answer": long,
                            "grade": {"basis": "facts", "score": 0.0, "label": "wrong", "matched": [],
                                      "missed": [long] * 20, "contradicted": [long]}}
                           for _ in range(30)]} for i in range(5)]
    section = render_section({"files": files, "model": "m"}, "a" * 40)
    assert len(section) < 60000 and "more questions, not shown" in section
