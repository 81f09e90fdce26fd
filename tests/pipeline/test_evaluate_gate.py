"""The gate's rules on plain numbers, the judge's parsing, and a real evaluation of a tiny build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.evaluate.gate import GENERAL, REPLAY, GateSettings, bootstrap_interval, decide
from pipeline.evaluate.stage import GENERAL_PROBES, evaluate, leaf_status, parse_score, probe_items
from pipeline.generate.teacher import Request, Teacher
from pipeline.models import tiny_model
from pipeline.publish.report import update_report


def row(leaf: str, status: str, before: float, after: float, judge: tuple[float | None, float | None] = (None, None),
        n: int = 1) -> dict:
    """A row of `n` questions whose fact recall (the default metric) and similarity are the same numbers."""
    return {"leaf": leaf, "status": status, "n": n,
            "before": {"facts": before, "similarity": before, "judge": judge[0]},
            "after": {"facts": after, "similarity": after, "judge": judge[1]}}


def test_new_and_changed_leaves_are_decided_as_a_group_and_others_may_fall_only_within_the_margin() -> None:
    rows = [row("a", "new", 0.4, 0.5), row("b", "changed", 0.5, 0.5), row("c", "unchanged", 0.6, 0.56),
            row("d", "unchanged", 0.6, 0.5), row(REPLAY, "replay", 0.7, 0.6, n=16)]
    result = decide(rows, GateSettings(max_regression=0.05, max_replay_regression=0.05))
    assert [r["verdict"] for r in result["rows"]] == ["closer", "not closer", "pass", "fail", "fail"]
    assert "verdict" not in rows[0] and "delta" not in rows[0]  # pure: the input rows are left as they were
    assert not result["passed"]
    assert len(result["reasons"]) == 3 and result["reasons"][0].startswith("new and changed leaves (2, 1 closer)")
    assert result["improvement"]["low"] == 0.0 and result["improvement"]["high"] == pytest.approx(0.1)
    assert result["counts"] == {"closer": 1, "not closer": 1, "pass": 1, "fail": 2, "unscored": 0}


def test_the_gate_passes_when_every_rule_holds_and_can_decide_on_the_judge() -> None:
    rows = [row("a", "new", 0.4, 0.3, judge=(2.0, 4.0)), row("c", "unchanged", 0.6, 0.7, judge=(3.0, 3.0))]
    assert decide(rows, GateSettings(metric="judge"))["passed"]
    assert not decide(rows, GateSettings(metric="similarity"))["passed"]


def test_a_build_that_learns_its_leaves_but_forgets_what_the_base_model_knew_is_rejected() -> None:
    rows = [row("a", "new", 0.4, 0.9), row("b", "new", 0.5, 0.8), row(REPLAY, "replay", 0.6, 0.9, n=16),
            row(GENERAL, "general", 0.7, 0.3, n=12)]
    result = decide(rows, GateSettings())
    assert not result["passed"]
    assert result["reasons"] == ["(general) (general): facts 0.700 -> 0.300, may not fall by more than one "
                                 "answer's worth (0.0833 of 12 questions)"]
    rows[-1]["after"]["facts"] = 0.66  # within the margin: the same build passes
    assert decide(rows, GateSettings())["passed"]


def test_a_probe_row_may_lose_one_answer_but_not_two() -> None:
    """12 general questions: one answer lost moves the mean 0.0833, more than the 0.05 margin; the margin
    is one answer's worth, compared after rounding to 4 decimals (no float tie decides)."""
    new = [row("a", "new", 0.4, 0.9), row("b", "new", 0.5, 0.8)]
    one = decide([*new, row(GENERAL, "general", 10 / 12, 9 / 12, n=12)], GateSettings())
    assert one["passed"] and one["rows"][-1]["verdict"] == "pass"
    two = decide([*new, row(GENERAL, "general", 10 / 12, 8 / 12, n=12)], GateSettings())
    assert two["reasons"] == ["(general) (general): facts 0.833 -> 0.667, may not fall by more than one answer's "
                              "worth (0.0833 of 12 questions)"]
    wide = decide([*new, row(GENERAL, "general", 10 / 12, 8 / 12, n=12)], GateSettings(max_general_regression=0.2))
    assert wide["passed"]  # a configured margin wider than one answer stays the rule
    unchanged = decide([*new, row("old", "unchanged", 0.8, 0.6, n=4)], GateSettings())
    assert not unchanged["passed"]  # a leaf's few held-out questions keep the plain margin


def test_a_build_that_learns_most_leaves_passes_though_some_single_answers_fell() -> None:
    # the real-taxonomy build of docs/build.md: 12 of 17 new leaves closer, the general row kept
    pairs = [(0.898, 0.792), (0.720, 0.772), (0.826, 0.595), (-0.032, 0.008), (0.417, 0.744), (0.457, 0.495),
             (0.329, 0.588), (0.062, 0.502), (0.275, 0.413), (0.402, 0.249), (0.980, 0.993), (0.649, 0.629),
             (0.691, 0.598), (0.468, 0.601), (0.363, 0.591), (0.294, 0.483), (0.430, 0.749)]
    rows = [row(f"leaf{i}", "new", b, a) for i, (b, a) in enumerate(pairs)] + [
        row(GENERAL, "general", 0.782, 0.8, n=12)]
    result = decide(rows, GateSettings())
    assert result["passed"], result["reasons"]
    improvement = result["improvement"]
    assert (improvement["leaves"], improvement["closer"]) == (17, 12)
    assert 0 < improvement["low"] < improvement["mean"] < improvement["high"]
    unchanged = [*rows, row("old", "unchanged", 0.8, 0.6)]  # ... but not when an unchanged leaf regresses
    assert decide(unchanged, GateSettings())["reasons"] == [
        "old (unchanged): facts 0.800 -> 0.600, may not fall by more than 0.05"]


def test_the_gate_decides_on_fact_recall_by_default_not_on_wording() -> None:
    # answers that echo the question got closer in wording and lost every fact: rejected
    rows = [{**row("a", "new", 0.5, 0.9), "after": {"facts": 0.0, "similarity": 0.9, "judge": None}},
            {**row("b", "new", 0.4, 0.95), "after": {"facts": 0.0, "similarity": 0.95, "judge": None}}]
    assert GateSettings().metric == "facts"
    assert not decide(rows, GateSettings())["passed"] and decide(rows, GateSettings(metric="similarity"))["passed"]


def test_the_bootstrap_interval_is_seeded_and_covers_the_mean() -> None:
    deltas = [0.3, -0.1, 0.2, 0.05, 0.4, -0.2, 0.1]
    first = bootstrap_interval(deltas, confidence=0.95, resamples=4000, seed=3)
    assert first == bootstrap_interval(deltas, confidence=0.95, resamples=4000, seed=3)
    assert first["mean"] == pytest.approx(sum(deltas) / len(deltas), abs=1e-4)
    assert first["low"] < first["mean"] < first["high"]
    assert min(deltas) <= first["low"] and first["high"] <= max(deltas)
    narrow = bootstrap_interval(deltas, confidence=0.5, resamples=4000, seed=3)
    assert first["low"] < narrow["low"] < narrow["high"] < first["high"]
    assert bootstrap_interval([0.2], confidence=0.95, resamples=100, seed=0) == {"mean": 0.2, "low": 0.2, "high": 0.2}
    # a normal approximation of the mean's 95% interval agrees with the bootstrap's to about a hundredth
    mean = sum(deltas) / len(deltas)
    sd = (sum((d - mean) ** 2 for d in deltas) / len(deltas)) ** 0.5 / len(deltas) ** 0.5
    assert first["low"] == pytest.approx(mean - 1.96 * sd, abs=0.03)
    assert first["high"] == pytest.approx(mean + 1.96 * sd, abs=0.03)


def test_a_leaf_without_scores_blocks_the_gate_and_says_so() -> None:
    result = decide([row("a", "new", 0.4, 0.5, judge=(None, None))], GateSettings(metric="judge"))
    assert not result["passed"] and "no judge score" in result["reasons"][0]


def test_an_unknown_gate_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="similarity, judge, mean"):
        GateSettings(metric="vibes")


@pytest.mark.parametrize(("text", "expected"), [("Score: 4", 4), ("I'd say Score: 5.", 5), ("nonsense", None),
                                                (None, None), ("Score: 9", None)])
def test_judge_ratings_are_read_from_the_reply(text: str | None, expected: int | None) -> None:
    assert parse_score(text) == expected


def test_leaves_are_new_changed_or_unchanged_by_content_hash() -> None:
    previous = {"a": "1", "b": "2"}
    hashes = {"a": "1", "b": "3", "c": "4"}
    assert [leaf_status(x, hashes, previous) for x in ("a", "b", "c")] == ["unchanged", "changed", "new"]
    assert leaf_status("a", hashes, None) == "new"  # first build: everything is new


class FixedJudge:
    """A judge double: always rates 3, counts what it was asked."""

    identity = "fixed-judge"

    def __init__(self) -> None:
        self.asked: list[Request] = []

    def complete(self, request: Request) -> str:
        self.asked.append(request)
        return "Score: 3"


def write_build(build: Path) -> None:
    data = build / "data"
    data.mkdir(parents=True)
    heldout = [{"leaf": "compositional_skills/words", "question": "What is a fox?", "answer": "A quick animal."},
               {"leaf": "knowledge/sun", "question": "What is the Sun?", "answer": "A star.", "context": "The Sun."}]
    (data / "heldout.jsonl").write_text("".join(json.dumps(h) + "\n" for h in heldout))
    replay = {"messages": [{"role": "user", "content": "What is the Moon?"},
                           {"role": "assistant", "content": "A satellite."}],
              "metadata": {"leaf": "knowledge/sun", "flow": "knowledge", "source": "replay:phase1"}}
    (data / "phase2.jsonl").write_text(json.dumps(replay) + "\n")
    update_report(build, {"leaves": {"hashes": {"compositional_skills/words": "h1", "knowledge/sun": "h2"}}})


def test_probe_items_take_heldout_questions_and_the_replayed_samples(tmp_path: Path) -> None:
    write_build(tmp_path)
    items = probe_items(tmp_path, replay_limit=4)
    assert [i["leaf"] for i in items] == ["compositional_skills/words", "knowledge/sun", REPLAY,
                                          *[GENERAL] * len(GENERAL_PROBES)]
    assert items[2]["answer"] == "A satellite."
    assert (items[3]["question"], items[3]["answer"]) == GENERAL_PROBES[0]
    assert [i["leaf"] for i in probe_items(tmp_path, replay_limit=0, general_limit=0)] == [
        "compositional_skills/words", "knowledge/sun"]


@pytest.mark.slow
def test_a_real_evaluation_scores_both_models_and_writes_the_table(tmp_path: Path) -> None:
    build = tmp_path / "build"
    write_build(build)
    model = tiny_model(build / "training" / "model")
    backend = FixedJudge()
    judge = Teacher(backend, concurrency=1)
    sections = evaluate(build, baseline=model, previous_report={"leaves": {"hashes": {"knowledge/sun": "h2"}}},
                        judge=judge, gate=GateSettings(), max_new_tokens=8, general_limit=2)
    rows = {r["leaf"]: r for r in sections["evaluation"]["leaves"]}
    assert rows["compositional_skills/words"]["status"] == "new"
    assert rows["knowledge/sun"]["status"] == "unchanged"
    assert rows[REPLAY]["status"] == "replay"
    assert rows[GENERAL]["status"] == "general" and rows[GENERAL]["n"] == 2
    assert len(backend.asked) == 10  # 5 questions, each answered by the baseline and the candidate
    for r in rows.values():
        assert -1.0 <= r["after"]["similarity"] <= 1.0 and r["after"]["judge"] == 3.0
        assert 0.0 <= r["after"]["facts"] <= 1.0
        assert r["delta"] == pytest.approx(0.0, abs=1e-6)  # same model on both sides: nothing moved
    assert not sections["gate"]["passed"]  # a new leaf that did not improve is a rejection
    assert sections["gate"]["reasons"][0].startswith("new and changed leaves (1, 0 closer)")
    assert sections["evaluation"]["improvement"] == sections["gate"]["improvement"]


def test_fact_recall_reads_a_knowledge_answer_against_its_question_not_its_document() -> None:
    from pipeline.evaluate.stage import fact_scores

    document = "The Great Salt Fire of Marrick began on 9 November 1867 and burned for 31 hours."
    items = [{"leaf": "knowledge/history/marrick", "question": "When did the fire begin?",
              "answer": "On 9 November 1867.", "context": document}]
    right, wrong = fact_scores(items, ["It began on November 9, 1867."]), fact_scores(items, ["In 1776."])
    assert right == [1.0] and wrong == [0.0]  # the document holds every fact, and is not counted as given
