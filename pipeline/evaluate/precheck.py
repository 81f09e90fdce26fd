"""Precheck: does the current model already know what a contribution teaches?

InstructLab asks for contributions that address something the model does poorly. The current model
(the newest published build the operator configured, else the embedded base student; any model
folder or OpenAI-compatible URL) answers the seed questions of each file, at most `max_questions` a
run (a deterministic sample across files: `sample`), greedily. A knowledge question is asked
closed-book, without its document: the question is whether the model *knows* it; the answer with the
document ("open book") is reported beside it and never counts. Each answer is graded by
`pipeline.evaluate.correctness` (the facts of the contributor's answer it holds; a text task by
similarity, or by a configured judge) as correct, partly or wrong, and a file's verdict follows the
repository's `precheck:` thresholds (`checks.config.PrecheckConfig`):

- `known` when at least `known_share` of its examples are correct;
- `partly-known` when (correct + half the partly ones) reach `partly_known_share` of them; else `new`.

Loaded models stay warm in this process (`warm_teacher`), so the bot pays for a load once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checks.config import PrecheckConfig, RepoConfig
from checks.findings import Severity
from checks.paths import leaf_of, taxonomy_path
from checks.runner import Checker
from checks.sources import Source
from pipeline.evaluate.correctness import CORRECT, LABELS, PARTLY, JudgeFn, Thresholds, grade_all
from pipeline.generate.teacher import Teacher
from pipeline.leaves import make_leaf

BUILDS_ENV = "TAXONOMIST_BUILDS"  # the operator's folder of weekly build folders
KNOWN, PARTLY_KNOWN, NEW = "known", "partly-known", "new"
NOT_ASKED = "not-asked"  # the file's questions fell outside the cap or the time budget
NO_JUDGE = "none"
UNREADABLE = ("yaml-syntax", "schema", "file-name")  # errors that leave no leaf to ask about
DEFAULT_MAX_NEW_TOKENS = 32  # answers are graded on their leading sentences: a longer ramble costs time, not facts
SENTENCE_END = re.compile(r"[.!?]+[\s\n]+")
_warm: dict[str, Teacher] = {}
_warm_lock = threading.Lock()
_generate_lock = threading.Lock()  # one batched generation at a time: CPU threads are shared


class PrecheckError(RuntimeError):
    """The precheck cannot run (a file with structural errors, no model): the message says where and why."""


def latest_published(builds: Path) -> Path | None:
    """The model folder of the newest published build under `builds` (by its build.json's time)."""
    found: list[tuple[float, Path]] = []
    for report_path in Path(builds).glob("*/build.json"):
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        published = report.get("published") if isinstance(report, dict) else None
        model = Path(str(published.get("path", ""))) / "model" if isinstance(published, dict) else None
        if model is not None and (model / "config.json").is_file():
            found.append((report_path.stat().st_mtime, model))
    return max(found)[1] if found else None


def default_model() -> str:
    """The newest published build in $TAXONOMIST_BUILDS, else `default` (the embedded base student)."""
    builds = os.environ.get(BUILDS_ENV)
    latest = latest_published(Path(builds)) if builds else None
    return str(latest) if latest is not None else "default"


def warm_teacher(spec: str | Any) -> Teacher:
    """The model behind `spec` (URL, folder, .gguf or `default`; or a `TeacherSettings`, as for a judge
    with its model name and key variable) through the teacher's API, loaded once."""
    from pipeline.generate.teacher import make_teacher
    from pipeline.settings import TeacherSettings

    settings = spec if isinstance(spec, TeacherSettings) else TeacherSettings(endpoint=spec)
    key = f"{settings.endpoint}\0{settings.model}\0{settings.api_key_env}"
    with _warm_lock:
        if key not in _warm:
            _warm[key] = make_teacher(settings)
        return _warm[key]


def answer(model: Teacher, items: Sequence[dict[str, str]], max_new_tokens: int) -> list[str]:
    """Greedy answers; an in-process model answers in batches, a server through the teacher's requests."""
    from pipeline.evaluate.stage import answers_of, prompt_of
    from pipeline.generate.teacher import LocalBackend, Request

    backend = model.backend
    if isinstance(backend, LocalBackend):
        with _generate_lock:
            return answers_of(backend.model, backend.tokenizer, items, max_new_tokens=max_new_tokens)
    replies = model.ask_many([Request(messages=prompt_of(item), max_tokens=max_new_tokens) for item in items])
    return [(text or "").strip() for text in replies]


JUDGE_RUBRIC = (
    "You grade whether an answer is factually right, compared with a reference answer written by an expert.\n"
    "correct: it states the reference's facts (other wording, extra true detail and number words are fine).\n"
    "partly: it gets some of the reference's facts right and misses or gets wrong others, or does only part "
    "of the task.\n"
    "wrong: a wrong number, date, name, unit or term; a refusal; only the question's own words; or, for a "
    "writing task, ignoring the task, changing its meaning or repeating its input.\n\n"
    "Question: {question}\nReference answer: {reference}\nAnswer: {answer}\n\n"
    "Reply with two lines:\nGrade: correct, partly or wrong\nRationale: one sentence"
)
GRADE_LINE = re.compile(r"grade\s*:\s*\**\s*(correct|partly|wrong)", re.IGNORECASE)
RATIONALE_LINE = re.compile(r"rationale\s*:\s*(.+)", re.IGNORECASE)


def parse_grade(text: str | None) -> tuple[str | None, str]:
    """A judge's reply as (label or None when unreadable, rationale)."""
    reply = text or ""
    found = GRADE_LINE.search(reply)
    why = RATIONALE_LINE.search(reply)
    label = found.group(1).lower() if found else None
    return (label if label in LABELS else None,
            " ".join((why.group(1) if why else reply).split())[:500])


def judge_of(judge: Teacher, max_tokens: int = 96) -> JudgeFn:
    """A configured judge (an OpenAI-compatible server) as `correctness.grade_all`'s grader, with the rubric."""
    from pipeline.generate.teacher import Request

    def grade(items: Sequence[dict[str, str]], answers: Sequence[str]) -> list[tuple[str | None, str]]:
        requests = [Request(messages=[{"role": "user", "content": JUDGE_RUBRIC.format(
            question=item["question"], reference=item["answer"], answer=answer)}], max_tokens=max_tokens)
            for item, answer in zip(items, answers, strict=True)]
        return [parse_grade(reply) for reply in judge.ask_many(requests)]

    return grade


def thresholds_of(config: PrecheckConfig) -> Thresholds:
    return Thresholds(correct_at=config.correct_at, partly_at=config.partly_at,
                      similar_correct_at=config.similar_correct_at, similar_partly_at=config.similar_partly_at)


def leading(answers: Sequence[str], references: Sequence[str]) -> list[str]:
    """Each answer cut to one sentence more than its reference has: a small model states the answer,
    then rambles until its token budget ends, and the ramble must neither hide that it knew nor add
    numbers that read as contradictions."""
    out = []
    for text, reference in zip(answers, references, strict=True):
        keep = max(1, len(SENTENCE_END.findall(reference.strip() + " "))) + 1
        parts = SENTENCE_END.split(text.strip() + " ")
        ends = SENTENCE_END.findall(text.strip() + " ")
        out.append("".join(p + e for p, e in zip(parts[:keep], ends[:keep], strict=False)).strip() or text)
    return out


def verdict(labels: Sequence[str], config: PrecheckConfig) -> str:
    """`known`, `partly-known` or `new` from the examples' labels (correct, partly, wrong)."""
    if not labels:
        return NEW
    correct = sum(label == CORRECT for label in labels) / len(labels)
    credit = round(correct + sum(label == PARTLY for label in labels) / (2 * len(labels)), 4)
    if round(correct, 4) >= config.known_share:
        return KNOWN
    return PARTLY_KNOWN if credit >= config.partly_known_share else NEW


def rule_of(config: PrecheckConfig) -> str:
    """The verdict's rule in one line, for the comment and the text output."""
    return (f"known: at least {config.known_share:.0%} of the answers correct; partly-known: correct plus half "
            f"the partly ones reach {config.partly_known_share:.0%}; else new. An answer is correct when it holds "
            f"{config.correct_at:.0%} of the reference's facts, every number and quote among them, and contradicts "
            f"none, partly from {config.partly_at:.0%}.")


@dataclass(frozen=True, slots=True)
class LeafSeeds:
    """One file's seed examples, as the build reads them."""

    path: str      # taxonomy-relative file path
    source: str    # as given
    seeds: list[dict[str, str]]
    kind: str = "skill"


@dataclass(frozen=True, slots=True)
class Refused:
    """A file the precheck could not read as a leaf: where and why, reported while the others run."""

    source: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "error": self.message}


def read_seeds(sources: Sequence[Source], config: RepoConfig, *, schema_version: str | int | None = None
               ) -> tuple[list[LeafSeeds], list[Refused]]:
    """Seed examples of each file, and the files whose content cannot be read as a leaf (bad YAML, a
    schema error under `schema_version`, `check`'s option: `own` reads v1 and v2 files as they are).
    Other structural errors (no attribution yet) do not stop a file: the bot only prechecks heads whose
    structural checks all pass, a contributor may ask earlier."""
    checker = Checker(config, only=("structural",), schema_version=schema_version)
    out, refused = [], []
    for source in sources:
        report = checker.check_file(source)
        errors = [f for f in report.findings if f.severity == Severity.ERROR and f.check in UNREADABLE]
        if errors:
            first = errors[0]
            where = f"{source.source}:{first.line}" if first.line else source.source
            refused.append(Refused(source.source, f"{where}: {first.message} (run `taxonomist check` and fix "
                                                  "the file first)"))
            continue
        tax_path = taxonomy_path(report.path)
        data = yaml.safe_load(source.read())  # bounded: the structural checks parsed it within the limits
        leaf = make_leaf(leaf_of(tax_path) if tax_path else report.path, report.kind, data, 0, 0)
        out.append(LeafSeeds(report.path, source.source, [s.to_dict() for s in leaf.seeds], report.kind))
    return out, refused


def _order(path: str, question: str) -> str:
    return hashlib.sha256(f"{path}\0{question}".encode()).hexdigest()


def sample(leaves: Sequence[LeafSeeds], cap: int) -> list[list[int]]:
    """Which seeds of each file are asked: all when they fit in `cap`, else a deterministic sample, taken
    round-robin across files (each file's seeds in the order of a hash of path and question), so every
    file gets its share and the same push asks the same questions."""
    orders = [sorted(range(len(leaf.seeds)), key=lambda i, leaf=leaf: _order(leaf.path, leaf.seeds[i]["question"]))
              for leaf in leaves]
    chosen: list[list[int]] = [[] for _ in leaves]
    left, depth = max(0, cap), 0
    while left and any(depth < len(order) for order in orders):
        for n, order in enumerate(orders):
            if left and depth < len(order):
                chosen[n].append(order[depth])
                left -= 1
        depth += 1
    return [sorted(c) for c in chosen]


Progress = Callable[[str], None]


def _closed_book(item: dict[str, str], kind: str) -> dict[str, str]:
    """A knowledge question without its document; a skill's context is its input and stays."""
    return {**item, "context": ""} if kind == "knowledge" else item


def _load(spec: str | Teacher | None, judge: str | Teacher | Any) -> tuple[Teacher, Teacher | None]:
    model = spec or default_model()
    try:
        student = model if isinstance(model, Teacher) else warm_teacher(model)
    except Exception as exc:  # a missing folder, an unreachable server: the tool could not run
        name = model if isinstance(model, str) else model.identity
        raise PrecheckError(f"cannot load the model {name!r}: {exc}") from None
    try:
        judged = (None if judge is None or judge == NO_JUDGE else judge if isinstance(judge, Teacher)
                  else warm_teacher(judge))
    except Exception as exc:
        name = judge if isinstance(judge, str) else getattr(judge, "endpoint", "?")
        raise PrecheckError(f"cannot reach the judge {name!r}: {exc}") from None
    return student, judged


def precheck(leaves: Sequence[LeafSeeds], config: PrecheckConfig, *, model: str | Teacher | None = None,
             judge: str | Teacher | Any = None, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
             refused: Sequence[Refused] = (), progress: Progress | None = None,
             clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """The precheck object: `{"files": [{path, source, verdict, asked, seeds, examples: [...]}], "model",
    "asked", "seeds", "rule", "errors"}`.

    `model` and `judge` are specs or `TeacherSettings` (`warm_teacher`) or teachers already made; no
    judge (the default, and `none`) grades text tasks by similarity. Files are answered one at a time;
    once `config.time_budget_s` has passed, the files left are `not-asked` and say why."""
    student, judge_client = _load(model, judge)
    grader = judge_of(judge_client) if judge_client is not None else None
    thresholds = thresholds_of(config)
    picks = sample(leaves, config.max_questions)
    started = clock()
    files: list[dict[str, Any]] = []
    for n, (leaf, pick) in enumerate(zip(leaves, picks, strict=True)):
        entry: dict[str, Any] = {"path": leaf.path, "source": leaf.source, "kind": leaf.kind,
                                 "seeds": len(leaf.seeds), "asked": 0, "examples": []}
        spent = clock() - started
        if not pick or spent >= config.time_budget_s:
            why = "the question cap" if not pick else f"the time budget ({config.time_budget_s} s)"
            files.append({**entry, "verdict": NOT_ASKED, "why": f"not asked: outside {why}"})
            continue
        entry["examples"] = _ask(student, [leaf.seeds[i] for i in pick], leaf.kind, thresholds, grader,
                                 max_new_tokens)
        entry["asked"] = len(pick)
        entry["verdict"] = verdict([ex["grade"]["label"] for ex in entry["examples"]], config)
        files.append(entry)
        if progress is not None:
            progress(f"{n + 1}/{len(leaves)} files, {leaf.path}: {entry['verdict']} ({clock() - started:.0f} s)")
    return {"files": files, "model": student.identity, "judge": None if judge_client is None else
            judge_client.identity, "asked": sum(f["asked"] for f in files),
            "seeds": sum(f["seeds"] for f in files), "max_questions": config.max_questions, "rule": rule_of(config),
            "errors": [r.to_dict() for r in refused]}


def _ask(student: Teacher, seeds: Sequence[dict[str, str]], kind: str, thresholds: Thresholds,
         grader: JudgeFn | None, max_new_tokens: int) -> list[dict[str, Any]]:
    """One file's examples: the closed-book answer and grade, and for knowledge the open-book ones beside."""
    closed = [_closed_book(seed, kind) for seed in seeds]
    references = [seed["answer"] for seed in seeds]
    answers = answer(student, closed, max_new_tokens)
    grades = grade_all(closed, leading(answers, references), thresholds=thresholds, judge=grader)
    examples = [{"question": seed["question"], "answer": seed["answer"], "model_answer": text,
                 "grade": g.to_dict()} for seed, text, g in zip(seeds, answers, grades, strict=True)]
    if kind == "knowledge":
        # Open book beside: one question per document excerpt (its prefill is most of the cost).
        firsts = list({seed["context"]: i for i, seed in reversed(list(enumerate(seeds))) if seed.get("context")
                       }.values())[::-1]
        if firsts:
            opened = answer(student, [seeds[i] for i in firsts], max_new_tokens)
            open_grades = grade_all([closed[i] for i in firsts], leading(opened, [references[i] for i in firsts]),
                                    thresholds=thresholds, judge=grader)
            for i, text, g in zip(firsts, opened, open_grades, strict=True):
                examples[i]["open_book"] = {"model_answer": text, "grade": g.to_dict()}
    return examples


def explain(grade: dict[str, Any]) -> str:
    """One example's grade for people: its label, the facts matched and missed, or its text basis."""
    parts = [grade["label"]]
    if grade["basis"] == "facts":
        parts.append(f"facts {grade['score']:.0%}")
        for key, word in (("matched", "matched"), ("half", "half"), ("missed", "missed"),
                          ("contradicted", "contradicted")):
            if grade.get(key):
                parts.append(f"{word}: {', '.join(grade[key])}")
    else:
        parts.append(f"no facts to check, {grade['basis']} {grade['score']:.2f}")
        if grade.get("contradicted"):
            parts.append(f"changed: {', '.join(grade['contradicted'])}")
    if grade.get("rationale"):
        parts.append(grade["rationale"])
    return "; ".join(parts)


def render_text(result: dict[str, Any]) -> str:
    """For people: each file's verdict, then each question with both answers and its grade."""
    out = [f"model: {result['model']}",
           f"asked {result['asked']} of {result['seeds']} seed questions (at most {result['max_questions']} a run)",
           f"rule: {result['rule']}"]
    for error in result.get("errors", []):
        out += ["", f"{error['source']}: not prechecked: {error['error']}"]
    for f in result["files"]:
        out += ["", f"{f['source']}: {f['verdict']}" + (f" ({f['why']})" if f.get("why") else "")]
        for i, ex in enumerate(f["examples"], 1):
            out += [f"  {i}. {' '.join(ex['question'].split())}",
                    f"     contributor: {' '.join(ex['answer'].split())}",
                    f"     model:       {' '.join(ex['model_answer'].split())}",
                    f"     {explain(ex['grade'])}"]
            if "open_book" in ex:
                out.append(f"     open book:   {' '.join(ex['open_book']['model_answer'].split())} "
                           f"({explain(ex['open_book']['grade'])})")
    return "\n".join(out) + "\n"
