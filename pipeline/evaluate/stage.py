"""Evaluation: the new build against the previous one (or the base model) on held-out seed questions.

Each leaf's held-out seed questions (`data/heldout.jsonl`, never trained on) are answered by both
models, greedily. Every answer gets its fact recall (`pipeline.evaluate.correctness`: the share of the
seed answer's facts it holds, the score the gate decides on by default), the cosine similarity of its
embedding to the seed answer's (`checks.embeddings`, the same MiniLM the duplicate check uses), and,
when one is configured, a 1..5 rating from a judge model (through `pipeline.generate.teacher`, so any
OpenAI-compatible server works; none by default). A
"(replay)" row probes forgetting on samples replayed in phase 2, and a "(general)" row on
everyday questions no taxonomy leaf teaches (`GENERAL_PROBES`): a model that learned its leaves by
losing what the base model knew falls there, whatever its leaves say. Leaves are marked new, changed or
unchanged by comparing their content hashes with the previous build's. `pipeline.evaluate.gate` decides.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.evaluate.gate import GENERAL, REPLAY, GateSettings, decide
from pipeline.files import read_jsonl, trained_model_dir
from pipeline.generate.parsing import parse_score
from pipeline.generate.prompts import user_turn
from pipeline.progress import duration

JUDGE_PROMPT = (
    "Rate how well the answer matches the reference answer, from 1 (wrong or unrelated) to 5 (same meaning).\n"
    "Question: {question}\nReference answer: {reference}\nAnswer: {answer}\n"
    "Reply in the form: Score: N"
)
# Everyday questions with one plain answer, outside any taxonomy leaf: what the base model knew.
GENERAL_PROBES: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "The capital of France is Paris."),
    ("How many days are there in a week?", "There are seven days in a week."),
    ("At what temperature does water boil at sea level, in degrees Celsius?",
     "Water boils at 100 degrees Celsius at sea level."),
    ("Who wrote the play Romeo and Juliet?", "William Shakespeare wrote Romeo and Juliet."),
    ("Which gas do plants take from the air to make their food?",
     "Plants take in carbon dioxide from the air for photosynthesis."),
    ("What is 7 multiplied by 8?", "7 multiplied by 8 is 56."),
    ("What is the largest ocean on Earth?", "The Pacific Ocean is the largest ocean on Earth."),
    ("What does a thermometer measure?", "A thermometer measures temperature."),
    ("How do you say \"thank you\" in Spanish?", "\"Thank you\" in Spanish is \"gracias\"."),
    ("Write one sentence about a dog playing in a park.",
     "The dog chased a ball across the grass of the park, wagging its tail."),
    ("What is the opposite of \"cold\"?", "The opposite of \"cold\" is \"hot\"."),
    ("Why do people brush their teeth?", "People brush their teeth to remove food and plaque and prevent cavities."),
)


class EvaluationError(RuntimeError):
    """The build folder lacks what the evaluation needs: the message names the file."""


def model_of_build(build_dir: Path) -> Path:
    """The merged model folder a build's training wrote."""
    folder = trained_model_dir(build_dir)
    if not (folder / "config.json").is_file():
        raise EvaluationError(f"{folder}: no trained model here; run `taxonomist build train` first")
    return folder


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise EvaluationError(f"{path}: missing; run `taxonomist build generate` first")
    return read_jsonl(path)


def branch_items(build_dir: Path) -> list[dict[str, str]]:
    """The held-out questions of the taxonomy's leaves that were never trained on (no probes, no learned rows)."""
    return [i for i in probe_items(build_dir, replay_limit=0, general_limit=0) if i["origin"] != "learned"]


def probe_items(build_dir: Path, replay_limit: int, general_limit: int = len(GENERAL_PROBES)) -> list[dict[str, str]]:
    """Held-out seed questions, up to `replay_limit` replayed phase-2 samples as the "(replay)" row and
    up to `general_limit` of `GENERAL_PROBES` as the "(general)" row."""
    items = [{"leaf": h["leaf"], "question": h["question"], "answer": h["answer"], "context": h.get("context", ""),
              "origin": h.get("origin", "seed")} for h in _rows(Path(build_dir) / "data" / "heldout.jsonl")]
    phase2 = Path(build_dir) / "data" / "phase2.jsonl"
    replayed = [r for r in (_rows(phase2) if phase2.is_file() else [])
                if str(r.get("metadata", {}).get("source", "")).startswith("replay:")]
    for row in replayed[:replay_limit]:
        messages = row["messages"]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        answer = next(m["content"] for m in messages[last_user:] if m["role"] == "assistant")
        items.append({"leaf": REPLAY, "question": messages[last_user]["content"], "answer": answer, "context": ""})
    items += [{"leaf": GENERAL, "question": q, "answer": a, "context": ""} for q, a in GENERAL_PROBES[:general_limit]]
    return items


def prompt_of(item: dict[str, str]) -> list[dict[str, str]]:
    return [{"role": "user", "content": user_turn(item["question"], item.get("context"))}]


# Rows decoded together. Greedy decoding of a small model on CPU reads every weight once a step, so more
# rows a step is nearly free: 32 against 8 answered 64 questions 1.8 times faster, the same replies (the
# batch's cache stays within the decoder's byte budget, so long prompts still wait their turn).
ANSWER_BATCH = 32


def answer_all(model_dir: str | Path, items: Sequence[dict[str, str]], *, max_new_tokens: int,
               batch_size: int = ANSWER_BATCH) -> list[str]:
    """Greedy answers of the model in a folder to every item."""
    from pipeline.models import load_student

    model, tokenizer = load_student(model_dir)
    return answers_of(model, tokenizer, items, max_new_tokens=max_new_tokens, batch_size=batch_size)


def answers_of(model: Any, tokenizer: Any, items: Sequence[dict[str, str]], *, max_new_tokens: int,
               batch_size: int = ANSWER_BATCH) -> list[str]:
    """Greedy answers of a loaded model to every item, `batch_size` at a time with continuous batching
    (`pipeline.generate.decoding`); the precheck keeps one model warm between pull requests and calls this."""
    from pipeline.generate.decoding import Decoder, budget_bytes, prompt_ids, stop_ids
    from pipeline.memory import memory_limit

    model.eval()
    decoder = Decoder(model, stop_ids(model, tokenizer), batch_size, budget_bytes(memory_limit().bytes))
    replies = decoder.run([prompt_ids(tokenizer, prompt_of(item)) for item in items], max_new_tokens)
    return [tokenizer.decode(tokens, skip_special_tokens=True).strip() for tokens in replies]


def similarities(answers: Sequence[str], references: Sequence[str]) -> list[float]:
    """Cosine similarity of each answer to its reference (MiniLM rows are L2-normalised)."""
    from checks.embeddings import embed

    a, b = embed(list(answers)), embed(list(references))
    return [float(x) for x in (a * b).sum(axis=1)]


def judge_all(judge: Any, items: Sequence[dict[str, str]], answers: Sequence[str], max_tokens: int = 12
              ) -> list[int | None]:
    """The judge's ratings of each answer against its reference, through the teacher client."""
    from pipeline.generate.teacher import Request

    requests = [Request(messages=[{"role": "user", "content": JUDGE_PROMPT.format(
        question=item["question"], reference=item["answer"], answer=answer)}], max_tokens=max_tokens)
        for item, answer in zip(items, answers, strict=True)]
    return [parse_score(text) for text in judge.ask_many(requests)]


def grading_item(item: dict[str, str]) -> dict[str, str]:
    """An item as the correctness score reads it: a knowledge answer's facts are in its document, so the
    document is not counted as given (a grounded skill's context is its input, and is)."""
    return {**item, "context": ""} if item.get("leaf", "").startswith("knowledge/") else item


def fact_scores(items: Sequence[dict[str, str]], answers: Sequence[str]) -> list[float]:
    """Each answer's correctness score (`pipeline.evaluate.correctness`) against its item's answer."""
    from pipeline.evaluate.correctness import grade_all

    return [g.score for g in grade_all([grading_item(i) for i in items], answers)]


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None


def per_leaf(items: Sequence[dict[str, str]], sims: Sequence[float], judged: Sequence[int | None],
             facts: Sequence[float]) -> dict[str, dict]:
    grouped: dict[str, dict[str, list]] = defaultdict(lambda: {"similarity": [], "judge": [], "facts": [],
                                                               "origin": []})
    for item, sim, rating, recall in zip(items, sims, judged, facts, strict=True):
        grouped[item["leaf"]]["similarity"].append(sim)
        grouped[item["leaf"]]["judge"].append(rating)
        grouped[item["leaf"]]["facts"].append(recall)
        grouped[item["leaf"]]["origin"].append(item.get("origin", "seed"))
    return {leaf: {"facts": _mean(v["facts"]), "similarity": _mean(v["similarity"]), "judge": _mean(v["judge"]),
                   "n": len(v["similarity"]), "origin": sorted(set(v["origin"]))} for leaf, v in grouped.items()}


def leaf_status(leaf: str, hashes: dict[str, str], previous_hashes: dict[str, str] | None) -> str:
    """new (absent before, or no previous build), changed (other content hash) or unchanged."""
    if leaf == REPLAY:
        return "replay"
    if leaf == GENERAL:
        return "general"
    if previous_hashes is None or leaf not in previous_hashes:
        return "new"
    return "changed" if hashes.get(leaf) != previous_hashes[leaf] else "unchanged"


Scores = tuple[list[float], list[int | None], list[float]]  # similarity, judge rating, fact recall per item


def score_model(model_dir: str | Path, items: Sequence[dict[str, str]], judge: Any, *,
                max_new_tokens: int) -> tuple[list[float], list[int | None], list[float], list[str]]:
    """Each item's similarity, judge rating and fact recall, and the answers, for one model."""
    answers = answer_all(model_dir, items, max_new_tokens=max_new_tokens)
    judged = judge_all(judge, items, answers) if judge is not None else [None] * len(items)
    return similarities(answers, [i["answer"] for i in items]), judged, fact_scores(items, answers), answers


SCORES = ("facts", "similarity", "judge")


def _table(items: Sequence[dict[str, str]], before: Scores, after: Scores, hashes: dict[str, str],
           previous_hashes: dict[str, str] | None, keep: Any) -> list[dict[str, Any]]:
    """Per-leaf rows (before and after) over the items `keep` selects; leaves first, probes last."""
    chosen = [i for i, item in enumerate(items) if keep(item)]
    pick = [items[i] for i in chosen]
    b = per_leaf(pick, *([side[i] for i in chosen] for side in before))
    a = per_leaf(pick, *([side[i] for i in chosen] for side in after))
    return [{"leaf": leaf, "status": leaf_status(leaf, hashes, previous_hashes), "n": a[leaf]["n"],
             "origin": a[leaf]["origin"], "before": {k: b[leaf][k] for k in SCORES},
             "after": {k: a[leaf][k] for k in SCORES}}
            for leaf in sorted(a, key=lambda name: (name in (REPLAY, GENERAL), name))]


def evaluate(build_dir: Path, *, baseline: str | Path, previous_report: dict[str, Any] | None, judge: Any,
             gate: GateSettings, max_new_tokens: int = 64, replay_limit: int = 16,
             general_limit: int = len(GENERAL_PROBES)) -> dict[str, Any]:
    """The `evaluation` and `gate` sections of build.json: the per-leaf table, the decision, and apart
    from both the `learned` table (a thin leaf's seeds, trained on: what was learned, never gated)."""
    from pipeline.publish.report import read_report

    items = probe_items(build_dir, replay_limit, general_limit)
    if not any(i["leaf"] not in (REPLAY, GENERAL) for i in items):
        raise EvaluationError(f"{build_dir}/data/heldout.jsonl has no held-out question: nothing to evaluate")
    started = time.perf_counter()
    *before, before_answers = score_model(baseline, items, judge, max_new_tokens=max_new_tokens)
    took = time.perf_counter() - started  # the candidate answers the same questions: about as long again
    print(f"evaluate: the baseline answered {len(items)} questions in {duration(took)}; the candidate's turn, "
          f"about {duration(took)} left", file=sys.stderr, flush=True)
    *after, after_answers = score_model(model_of_build(build_dir), items, judge, max_new_tokens=max_new_tokens)
    hashes = read_report(build_dir).get("leaves", {}).get("hashes", {})
    previous_hashes = None if previous_report is None else previous_report.get("leaves", {}).get("hashes", {})

    def table(keep: Any) -> list[dict[str, Any]]:
        return _table(items, (before[0], before[1], before[2]), (after[0], after[1], after[2]), hashes,
                      previous_hashes, keep)

    decision = decide(table(lambda item: item.get("origin") != "learned"), gate)
    rows = decision.pop("rows")
    learned = table(lambda item: item.get("origin") == "learned")
    examples = [{"leaf": i["leaf"], "question": i["question"], "reference": i["answer"], "before": b, "after": a}
                for i, b, a in list(zip(items, before_answers, after_answers, strict=True))[:20]]
    improvement = decision["improvement"] or {"leaves": 0, "closer": 0}
    evaluation = {"baseline": str(baseline), "candidate": str(model_of_build(build_dir)),
                  "judge": getattr(judge, "identity", None), "questions": len(items), "leaves": rows,
                  "learned": learned,
                  "closer_after_training": {"leaves": improvement["leaves"], "closer": improvement["closer"]},
                  "improvement": decision["improvement"], "examples": examples}
    if judge is not None:
        evaluation["judge_requests"] = judge.counters.to_dict()
    return {"evaluation": evaluation, "gate": decision}
