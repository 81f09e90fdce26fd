"""The three flows with a scripted teacher: what is kept, and what is dropped at which stage."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from pipeline.generate.flows import run_leaf
from pipeline.generate.teacher import Choice, OpenAIBackend, Teacher
from pipeline.leaves import Leaf, Seed
from pipeline.settings import GenerateSettings
from tests.pipeline.generate_helpers import Flaky, ProbabilityBackend, ScriptedBackend, scripted_teacher

SETTINGS = GenerateSettings(near_duplicate=1.0, questions_per_leaf=3)
SEEDS = [Seed(f"What is a synonym of word{i}?", f"word{i}-synonym") for i in range(4)]


def freeform() -> Leaf:
    return Leaf("compositional_skills/linguistics/synonyms", "freeform", "Synonyms", "h", SEEDS)


def grounded() -> Leaf:
    seeds = [Seed("List the items.", "1. a", "Context one."), Seed("Who owns it?", "Tom", "Context two.")]
    return Leaf("compositional_skills/grounded/x", "grounded", "Extraction", "h", seeds)


def knowledge() -> Leaf:
    return Leaf("knowledge/science/astronomy/solar_system", "knowledge", "Planets", "h",
                [Seed("What is the Sun?", "A star.", "The Sun is a star.")])


def test_freeform_keeps_judged_and_rated_pairs():
    backend = ScriptedBackend()
    samples, stats = run_leaf(freeform(), scripted_teacher(backend), SETTINGS)
    assert len(samples) == 3 and stats.kept == 3 and stats.candidates == 3
    assert all("context" not in s for s in samples)
    kinds = [k for k, _ in backend.calls]
    assert kinds.count("questions") == 1 and kinds.count("judge") == 3
    assert kinds.count("answer") == 3 and kinds.count("rate") == 3
    # the seed questions are shown to the teacher as examples
    assert "word0" in backend.calls[0][1]


def test_freeform_filters_by_judge_and_by_rating():
    answers = iter(["no", "yes", "yes"])
    scores = iter(["Score: 1", "Score: 5"])

    def override(kind, request):
        return next(answers) if kind == "judge" else next(scores) if kind == "rate" else None

    samples, stats = run_leaf(freeform(), scripted_teacher(ScriptedBackend(override=override)), SETTINGS)
    assert stats.filtered["question_judge"] == 1
    assert stats.filtered["rating"] == 1
    assert len(samples) == 1 == stats.kept


def test_malformed_teacher_output_is_counted_and_dropped_never_raised():
    def override(kind, request):
        return {"questions": "1. What is a synonym for calm?\n2. Name a word meaning brave.\n3. Which word means old?",
                "judge": "perhaps", "rate": "It is fine"}.get(kind, "")

    samples, stats = run_leaf(freeform(), scripted_teacher(ScriptedBackend(override=override)), SETTINGS)
    assert samples == []
    assert stats.malformed["question_judge"] == 3


def test_unreadable_question_list_counts_one_malformed_generation():
    backend = ScriptedBackend(answers={"questions": "I am sorry, I cannot do that."})
    samples, stats = run_leaf(freeform(), scripted_teacher(backend), SETTINGS)
    assert samples == [] and stats.malformed["questions"] == 1 and stats.candidates == 0


def test_grounded_asks_per_context_and_keeps_the_context():
    backend = ScriptedBackend()
    samples, _ = run_leaf(grounded(), scripted_teacher(backend), SETTINGS)
    contexts = {s["context"] for s in samples}
    assert contexts == {"Context one.", "Context two."}
    assert len(samples) == 6
    answer_prompts = [text for kind, text in backend.calls if kind == "answer"]
    assert all(p.startswith(("Context one.", "Context two.")) for p in answer_prompts)


def test_grounded_can_generate_new_contexts():
    settings = dataclasses.replace(SETTINGS, generated_contexts=1)
    samples, _ = run_leaf(grounded(), scripted_teacher(ScriptedBackend()), settings)
    assert any(s["context"].startswith("A new context about") for s in samples)


def test_knowledge_pairs_per_chunk_then_faithfulness():
    verdicts = iter(["yes", "no", "yes", "Yes, supported"])

    def override(kind, request):
        return next(verdicts) if kind == "judge" else None

    chunks = ["Chunk one about planets.", "Chunk two about the Sun."]
    samples, stats = run_leaf(knowledge(), scripted_teacher(ScriptedBackend(override=override)), SETTINGS, chunks)
    assert stats.candidates == 4
    assert stats.filtered["faithfulness"] == 1
    assert len(samples) == 3
    assert {s["context"] for s in samples} == set(chunks)


def test_copied_seed_questions_are_dropped_before_the_judge():
    text = f"1. {SEEDS[0].question.upper()}\n2. Which word means fast?\n3. Which word means fast?"
    backend = ScriptedBackend(answers={"questions": text})
    samples, stats = run_leaf(freeform(), scripted_teacher(backend), SETTINGS)
    # the list parser drops the repeated line; the copied seed question never reaches the judge
    assert [s["question"] for s in samples] == ["Which word means fast?"]
    assert stats.filtered["seed_copy"] == 1
    assert [k for k, _ in backend.calls].count("judge") == 1


def test_generated_pairs_equal_to_a_seed_pair_are_exact_duplicates():
    chunks = ["Chunk."]
    backend = ScriptedBackend(answers={"pairs": "Q: What is the Sun?\nA: A star.\nQ: What is Mars?\nA: A planet."})
    samples, stats = run_leaf(knowledge(), scripted_teacher(backend), SETTINGS, chunks)
    assert [s["question"] for s in samples] == ["What is Mars?"]
    assert stats.filtered["duplicate_exact"] == 1


def test_transient_failures_are_retried_and_counted():
    backend = ScriptedBackend(override=Flaky(2))
    teacher = scripted_teacher(backend, retries=3)
    samples, _ = run_leaf(freeform(), teacher, SETTINGS)
    assert len(samples) == 3
    assert teacher.counters.retried == 2 and teacher.counters.failed == 0


def test_failures_past_the_retries_are_counted_as_failed_not_raised():
    backend = ScriptedBackend(override=Flaky(100))
    teacher = Teacher(backend, retries=1, backoff_s=0.0)
    samples, stats = run_leaf(freeform(), teacher, SETTINGS)
    assert samples == []
    assert stats.failed["questions"] == 1
    assert teacher.counters.failed == 1 and teacher.counters.retried == 1 and teacher.counters.requests == 1
    assert teacher.errors and "503" in teacher.errors[0]


def test_a_model_error_is_a_failure_too():
    def override(kind, request):
        raise ValueError("CUDA out of memory")

    teacher = scripted_teacher(ScriptedBackend(override=override))
    samples, _ = run_leaf(freeform(), teacher, SETTINGS)
    assert samples == [] and teacher.counters.failed == 1 and teacher.counters.retried == 0


GARBLED = {"judge": "The question asks about the task and", "rate": "This answer is a good"}


def judge_probabilities(seed_yes: float, new_yes: Callable[[str], float],
                        scores: tuple[float, ...] = (0.0, 0.0, 0.2, 0.8, 0.0)) -> Callable[[Choice], list[float]]:
    """P(yes)/P(no) (a third of the mass, as a rambling small model gives) and P(1..5) (`scores` for
    generated pairs; the seeds are rated 3.8) per prompt."""
    def probabilities(choice: Choice) -> list[float]:
        text = choice.messages[-1]["content"]
        seed = "synonym of word" in text or "What is the Sun?" in text
        if choice.options == ("yes", "no"):
            share = seed_yes if seed else new_yes(text)
            return [share / 3, (1 - share) / 3]
        assert choice.prefix == "Score:"
        return [0.0, 0.0, 0.2, 0.8, 0.0] if seed else list(scores)
    return probabilities


def test_a_small_judge_is_read_from_its_next_token_probabilities_calibrated_on_the_seeds():
    backend = ProbabilityBackend(judge_probabilities(0.35, lambda _: 0.4), answers=GARBLED)
    samples, stats = run_leaf(freeform(), scripted_teacher(backend), SETTINGS)
    assert len(samples) == 3 and not stats.malformed and not stats.filtered
    assert stats.thresholds == {"question_judge": pytest.approx(0.35), "rating": 3}
    assert {k for k, _ in backend.calls} == {"questions", "answer"}  # no judgement read from text
    judged = [c.messages[-1]["content"] for c in backend.choices]
    assert sum("word0" in text for text in judged) == 2  # the seeds calibrate both judgements

    uncalibrated = dataclasses.replace(SETTINGS, judge_reference="none")
    samples, stats = run_leaf(freeform(), scripted_teacher(ProbabilityBackend(
        judge_probabilities(0.35, lambda _: 0.4), answers=GARBLED)), uncalibrated)
    assert samples == [] and stats.filtered["question_judge"] == 3

    text_only = dataclasses.replace(SETTINGS, judge="text")
    samples, stats = run_leaf(freeform(), scripted_teacher(ProbabilityBackend(
        judge_probabilities(0.35, lambda _: 0.4), answers=GARBLED)), text_only)
    assert samples == [] and stats.malformed["question_judge"] == 3


def test_a_strong_judge_keeps_the_configured_thresholds():
    backend = ProbabilityBackend(judge_probabilities(0.95, lambda text: 0.4 if "small" in text else 0.9))
    samples, stats = run_leaf(freeform(), scripted_teacher(backend), SETTINGS)
    assert stats.thresholds["question_judge"] == 0.5
    assert stats.filtered["question_judge"] == 1 and len(samples) == 2
    low = ProbabilityBackend(judge_probabilities(0.95, lambda _: 0.9, scores=(0.5, 0.5, 0.0, 0.0, 0.0)))
    samples, stats = run_leaf(freeform(), scripted_teacher(low), SETTINGS)
    assert samples == [] and stats.filtered["rating"] == 3 and stats.thresholds["rating"] == 3


def test_knowledge_faithfulness_by_probabilities():
    backend = ProbabilityBackend(judge_probabilities(0.3, lambda _: 0.32))
    samples, stats = run_leaf(knowledge(), scripted_teacher(backend), SETTINGS, chunks=["The Sun is a star."])
    assert len(samples) == 2 and stats.thresholds == {"faithfulness": pytest.approx(0.3)}


def test_a_teacher_without_probabilities_keeps_the_text_judgement():
    assert not scripted_teacher(ScriptedBackend()).scores_options
    assert not hasattr(OpenAIBackend, "option_probabilities")
    assert scripted_teacher(ProbabilityBackend(judge_probabilities(0.5, lambda _: 0.5))).scores_options
