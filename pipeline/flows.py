"""The LAB-style generation flows: freeform skills, grounded skills and knowledge.

Each flow generates candidates, then has the teacher judge them, and keeps what passes. Every
candidate that does not make it is counted under the stage that dropped it: `failed` (the
teacher's request failed after retries), `malformed` (its text could not be read) or `filtered`
(the judgement said no, the score was too low, or it duplicated another sample).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pipeline import parsing, prompts
from pipeline.dedup import deduplicate, normalise
from pipeline.leaves import Leaf, Seed
from pipeline.settings import GenerateSettings
from pipeline.teacher import Request, Teacher

T = TypeVar("T")
EXAMPLES_SHOWN = 5


@dataclass(slots=True)
class LeafStats:
    """What happened to one leaf's candidates, stage by stage."""

    candidates: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)
    filtered: Counter[str] = field(default_factory=Counter)
    kept: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"candidates": self.candidates, "failed": dict(self.failed), "malformed": dict(self.malformed),
                "filtered": dict(self.filtered), "kept": self.kept}


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
        kept = []
        for item, text in zip(items, self.ask(users, judge=judge), strict=True):
            if text is None:
                self.stats.failed[name] += 1
                continue
            value = parse(text)
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
        users = [prompts.RATE.format(task=self.leaf.task, question=p["question"], answer=p["answer"]) for p in pairs]
        rated = self.stage("rating", pairs, users, parsing.parse_score,
                           lambda score: score >= self.settings.min_score, judge=True)
        return [pair for pair, _ in rated]

    def judge_questions(self, questions: Sequence[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        users = [prompts.JUDGE_QUESTION.format(task=self.leaf.task, question=q) for q, _ in questions]
        return [item for item, _ in self.stage("question_judge", questions, users, parsing.parse_yes_no, bool,
                                               judge=True)]

    def answer(self, questions: Sequence[tuple[str, str | None]]) -> list[dict[str, str]]:
        users = [prompts.ANSWER_GROUNDED.format(context=c, question=q) if c else prompts.ANSWER.format(question=q)
                 for q, c in questions]
        return [_sample(q, a, c) for (q, c), a in self.stage("answer", questions, users, parsing.parse_answer)]


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
    return [p for p, _ in run.stage("faithfulness", pairs, users, parsing.parse_yes_no, bool, judge=True)]


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
