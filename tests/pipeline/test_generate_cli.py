"""`taxonomist build generate` end to end, settings files, and clear errors for bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.models import tiny_model
from pipeline.settings import SettingsError, load_config, settings_from_mapping
from taxonomist.cli import app
from tests.pipeline.generate_helpers import small_taxonomy


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_generate_command_on_the_embedded_sample_taxonomy(tiny, tmp_path):
    config = tmp_path / "settings.yml"
    config.write_text(f"generate:\n  student: {tiny}\n  near_duplicate: 1.0\n  max_tokens: 16\n"
                      "  judge_max_tokens: 4\n  teacher:\n    concurrency: 1\n")
    args = ["build", "generate", "--out", str(tmp_path / "build"), "--cache", str(tmp_path / "cache"),
            "--teacher", str(tiny), "--config", str(config), "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["used"] == 3 and summary["regenerated"] == 3 and summary["teacher"]["requests"] > 0
    report = json.loads((tmp_path / "build/build.json").read_text())
    assert report["taxonomy"]["path"].endswith("samples/taxonomy")
    assert (report["taxonomy"]["source"], report["taxonomy"]["commit"]) == ("folder", None)  # not a git repository
    for name in ("phase1.jsonl", "phase2.jsonl", "heldout.jsonl", "recipe.json"):
        assert (tmp_path / "build/data" / name).is_file()
    again = CliRunner().invoke(app, args)
    assert json.loads(again.stdout.strip().splitlines()[-1])["teacher"]["requests"] == 0


def test_bad_input_exits_2_with_a_reason(tiny, tmp_path):
    taxonomy = small_taxonomy(tmp_path / "t", git=False)
    base = ["build", "generate", str(taxonomy), "--out", str(tmp_path / "b"), "--cache", str(tmp_path / "c"),
            "--teacher", str(tiny)]
    result = CliRunner().invoke(app, [*base, "--mirror", "no-equals-sign"])
    assert result.exit_code == 2 and "URL=PATH" in result.output
    result = CliRunner().invoke(app, [*base, "--ref", "main"])
    assert result.exit_code == 2 and "needs a git repository" in result.output
    result = CliRunner().invoke(app, [*base[:-1], str(tmp_path / "missing-model")])
    assert result.exit_code == 2 and "missing-model" in result.output
    (taxonomy / ".github").mkdir(exist_ok=True)
    (taxonomy / ".github/taxonomist.yml").write_text("checks:\n  no_such_setting: 1\n")
    result = CliRunner().invoke(app, base)
    assert result.exit_code == 2 and "no_such_setting" in result.output


def test_settings_file_errors_name_the_key(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("generate:\n  questions_per_leaf: many\n")
    with pytest.raises(SettingsError, match=r"s\.yml:2: generate\.questions_per_leaf: expected an integer"):
        load_config(path)
    path.write_text("generate:\n  teacher:\n    concurency: 2\n")
    with pytest.raises(SettingsError, match=r"s\.yml:3: generate\.teacher\.concurency: unknown setting"):
        load_config(path)
    path.write_text("other: 1\n")
    with pytest.raises(SettingsError, match=r"sections `generate:`, `train:`, `evaluate:` \(found other\)"):
        load_config(path)


def test_settings_from_a_mapping():
    settings = settings_from_mapping({"temperature": 1, "mirrors": {"https://x/y": "/srv/y"},
                                      "teacher": {"endpoint": "http://127.0.0.1:8000", "concurrency": 8}})
    assert settings.temperature == 1.0 and settings.mirrors == (("https://x/y", "/srv/y"),)
    assert settings.teacher.is_http and settings.teacher.concurrency == 8
    assert "teacher" not in settings.cache_fields() and "temperature" in settings.cache_fields()


def test_judge_settings_are_checked_and_change_the_cache_key(tmp_path):
    settings = settings_from_mapping({"judge": "text", "judge_yes_threshold": 0.7, "judge_reference": "none"})
    assert (settings.judge, settings.judge_yes_threshold, settings.judge_reference) == ("text", 0.7, "none")
    assert {"judge", "judge_yes_threshold", "judge_reference"} <= set(settings.cache_fields())
    for bad, message in (({"judge": "maybe"}, "judge: expected one of auto, text"),
                         ({"judge_yes_threshold": 1.5}, "judge_yes_threshold: expected a number from 0 to 1"),
                         ({"judge_reference": "all"}, "judge_reference: expected one of seeds, none")):
        with pytest.raises(SettingsError, match=message):
            settings_from_mapping(bad)
