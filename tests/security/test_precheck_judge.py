"""Issue 21: the precheck's configured judge is the operator's, and what it says is hostile text.

A judge URL taken from a repository's configuration could point inside the operator's network (a
metadata service, an internal API): only the bot's settings name it. Its API key is read from the
environment and never shown. Its rationale is model output: escaped and cut in the comment.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.demo import make_sample_repo
from bot.forges.localgit import LocalGitForge
from bot.forges.repoconfig import read_config
from bot.precheck.handler import JUDGE_KEY_ENV, JudgeSpec, ask, precheck_setup
from bot.precheck.run import run_precheck
from bot.precheck.section import render_section
from bot.service.settings import SettingsError, load_settings
from checks.config import ConfigError, PrecheckConfig, parse_config
from pipeline.evaluate.precheck import LeafSeeds, precheck
from pipeline.generate.teacher import Request, Teacher
from tests.precheck.helpers import knowing

INSIDE = "http://169.254.169.254/latest/meta-data/"
HOSTILE = "@octocat <img src=x onerror=alert(1)> </details> /approve [a](http://t.example/p.png) "


@pytest.mark.parametrize("key", ["judge", "judge_url", "judge_model", "judge_api_key", "model"])
def test_a_repository_cannot_name_the_judge_or_the_model(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"precheck:\n  correct_at: 0.6\n  {key}: {INSIDE}\n")
    message = str(caught.value)
    assert message.startswith(".github/taxonomist.yml:3:3: .precheck.") and "operator's setting" in message
    assert "TAXONOMIST_PRECHECK_" in message and "inside the operator's network" in message


def test_the_bot_never_asks_a_judge_a_repository_names(tmp_path: Path) -> None:
    repo = make_sample_repo(tmp_path / "taxonomy")
    config = repo / ".github" / "taxonomist.yml"
    config.write_text(f"{config.read_text(encoding='utf-8')}\nprecheck:\n  judge_url: {INSIDE}\n", encoding="utf-8")
    for args in (("add", "-A"), ("commit", "-q", "-m", "a judge of our own")):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    forge = LocalGitForge(repo=repo, base="main", head="known-facts", body="")
    asked: list[Any] = []
    outcome = run_precheck(forge, forge.number, runner=lambda leaves, config: asked.append(leaves) or {},
                           model="scripted")
    assert outcome is None and asked == []  # the configuration is refused (triage says why); nothing is asked
    with pytest.raises(ConfigError, match="judge_url` is the bot operator's setting"):
        read_config(forge, forge.pull_request(forge.number))


def test_the_judge_comes_from_the_operator_settings_and_its_key_is_never_shown(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN RSA PRIVATE KEY-----\n", encoding="utf-8")
    env = {"TAXONOMIST_APP_ID": "1", "TAXONOMIST_PRIVATE_KEY": str(pem), "TAXONOMIST_WEBHOOK_SECRET": "s",
           "TAXONOMIST_PRECHECK_JUDGE_URL": "https://judge.example/v1", "TAXONOMIST_PRECHECK_JUDGE_MODEL": "grader",
           JUDGE_KEY_ENV: "sk-very-secret"}
    settings = load_settings(env)
    setup = precheck_setup(settings.precheck_model, None, settings.precheck_judge_url, settings.precheck_judge_model)
    assert setup is not None and setup.judge == JudgeSpec("https://judge.example/v1", "grader")
    assert "sk-very-secret" not in repr(settings) + repr(setup) + setup.judge.identity()
    assert setup.judge.teacher_settings().api_key_env == JUDGE_KEY_ENV  # read from the environment when asked
    for bad in ("file:///etc/passwd", "169.254.169.254", "gopher://x"):
        with pytest.raises(SettingsError, match=r"TAXONOMIST_PRECHECK_JUDGE_URL: .* not an http"):
            load_settings({**env, "TAXONOMIST_PRECHECK_JUDGE_URL": bad})


def test_the_runner_hands_the_operator_judge_to_the_precheck(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("pipeline.evaluate.precheck.precheck", lambda leaves, config, **kw: seen.update(kw) or {})
    ask("default", JudgeSpec("https://judge.example", "grader"))([], PrecheckConfig())
    judge = seen["judge"]
    assert (judge.endpoint, judge.model, judge.api_key_env) == ("https://judge.example", "grader", JUDGE_KEY_ENV)


class HostileJudge:
    """A judge whose rationale pings, injects HTML, issues commands and runs to 100 KB."""

    identity = "openai:hostile"

    def complete(self, request: Request) -> str:
        return "Grade: correct\nRationale: " + (HOSTILE * 2000)[:100_000]


def test_a_judge_rationale_is_escaped_and_cut_in_the_comment() -> None:
    leaf = LeafSeeds("compositional_skills/poems/qna.yaml", "poems",
                     [{"question": "Write a haiku about rain.", "answer": "Soft rain on the roof", "context": ""}])
    result = precheck([leaf], PrecheckConfig(), model=knowing({"Write a haiku about rain.": "Rain taps the glass."}),
                      judge=Teacher(HostileJudge(), concurrency=1, retries=0))
    grade = result["files"][0]["examples"][0]["grade"]
    assert grade["basis"] == "judge" and grade["label"] == "correct" and len(grade["rationale"]) <= 500
    section = render_section(result, "a" * 40)
    outside = re.sub(r"(`+)(?:(?!\1).)+?\1", "", section)
    assert "@octocat" not in section and "<img" not in outside and "[a](http" not in section
    assert outside.count("</details>") == 1 and section.rstrip().endswith("</details>")
    assert not any(line.lstrip().startswith("/approve") for line in section.splitlines())
    assert len(section) < 5_000  # one cut cell, not 100 KB


def test_a_file_graded_by_another_judge_is_graded_again(tmp_path: Path) -> None:
    """The cache key holds the judge: changing the operator's judge never serves the old judge's grades."""
    from bot.precheck.run import PrecheckCache
    from bot.triage.run import triage

    repo = make_sample_repo(tmp_path / "taxonomy")
    forge = LocalGitForge(repo=repo, base="main", head="known-facts", body="")
    triage(forge, forge.number, skip=("content",))
    cache = PrecheckCache(tmp_path / "cache")
    calls: list[int] = []

    def runner(leaves: Any, config: PrecheckConfig) -> dict[str, Any]:
        calls.append(len(leaves))
        return precheck(leaves, config, model=knowing({}))

    for judge in ("", "", "https://judge-a.example grader", "https://judge-a.example grader",
                  "https://judge-b.example grader"):
        run_precheck(forge, forge.number, runner=runner, model="scripted", cache=cache, judge=judge)
    assert calls == [1, 1, 1]  # none, judge A and judge B each asked once; the repeats came from the cache
