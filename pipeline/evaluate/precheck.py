"""Precheck: does the current model already do what a contribution teaches?

InstructLab asks for contributions that address something the model does poorly. The current model
(the newest published build the operator configured, else the embedded base student; any model
folder or OpenAI-compatible URL) answers every seed question of each file, prompted as training
presents the sample (`pipeline.evaluate.stage.prompt_of`: a knowledge or grounded question comes after its
context). Each answer is scored as the build's evaluation scores one: embedding similarity to the
contributor's answer and a judge's 1..5 rating (`pipeline.evaluate.stage`). A file's verdict follows the
repository's `precheck:` thresholds (`checks.config.PrecheckConfig`):

- an example is known when its score (similarity, scaled judge, or their mean) reaches `example_known_at`;
- the file is `known` when at least `known_share` of its examples are known, `partly-known` from
  `partly_known_share` on, else `new`.

Loaded models stay warm in this process (`warm_teacher`), so the bot pays for a load once.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checks.config import PrecheckConfig, RepoConfig
from checks.findings import Severity
from checks.paths import leaf_of, taxonomy_path
from checks.runner import Checker
from checks.sources import Source
from pipeline.evaluate.gate import score
from pipeline.generate.teacher import Teacher
from pipeline.leaves import make_leaf

BUILDS_ENV = "TAXONOMIST_BUILDS"  # the operator's folder of weekly build folders
KNOWN, PARTLY, NEW = "known", "partly-known", "new"
NO_JUDGE = "none"
UNREADABLE = ("yaml-syntax", "schema", "file-name")  # errors that leave no leaf to ask about
DEFAULT_MAX_NEW_TOKENS = 48
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


def warm_teacher(spec: str) -> Teacher:
    """The model behind `spec` (URL, folder, .gguf or `default`) through the teacher's API, loaded once."""
    from pipeline.generate.teacher import make_teacher
    from pipeline.settings import TeacherSettings

    with _warm_lock:
        if spec not in _warm:
            _warm[spec] = make_teacher(TeacherSettings(endpoint=spec))
        return _warm[spec]


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


def rate(judge: Teacher, items: Sequence[dict[str, str]], answers: Sequence[str]) -> list[float | None]:
    """The evaluation's judge prompt; an in-process judge answers by its next-token probabilities of 1..5
    (the flows' `SCORE` judgement: one forward pass, no generation), a server in text."""
    from pipeline.evaluate.stage import JUDGE_PROMPT, judge_all
    from pipeline.generate.flows import SCORE
    from pipeline.generate.teacher import Choice

    if not judge.scores_options:
        return [None if r is None else float(r) for r in judge_all(judge, items, answers)]
    choices = [Choice([{"role": "user", "content": JUDGE_PROMPT.format(question=i["question"], reference=i["answer"],
                                                                        answer=a)}], SCORE.options, SCORE.prefix)
               for i, a in zip(items, answers, strict=True)]
    scores = [SCORE.from_probabilities(p) for p in judge.choose_many(choices)]
    return [None if x is None else round(x, 1) for x in scores]


def leading(answers: Sequence[str], references: Sequence[str]) -> list[str]:
    """Each answer cut to as many sentences as its reference: a small model states the answer, then
    rambles until its token budget ends, and the ramble must not hide that it knew."""
    out = []
    for text, reference in zip(answers, references, strict=True):
        keep = max(1, len(SENTENCE_END.findall(reference.strip() + " ")))
        parts = SENTENCE_END.split(text.strip() + " ")
        ends = SENTENCE_END.findall(text.strip() + " ")
        out.append("".join(p + e for p, e in zip(parts[:keep], ends[:keep], strict=False)).strip() or text)
    return out


def example_score(similarity: float | None, judge: float | None, metric: str) -> float | None:
    """One example's score on the gate's scale (judge 1..5 as 0..1)."""
    return score({"s": {"similarity": similarity, "judge": judge}}, "s", metric)


def verdict(examples: Sequence[dict[str, Any]], config: PrecheckConfig) -> str:
    """`known`, `partly-known` or `new` from the share of examples the model already answers well."""
    if not examples:
        return NEW
    known = 0
    for ex in examples:
        value = example_score(ex["similarity"], ex["judge"], config.metric)
        known += value is not None and value >= config.example_known_at
    share = known / len(examples)
    if share >= config.known_share:
        return KNOWN
    return PARTLY if share >= config.partly_known_share else NEW


@dataclass(frozen=True, slots=True)
class LeafSeeds:
    """One file's seed examples, as the build reads them."""

    path: str      # taxonomy-relative file path
    source: str    # as given
    seeds: list[dict[str, str]]


def read_seeds(sources: Sequence[Source], config: RepoConfig) -> list[LeafSeeds]:
    """Seed examples of each file; a file whose content cannot be read as a leaf (bad YAML, a schema
    error) stops the precheck. Other structural errors (no attribution yet) do not: the bot only
    prechecks heads whose structural checks all pass, a contributor may ask earlier."""
    checker = Checker(config, only=("structural",))
    out = []
    for source in sources:
        report = checker.check_file(source)
        errors = [f for f in report.findings if f.severity == Severity.ERROR and f.check in UNREADABLE]
        if errors:
            first = errors[0]
            where = f"{source.source}:{first.line}" if first.line else source.source
            raise PrecheckError(f"{where}: {first.message} (run `taxonomist check` and fix the file first)")
        tax_path = taxonomy_path(report.path)
        data = yaml.safe_load(source.read())  # bounded: the structural checks parsed it within the limits
        leaf = make_leaf(leaf_of(tax_path) if tax_path else report.path, report.kind, data, 0, 0)
        out.append(LeafSeeds(report.path, source.source, [s.to_dict() for s in leaf.seeds]))
    return out


def precheck(leaves: Sequence[LeafSeeds], config: PrecheckConfig, *, model: str | Teacher | None = None,
             judge: str | Teacher | None = None, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> dict[str, Any]:
    """The precheck object: `{"files": [{path, source, verdict, examples: [...]}], "model": identity}`.

    `model` and `judge` are specs (`warm_teacher`) or teachers already made; the judge defaults to the
    model itself, `none` scores by similarity alone."""
    from pipeline.evaluate.stage import similarities

    spec = model or default_model()
    try:
        student = spec if isinstance(spec, Teacher) else warm_teacher(spec)
        judge_client = (None if judge == NO_JUDGE else student if judge is None or judge == spec
                        else judge if isinstance(judge, Teacher) else warm_teacher(judge))
    except Exception as exc:  # a missing folder, an unreachable server: the tool could not run
        raise PrecheckError(f"cannot load the model {spec if isinstance(spec, str) else spec.identity!r}: "
                            f"{exc}") from None
    items = [seed for leaf in leaves for seed in leaf.seeds]
    answers = answer(student, items, max_new_tokens) if items else []
    references = [i["answer"] for i in items]
    sims = [max(pair) for pair in zip(similarities(answers, references),
                                      similarities(leading(answers, references), references), strict=True)
            ] if items else []
    ratings = rate(judge_client, items, answers) if judge_client is not None and items else [None] * len(items)
    files, at = [], 0
    for leaf in leaves:
        examples = [{"question": item["question"], "answer": item["answer"], "model_answer": answers[i],
                     "similarity": round(sims[i], 4), "judge": ratings[i]}
                    for i, item in enumerate(leaf.seeds, start=at)]
        at += len(leaf.seeds)
        files.append({"path": leaf.path, "source": leaf.source, "verdict": verdict(examples, config),
                      "examples": examples})
    return {"files": files, "model": student.identity}


def render_text(result: dict[str, Any]) -> str:
    """For people: each file's verdict, then each question with both answers and the scores."""
    out = [f"model: {result['model']}"]
    for f in result["files"]:
        out += ["", f"{f['source']}: {f['verdict']}"]
        for i, ex in enumerate(f["examples"], 1):
            judged = "-" if ex["judge"] is None else ex["judge"]
            out += [f"  {i}. {' '.join(ex['question'].split())}",
                    f"     contributor: {' '.join(ex['answer'].split())}",
                    f"     model:       {' '.join(ex['model_answer'].split())}",
                    f"     similarity {ex['similarity']:.2f}, judge {judged}"]
    return "\n".join(out) + "\n"
