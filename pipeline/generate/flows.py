"""The LAB-style generation flows: freeform skills, grounded skills and knowledge.

Each flow generates candidates, then has the teacher judge them, and keeps what passes. Every
candidate that does not make it is counted under the stage that dropped it: `failed` (the
teacher's request failed after retries), `malformed` (its text could not be read) or `filtered`
(the judgement said no, the score was too low, or it duplicated another sample).

Judgements (question fit, rating, faithfulness) are read from the judge's text, or, where the
teacher gives next-token probabilities and `judge` is `auto`, from P(yes) against P(no) and the
expected score over the digits 1..5: a small model that rambles still ranks its options.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pipeline.generate import parsing, prompts
from pipeline.generate.dedup import deduplicate, normalise
from pipeline.generate.teacher import Choice, Request, Teacher
from pipeline.leaves import Leaf, Seed
from pipeline.settings import GenerateSettings

T = TypeVar("T")
EXAMPLES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Judgement:
    """How a judgement becomes a number: its options and reply prefix for a probability judge, and
    the parsers for a text judge and for a probability judge."""

    options: tuple[str, ...]
    prefix: str
    from_text: Callable[[str | None], float | None]
    from_probabilities: Callable[[list[float] | None], float | None]


@dataclass(slots=True)
class LeafStats:
    """What happened to one leaf's candidates, stage by stage."""

    candidates: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)
    filtered: Counter[str] = field(default_factory=Counter)
    kept: int = 0
    thresholds: dict[str, float] = field(default_factory=dict)  # a probability judge's, after calibration

    def to_dict(self) -> dict[str, Any]:
        return {"candidates": self.candidates, "failed": dict(self.failed), "malformed": dict(self.malformed),
                "filtered": dict(self.filtered), "kept": self.kept, "thresholds": self.thresholds}


@dataclass(slots=True)
class FlowRun:
    """One leaf's generation: the teacher, the settings and the counters every stage adds to."""

    leaf: Leaf
    teacher: Teacher
    settings: GenerateSettings
    stats: LeafStats = field(default_factory=LeafStats)

    def ask(self, users: Sequence[str], *, judge: bool = False) -> list[str | None]:
        s = self.settings
        requests = [Request(prompts.chat(u), s.judge_max_tokens if judge else s.max_tokens,
                            0.0 if judge else s.temperature) for u in users]
        return self.teacher.ask_many(requests)

    def stage(self, name: str, items: Sequence[T], users: Sequence[str], parse: Callable[[str | None], Any],
              accept: Callable[[Any], bool] = lambda _: True, *, judge: bool = False) -> list[tuple[T, Any]]:
        """Ask one request per item; keep (item, parsed) pairs that parse and are accepted, count the rest."""
        return self.tally(name, items, self.ask(users, judge=judge), parse, accept)

    @property
    def by_probability(self) -> bool:
        return self.settings.judge == "auto" and self.teacher.scores_options

    def verdicts(self, name: str, items: Sequence[T], users: Sequence[str], judgement: Judgement,
                 threshold: float, reference: Sequence[str] = ()) -> list[T]:
        """Keep the items whose judgement, as a number, reaches the threshold: from next-token
        probabilities where the teacher gives them (and `judge` is auto), else from its text."""
        if not items:
            return []
        if not self.by_probability:
            judged = self.stage(name, items, users, judgement.from_text, lambda v: v >= threshold, judge=True)
            return [item for item, _ in judged]
        threshold = self.calibrated(name, judgement, threshold, reference)
        answers = self.teacher.choose_many([Choice(prompts.chat(u), judgement.options, judgement.prefix)
                                            for u in users])
        return [item for item, _ in self.tally(name, items, answers, judgement.from_probabilities,
                                              lambda v: v >= threshold)]

    def calibrated(self, name: str, judgement: Judgement, threshold: float, reference: Sequence[str]) -> float:
        """The threshold, lowered to the judge's median for the leaf's own seed examples when that is
        lower: a small judge that is lukewarm about everything must like a sample as much as it likes
        what people wrote; a strong judge likes the seeds, so its threshold stays as configured."""
        answers = self.teacher.choose_many([Choice(prompts.chat(u), judgement.options, judgement.prefix)
                                            for u in reference])
        values = [v for v in map(judgement.from_probabilities, answers) if v is not None]
        if values:
            threshold = min(threshold, statistics.median(values))
        self.stats.thresholds[name] = round(threshold, 4)
        return threshold

    def tally(self, name: str, items: Sequence[T], answers: Sequence[Any], parse: Callable[[Any], Any],
             accept: Callable[[Any], bool]) -> list[tuple[T, Any]]:
        """Count each answer as failed (None), malformed (parse gives None) or filtered (not accepted)."""
        kept = []
        for item, answer in zip(items, answers, strict=True):
            if answer is None:
                self.stats.failed[name] += 1
                continue
            value = parse(answer)
            if value is None:
                self.stats.malformed[name] += 1
            elif not accept(value):
                self.stats.filtered[name] += 1
            else:
                kept.append((item, value))
        return kept

    def generate_lists(self, name: str, users: Sequence[str], parse: Callable[[str | None], list[T]]) -> list[T]:
        """Generation requests whose answers are lists; an answer with nothing readable is malformed."""
        out: list[T] = []
        for _, found in self.stage(name, users, users, lambda text: parse(text) or None):
            out.extend(found)
        self.stats.candidates += len(out)
        return out

    def rate(self, pairs: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        task = self.leaf.task
        users = [prompts.RATE.format(task=task, question=p["question"], answer=p["answer"]) for p in pairs]
        reference = [prompts.RATE.format(task=task, question=s.question, answer=s.answer) for s in self.references()]
        return self.verdicts("rating", pairs, users, SCORE, self.settings.min_score, reference)

    def judge_questions(self, questions: Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        users = [prompts.JUDGE_QUESTION.format(task=self.leaf.task, question=q) for q, _ in questions]
        reference = [prompts.JUDGE_QUESTION.format(task=self.leaf.task, question=s.question)
                     for s in self.references()]
        return self.verdicts("question_judge", questions, users, YES_NO, self.settings.judge_yes_threshold,
                             reference)

    def references(self) -> list[Seed]:
        """The seed examples a probability judge is calibrated on (never the held-out ones)."""
        calibrate = self.by_probability and self.settings.judge_reference == "seeds"
        return list(self.leaf.seeds[:EXAMPLES_SHOWN]) if calibrate else []

    def answer(self, questions: Sequence[tuple[str, str | None]]) -> list[dict[str, str]]:
        users = [prompts.ANSWER_GROUNDED.format(context=c, question=q) if c else prompts.ANSWER.format(question=q)
                 for q, c in questions]
        return [_sample(q, a, c) for (q, c), a in self.stage("answer", questions, users, parsing.parse_answer)]


def _yes_as_number(text: str | None) -> float | None:
    """A text judge's yes/no as the probability judge's share: 1.0 or 0.0."""
    verdict = parsing.parse_yes_no(text)
    return None if verdict is None else float(verdict)


YES_NO = Judgement(("yes", "no"), "", _yes_as_number, parsing.yes_share)
SCORE = Judgement(("1", "2", "3", "4", "5"), "Score:", parsing.parse_score, parsing.expected_score)


def _sample(question: str, answer: str, context: str | None) -> dict[str, str]:
    out = {"question": question, "answer": answer}
    if context:
        out["context"] = context
    return out


def _examples(seeds: Sequence[Seed]) -> str:
    return prompts.numbered([s.question for s in seeds[:EXAMPLES_SHOWN]])


def _skill_questions(run: FlowRun, contexts: Sequence[str | None]) -> list[tuple[str, str | None]]:
    """Generated questions, each with the context it is about (None for freeform skills)."""
    s, leaf = run.settings, run.leaf
    out: list[tuple[str, str | None]] = []
    for context in contexts:
        seeds = [x for x in leaf.seeds if x.context == context] or leaf.seeds
        template = prompts.QUESTIONS_GROUNDED if context else prompts.QUESTIONS
        user = template.format(task=leaf.task, context=context, examples=_examples(seeds), n=s.questions_per_leaf)
        found = run.generate_lists("questions", [user] * s.question_requests,
                                   lambda text: parsing.parse_questions(text, s.questions_per_leaf))
        out.extend((q, context) for q in found)
    return _drop_seed_questions(run, out)


def _drop_seed_questions(run: FlowRun, questions: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Weak teachers copy the examples: drop those before paying for their judgement and answer."""
    seen = {normalise(s.question) for s in [*run.leaf.seeds, *run.leaf.heldout]}
    kept = [(q, c) for q, c in questions if normalise(q) not in seen]
    if len(kept) < len(questions):
        run.stats.filtered["seed_copy"] += len(questions) - len(kept)
    return kept


def _new_contexts(run: FlowRun, given: Sequence[str]) -> list[str]:
    if not run.settings.generated_contexts or not given:
        return []
    users = [prompts.CONTEXT.format(task=run.leaf.task, example=given[i % len(given)])
             for i in range(run.settings.generated_contexts)]
    return [text for _, text in run.stage("context", users, users, parsing.parse_answer)]


def skill_flow(run: FlowRun) -> list[dict[str, str]]:
    """Freeform (no contexts) and grounded skills: questions, judged, answered, rated."""
    given = list(dict.fromkeys(s.context for s in run.leaf.seeds if s.context))
    limit = run.settings.max_contexts_per_leaf
    contexts: list[str | None] = [None]
    if run.leaf.flow == "grounded":
        contexts = [*given[:limit], *_new_contexts(run, given)]
    questions = run.judge_questions(_skill_questions(run, contexts))
    return run.rate(run.answer(questions))


def knowledge_flow(run: FlowRun, chunks: Sequence[str]) -> list[dict[str, str]]:
    """Knowledge: question-answer pairs grounded in each chunk, then a faithfulness judgement."""
    s, leaf = run.settings, run.leaf
    examples = prompts.qa_block([(x.question, x.answer) for x in leaf.seeds[:EXAMPLES_SHOWN]])
    pairs: list[dict[str, str]] = []
    for chunk in chunks[:s.max_contexts_per_leaf]:
        user = prompts.KNOWLEDGE_PAIRS.format(chunk=chunk, examples=examples, n=s.pairs_per_chunk)
        found = run.generate_lists("pairs", [user], lambda text: parsing.parse_qa_pairs(text, s.pairs_per_chunk))
        pairs.extend(_sample(q, a, chunk) for q, a in found)
    users = [prompts.FAITHFUL.format(chunk=p["context"], question=p["question"], answer=p["answer"]) for p in pairs]
    reference = [prompts.FAITHFUL.format(chunk=x.context, question=x.question, answer=x.answer)
                 for x in run.references() if x.context]
    return run.verdicts("faithfulness", pairs, users, YES_NO, s.judge_yes_threshold, reference)


def run_leaf(leaf: Leaf, teacher: Teacher, settings: GenerateSettings,
             chunks: Sequence[str] = ()) -> tuple[list[dict[str, str]], LeafStats]:
    """Generate, judge and deduplicate one leaf's samples (against its seeds and held-out seeds too)."""
    run = FlowRun(leaf, teacher, settings)
    samples = knowledge_flow(run, chunks) if leaf.flow == "knowledge" else skill_flow(run)
    reference = [s.to_dict() for s in [*leaf.seeds, *leaf.heldout]]
    unique, dropped = deduplicate(samples, reference, settings.near_duplicate)
    run.stats.filtered.update(dropped)
    run.stats.kept = len(unique)
    return unique, run.stats
