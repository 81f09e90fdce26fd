"""`pipeline.evaluate.precheck`: verdicts from the model's answers, the JSON contract, and the command's exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from checks.config import ConfigError, PrecheckConfig, parse_config
from checks.sources import DiskSource
from pipeline.evaluate.precheck import KNOWN, NEW, PARTLY, latest_published, precheck, read_seeds, verdict
from pipeline.models import tiny_model
from taxonomist.cli import app
from tests.precheck.helpers import FACTS, INVENTED, KnowingBackend, knowing, write_leaf


def ex(similarity: float, judge: int | None = None) -> dict:
    return {"similarity": similarity, "judge": judge}


def test_verdict_thresholds_follow_the_config() -> None:
    config = PrecheckConfig(example_known_at=0.8, known_share=0.8, partly_known_share=0.2)
    assert verdict([ex(0.9)] * 4 + [ex(0.1)], config) == KNOWN
    assert verdict([ex(0.9)] * 2 + [ex(0.1)] * 3, config) == PARTLY
    assert verdict([ex(0.1)] * 5, config) == NEW
    assert verdict([], config) == NEW
    # judge metric: 5 -> 1.0, 1 -> 0.0; an unjudged example never counts as known
    judged = PrecheckConfig(metric="judge", example_known_at=0.75)
    assert verdict([ex(0.0, 5)] * 5, judged) == KNOWN
    assert verdict([ex(1.0, None)] * 5, judged) == NEW


def test_config_section_is_validated() -> None:
    config = parse_config("precheck:\n  example_known_at: 0.7\n  metric: mean\n")
    assert config.precheck.example_known_at == 0.7 and config.precheck.metric == "mean"
    with pytest.raises(ConfigError, match=r"precheck.*unknown key `known_at`"):
        parse_config("precheck:\n  known_at: 0.7\n")
    with pytest.raises(ConfigError, match=":2:"):
        parse_config("precheck:\n  known_share: 3\n")


def test_known_and_new_files_get_their_verdicts_and_the_json_contract(tmp_path: Path) -> None:
    known = write_leaf(tmp_path, "facts/sky", FACTS)
    new = write_leaf(tmp_path, "invented/zorble", INVENTED)
    model = knowing(dict(FACTS))
    leaves = read_seeds([DiskSource(str(known)), DiskSource(str(new))], parse_config(""))
    result = precheck(leaves, PrecheckConfig(), model=model)
    assert result["model"] == "scripted:knowing"
    by_path = {f["path"]: f for f in result["files"]}
    sky = by_path["compositional_skills/facts/sky/qna.yaml"]
    assert sky["verdict"] == KNOWN and sky["source"] == str(known)
    assert set(sky["examples"][0]) == {"question", "answer", "model_answer", "similarity", "judge"}
    assert sky["examples"][0]["model_answer"] == FACTS[0][1] and sky["examples"][0]["similarity"] > 0.99
    assert sky["examples"][0]["judge"] == 4  # the model judges itself unless told otherwise
    assert by_path["compositional_skills/invented/zorble/qna.yaml"]["verdict"] == NEW


def test_knowledge_questions_come_after_their_context(tmp_path: Path) -> None:
    from checks.samples import TAXONOMY_DIR

    qna = TAXONOMY_DIR / "knowledge" / "science" / "astronomy" / "solar_system" / "qna.yaml"
    backend = KnowingBackend({})
    from pipeline.generate.teacher import Teacher

    leaves = read_seeds([DiskSource(str(qna))], parse_config(""))
    precheck(leaves, PrecheckConfig(), model=Teacher(backend, concurrency=1), judge="none")
    first = leaves[0].seeds[0]
    assert backend.questions[0] == f"{first['context']}\n\n{first['question']}"


def test_judge_none_scores_by_similarity_only(tmp_path: Path) -> None:
    leaves = read_seeds([DiskSource(str(write_leaf(tmp_path, "facts/sky", FACTS)))], parse_config(""))
    result = precheck(leaves, PrecheckConfig(), model=knowing(dict(FACTS)), judge="none")
    assert all(e["judge"] is None for e in result["files"][0]["examples"])


def test_command_with_a_tiny_model_prints_json_and_exits_0(tmp_path: Path) -> None:
    leaf = write_leaf(tmp_path / "tax", "invented/zorble", INVENTED)
    tiny = tiny_model(tmp_path / "tiny")
    result = CliRunner().invoke(app, ["precheck", str(leaf), "--model", str(tiny), "--judge", "none",
                                      "--format", "json", "--max-new-tokens", "4"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"].startswith("local:tiny:")
    assert [f["verdict"] for f in data["files"]] == [NEW]  # gibberish is not the contributor's answer
    assert len(data["files"][0]["examples"]) == 5


def test_command_exits_2_with_the_reason_when_it_cannot_run(tmp_path: Path) -> None:
    broken = tmp_path / "compositional_skills" / "x" / "qna.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("version: 3\nseed_examples: [\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["precheck", str(broken), "--model", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and f"{broken}:" in result.stderr and "Traceback" not in result.output
    ok = write_leaf(tmp_path, "facts/sky", FACTS)
    result = CliRunner().invoke(app, ["precheck", str(ok), "--model", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "nowhere" in result.stderr


def test_default_model_is_the_newest_published_build(tmp_path: Path) -> None:
    import os
    import time

    for name, published in (("old", True), ("newer", True), ("rejected", False)):
        build = tmp_path / name
        model = build / "published" / "model"
        model.mkdir(parents=True)
        (model / "config.json").write_text("{}")
        report = {"published": {"path": str(build / "published")}} if published else {}
        (build / "build.json").write_text(json.dumps(report))
        time.sleep(0.01)
    os.utime(tmp_path / "old" / "build.json", (1, 1))
    assert latest_published(tmp_path) == tmp_path / "newer" / "published" / "model"
    assert latest_published(tmp_path / "empty") is None


def test_leading_sentences_keep_the_answer_and_drop_the_ramble() -> None:
    from pipeline.evaluate.precheck import leading

    rambling = "The opposite of hot is cold. This is a fundamental concept in science. In a"
    assert leading([rambling], ["The opposite of hot is cold."]) == ["The opposite of hot is cold."]
    assert leading([rambling], ["Cold. It is cold."]) == ["The opposite of hot is cold. This is a fundamental "
                                                          "concept in science."]
    assert leading(["no sentence end"], ["One."]) == ["no sentence end"]


@pytest.mark.slow
def test_demo_shows_the_precheck_section_with_the_embedded_model() -> None:
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bot.demo", "--skip", "content"], capture_output=True, text=True,
                          check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert "taxonomist/triage: failure" in done.stdout  # the sample contribution, with its problems
    assert "== check run taxonomist/precheck:" in done.stdout and "<!-- taxonomist:section:precheck -->" in done.stdout
    assert "| What is the capital of France? | The capital of France is Paris. |" in done.stdout


def test_an_in_process_judge_rates_by_its_next_token_probabilities(tmp_path: Path) -> None:
    from pipeline.generate.teacher import Teacher

    class Scoring(KnowingBackend):
        def option_probabilities(self, choice: object) -> list[float]:
            return [0.0, 0.0, 0.5, 0.5, 0.0]  # expected score 3.5, no text generated

        def complete(self, request: object) -> str:
            assert "Score: N" not in request.messages[-1]["content"]  # type: ignore[attr-defined]
            return super().complete(request)  # type: ignore[arg-type]

    leaves = read_seeds([DiskSource(str(write_leaf(tmp_path, "facts/sky", FACTS)))], parse_config(""))
    result = precheck(leaves, PrecheckConfig(metric="judge", example_known_at=0.6),
                      model=Teacher(Scoring(dict(FACTS)), concurrency=1))
    assert [e["judge"] for e in result["files"][0]["examples"]] == [3.5] * 5
    assert result["files"][0]["verdict"] == KNOWN  # (3.5 - 1) / 4 = 0.625
