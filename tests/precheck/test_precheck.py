"""`pipeline.evaluate.precheck`: verdicts from the model's answers, the JSON contract, and the command's exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from checks.config import ConfigError, PrecheckConfig, parse_config
from checks.sources import DiskSource
from pipeline.evaluate.precheck import (
    KNOWN,
    NEW,
    NOT_ASKED,
    PARTLY_KNOWN,
    latest_published,
    precheck,
    read_seeds,
    verdict,
)
from pipeline.models import tiny_model
from taxonomist.cli import app
from tests.precheck.helpers import FACTS, INVENTED, KnowingBackend, knowing, write_leaf


def test_verdict_follows_the_labelled_sets_rule() -> None:
    config = PrecheckConfig()  # known: every answer correct; new: none correct and at most one partly
    assert verdict(["correct"] * 5, config) == KNOWN
    assert verdict(["correct"] * 4 + ["partly"], config) == PARTLY_KNOWN
    assert verdict(["partly", "partly", "wrong", "wrong", "wrong"], config) == PARTLY_KNOWN
    assert verdict(["partly"] + ["wrong"] * 4, config) == NEW
    assert verdict([], config) == NEW
    assert verdict(["correct"] * 4 + ["wrong"], PrecheckConfig(known_share=0.8)) == KNOWN


def test_config_section_is_validated() -> None:
    config = parse_config("precheck:\n  correct_at: 0.7\n  max_questions: 8\n")
    assert config.precheck.correct_at == 0.7 and config.precheck.max_questions == 8
    retired = parse_config("precheck:\n  metric: similarity\n  example_known_at: 0.8\n")  # last release's keys
    assert retired.precheck == parse_config("").precheck  # still valid, and ignored
    with pytest.raises(ConfigError, match=r"precheck.*unknown key `known_at`"):
        parse_config("precheck:\n  known_at: 0.7\n")
    with pytest.raises(ConfigError, match=":2:"):
        parse_config("precheck:\n  known_share: 3\n")


def test_known_and_new_files_get_their_verdicts_and_the_json_contract(tmp_path: Path) -> None:
    known = write_leaf(tmp_path, "facts/sky", FACTS)
    new = write_leaf(tmp_path, "invented/zorble", INVENTED)
    model = knowing(dict(FACTS))
    leaves, refused = read_seeds([DiskSource(str(known)), DiskSource(str(new))], parse_config(""))
    result = precheck(leaves, PrecheckConfig(), model=model)
    assert result["model"] == "scripted:knowing" and result["judge"] is None and refused == []
    assert (result["asked"], result["seeds"], result["max_questions"]) == (10, 10, 20)
    by_path = {f["path"]: f for f in result["files"]}
    sky = by_path["compositional_skills/facts/sky/qna.yaml"]
    assert sky["verdict"] == KNOWN and sky["source"] == str(known)
    assert set(sky["examples"][0]) == {"question", "answer", "model_answer", "grade"}
    assert sky["examples"][0]["model_answer"] == FACTS[0][1]
    assert sky["examples"][0]["grade"]["basis"] == "facts" and sky["examples"][0]["grade"]["label"] == "correct"
    zorble = by_path["compositional_skills/invented/zorble/qna.yaml"]
    assert zorble["verdict"] == NEW and "quibnet" not in zorble["examples"][0]["grade"]["missed"]  # the question's


def test_knowledge_is_asked_closed_book_and_open_book_is_reported_beside(tmp_path: Path) -> None:
    from checks.samples import TAXONOMY_DIR

    qna = TAXONOMY_DIR / "knowledge" / "science" / "astronomy" / "solar_system" / "qna.yaml"
    leaves, _ = read_seeds([DiskSource(str(qna))], parse_config(""))
    first = leaves[0].seeds[0]
    backend = KnowingBackend({f"{first['context']}\n\n{first['question']}": first["answer"]})
    from pipeline.generate.teacher import Teacher

    result = precheck(leaves, PrecheckConfig(), model=Teacher(backend, concurrency=1), judge="none")
    assert backend.questions[0] == first["question"]  # closed book: no document
    assert f"{first['context']}\n\n{first['question']}" in backend.questions  # then open book
    example = next(e for e in result["files"][0]["examples"] if e["question"] == first["question"])
    assert example["model_answer"] != first["answer"] and example["open_book"]["model_answer"] == first["answer"]
    assert example["open_book"]["grade"]["label"] == "correct" and example["grade"]["label"] == "wrong"


def test_a_configured_judge_grades_text_tasks_with_its_rationale(tmp_path: Path) -> None:
    from pipeline.evaluate.precheck import parse_grade
    from pipeline.generate.teacher import Request, Teacher

    class Judge(KnowingBackend):
        def complete(self, request: Request) -> str:
            assert "Grade: correct, partly or wrong" in request.messages[-1]["content"]
            return "Grade: partly\nRationale: right tone, the date is lost."

    poem = [(f"Write a haiku about rain number {i}.", "Soft rain on the roof, whispers to the town.")
            for i in range(5)]
    leaves, _ = read_seeds([DiskSource(str(write_leaf(tmp_path, "poems/rain", poem)))], parse_config(""))
    result = precheck(leaves, PrecheckConfig(), model=knowing({}), judge=Teacher(Judge({}), concurrency=1))
    grade = result["files"][0]["examples"][0]["grade"]
    assert (grade["basis"], grade["label"], grade["rationale"]) == ("judge", "partly", "right tone, the date is lost.")
    assert result["files"][0]["verdict"] == PARTLY_KNOWN
    assert parse_grade("**Grade:** wrong") == ("wrong", "**Grade:** wrong") and parse_grade(None)[0] is None


def test_the_question_cap_samples_deterministically_and_says_how_many(tmp_path: Path) -> None:
    from pipeline.evaluate.precheck import sample

    paths = [write_leaf(tmp_path, f"facts/sky{n}", FACTS) for n in range(3)]
    leaves, _ = read_seeds([DiskSource(str(p)) for p in paths], parse_config(""))
    model = knowing(dict(FACTS))
    result = precheck(leaves, PrecheckConfig(max_questions=7), model=model)
    assert result["asked"] == 7 and result["seeds"] == 15
    assert [f["asked"] for f in result["files"]] == [3, 2, 2]  # round-robin: every file gets its share
    assert sample(leaves, 7) == sample(leaves, 7) and len(model.backend.questions) == 7
    assert [f["verdict"] for f in precheck(leaves, PrecheckConfig(max_questions=2), model=model)["files"]] == [
        KNOWN, KNOWN, NOT_ASKED]


def test_the_time_budget_leaves_the_files_it_did_not_reach_not_asked(tmp_path: Path) -> None:
    paths = [write_leaf(tmp_path, f"facts/sky{n}", FACTS) for n in range(3)]
    leaves, _ = read_seeds([DiskSource(str(p)) for p in paths], parse_config(""))
    ticks = iter(range(0, 1000, 50))
    lines: list[str] = []
    result = precheck(leaves, PrecheckConfig(time_budget_s=200), model=knowing(dict(FACTS)),
                      clock=lambda: float(next(ticks)), progress=lines.append)
    assert [f["verdict"] for f in result["files"]] == [KNOWN, KNOWN, NOT_ASKED]
    assert "time budget (200 s)" in result["files"][2]["why"] and len(lines) == 2 and "1/3 files" in lines[0]


def test_command_with_a_tiny_model_prints_json_and_exits_0(tmp_path: Path) -> None:
    leaf = write_leaf(tmp_path / "tax", "invented/zorble", INVENTED)
    tiny = tiny_model(tmp_path / "tiny")
    result = CliRunner().invoke(app, ["precheck", str(leaf), "--model", str(tiny), "--judge", "none",
                                      "--format", "json", "--max-new-tokens", "4"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"].startswith("local:tiny:")
    assert [f["verdict"] for f in data["files"]] == [NEW]  # gibberish is not the contributor's answer
    assert len(data["files"][0]["examples"]) == 5 and "1/1 files" in result.stderr  # progress on stderr


def test_one_bad_file_is_reported_and_the_others_run(tmp_path: Path) -> None:
    broken = tmp_path / "compositional_skills" / "x" / "qna.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("version: 3\nseed_examples: [\n", encoding="utf-8")
    leaf = write_leaf(tmp_path, "invented/zorble", INVENTED)
    tiny = tiny_model(tmp_path / "tiny")
    result = CliRunner().invoke(app, ["precheck", str(broken), str(leaf), "--model", str(tiny), "--format", "json",
                                      "--max-new-tokens", "2"])
    assert result.exit_code == 1 and f"{broken}:" in result.stderr and "Traceback" not in result.output
    data = json.loads(result.stdout)
    assert [f["source"] for f in data["files"]] == [str(leaf)] and data["errors"][0]["source"] == str(broken)


def test_schema_version_own_reads_v1_and_v2_files(tmp_path: Path) -> None:
    v2 = tmp_path / "compositional_skills" / "old" / "qna.yaml"
    v2.parent.mkdir(parents=True)
    v2.write_text("version: 2\ncreated_by: someone\ntask_description: old\nseed_examples:\n" + "".join(
        f"  - question: What is fact number {i}?\n    answer: Fact number {i} is that the sky over town {i} is "
        "blue.\n" for i in range(5)), encoding="utf-8")
    assert read_seeds([DiskSource(str(v2))], parse_config(""))[1]  # refused under the latest schema
    refused = CliRunner().invoke(app, ["precheck", str(v2), "--model", "nowhere"])
    assert refused.exit_code == 2 and "--schema-version own" in refused.stderr
    leaves, refused = read_seeds([DiskSource(str(v2))], parse_config(""), schema_version="own")
    assert refused == [] and len(leaves[0].seeds) == 5


def test_command_exits_2_with_the_reason_when_it_cannot_run(tmp_path: Path) -> None:
    broken = tmp_path / "compositional_skills" / "x" / "qna.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("version: 3\nseed_examples: [\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["precheck", str(broken), "--model", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and f"{broken}:" in result.stderr and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["precheck", str(broken), "--schema-version", "nine"])
    assert result.exit_code == 2 and "--schema-version" in result.stderr
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
    two = "The opposite of hot is cold. This is a fundamental concept in science."
    assert leading([rambling], ["The opposite of hot is cold."]) == [two]  # one sentence more than the reference
    assert leading([rambling + ". And more. Even more."], ["Cold. It is cold."]) == [f"{two} In a."]
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
