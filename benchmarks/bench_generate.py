"""Generation benchmark: the batched in-process teacher against one prompt at a time, full, unchanged,
cosmetically edited and one-leaf-edited runs, the judge comparison, and teacher throughput over HTTP.

The batching comparison sends one fixed set of the flows' own prompts, built from the seeds of a few
real leaves (question writing, answers, question judgements and ratings, in a generation run's
proportions), through the embedded teacher as it was before batching (`PreviousPath`: one prompt at
a time, a judgement's logits over the whole prompt and a whole new pass for a leading space) and
batched (`--concurrency` requests in flight, as many sequences a forward pass), and prints requests
per second of each, their ratio, how many replies are identical and how far judgements moved.

Runs on a sampled subset of the real taxonomy-2024-08 leaves (copied to a temporary folder, never
into the repository) with the embedded SmolLM2 teacher in process. The judge comparison generates
the same skill leaves twice with that teacher: judged from its text (`judge: text`, the baseline)
and from its next-token probabilities calibrated on the seeds (`judge: auto`), and prints the
samples each keeps. Then it measures the teacher over a real `transformers serve` on loopback: the
server's raw completion throughput, then generation at concurrency 1 and at the configured bound.
Every figure comes from the same run.

    .venv/bin/python -m benchmarks.bench_generate [--leaves 3] [--judge-leaves 3] [--raw 4] [--http-leaves 1]
        [--batch-leaves 4] [--skip-batching] [--only-batching]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TAXONOMIST_CORPUS", REPO.parent / "shared" / "corpus"))
TAXONOMY = "taxonomy-2024-08"


def bench_settings(args: argparse.Namespace):
    from pipeline.settings import GenerateSettings, TeacherSettings

    return GenerateSettings(questions_per_leaf=args.questions, max_tokens=args.max_tokens, judge_max_tokens=8,
                            max_contexts_per_leaf=1, schema_version="own",
                            teacher=TeacherSettings(concurrency=args.concurrency))


def sample_taxonomy(dest: Path, count: int, seed: int) -> list[str]:
    """Copy `count` leaves that pass the structural checks (own schema version) into `dest`."""
    from pipeline.leaves import collect

    used, skipped = collect(CORPUS / TAXONOMY, schema_version="own", heldout=1)
    chosen = sorted(random.Random(seed).sample([leaf.path for leaf in used], min(count, len(used))))
    print(f"taxonomy-2024-08: {len(used)} leaves pass the structural checks (own schema version), "
          f"{len(skipped)} are skipped; the benchmark samples {len(chosen)}: {', '.join(chosen)}")
    for leaf in chosen:
        shutil.copytree(CORPUS / TAXONOMY / leaf, dest / leaf)
    return chosen


def edit(leaf_dir: Path) -> None:
    """A real edit: the first seed question changes."""
    path = leaf_dir / "qna.yaml"
    path.write_text(path.read_text().replace("question: ", "question: (edited) ", 1))


def cosmetic_edit(leaf_dir: Path) -> None:
    """A comment and a blank line: the parsed content, and so the content hash, stay the same."""
    path = leaf_dir / "qna.yaml"
    path.write_text("# reviewed\n\n" + path.read_text())


def figures(report: dict) -> dict:
    per_phase = report["samples"]["per_phase"]
    return {"used": len(report["leaves"]["used"]), "skipped": len(report["leaves"]["skipped"]),
            "regenerated": len(report["leaves"]["regenerated"]), "reused": len(report["leaves"]["reused"]),
            "teacher": {k: report["teacher"][k] for k in ("requests", "failed", "retried")},
            "candidates": sum(p["candidates"] for p in per_phase.values()),
            "kept": sum(p["kept"] for p in per_phase.values()),
            "malformed": {k: v for p in per_phase.values() for k, v in p["malformed"].items()},
            "filtered": {k: v for p in per_phase.values() for k, v in p["filtered"].items()},
            "rows": report["samples"]["rows"], "stages_s": report["stages"]}


def incremental(work: Path, args: argparse.Namespace) -> None:
    from pipeline.generate.stage import generate

    settings = bench_settings(args)
    taxonomy = work / "taxonomy"
    chosen = sample_taxonomy(taxonomy, args.leaves, args.seed)
    cache = work / "cache"
    runs = {}
    for name in ("full", "unchanged", "cosmetic edit", "one edited"):
        if name == "cosmetic edit":
            cosmetic_edit(taxonomy / chosen[0])
        if name == "one edited":
            edit(taxonomy / chosen[0])
        start = time.perf_counter()
        report = generate(taxonomy, work / f"build-{len(runs)}", cache, settings, model_cache=args.model_cache,
                          progress=True)
        runs[name] = {**figures(report), "wall_s": round(time.perf_counter() - start, 1)}
        print(f"run '{name}': {json.dumps(runs[name])}")
    full, again, edited = runs["full"], runs["unchanged"], runs["one edited"]
    print(f"comment-only edit ({chosen[0]}): regenerated {runs['cosmetic edit']['regenerated']} leaves, "
          f"{runs['cosmetic edit']['teacher']['requests']} teacher requests")
    print(f"unchanged rebuild: {again['teacher']['requests']} teacher requests "
          f"(full run: {full['teacher']['requests']}), {again['wall_s']} s vs {full['wall_s']} s "
          f"({full['wall_s'] / max(again['wall_s'], 0.01):.0f}x faster)")
    print(f"one leaf edited ({chosen[0]}): regenerated {edited['regenerated']} leaf, "
          f"{edited['teacher']['requests']} teacher requests "
          f"({edited['teacher']['requests'] / max(full['teacher']['requests'], 1):.0%} of the full run's)")


def judges(work: Path, args: argparse.Namespace) -> None:
    """Samples kept by the text judgement (baseline) and by the probability judge, same leaves and teacher."""
    from pipeline.generate.stage import generate
    from pipeline.leaves import collect

    used, _ = collect(CORPUS / TAXONOMY, schema_version="own", heldout=1)
    skills = [leaf.path for leaf in used if leaf.flow != "knowledge"]
    chosen = sorted(random.Random(args.seed).sample(skills, min(args.judge_leaves, len(skills))))
    taxonomy = work / "judge-taxonomy"
    for leaf in chosen:
        shutil.copytree(CORPUS / TAXONOMY / leaf, taxonomy / leaf)
    print(f"judge comparison on {len(chosen)} skill leaves: {', '.join(chosen)}")
    kept = {}
    for judge in ("text", "auto"):
        settings = dataclasses.replace(bench_settings(args), judge=judge)
        start = time.perf_counter()
        report = generate(taxonomy, work / f"judge-{judge}", work / f"judge-cache-{judge}", settings,
                          model_cache=args.model_cache, progress=False)
        f = figures(report)
        thresholds = {leaf: stats["thresholds"] for leaf, stats in report["samples"]["per_leaf"].items()}
        kept[judge] = f["kept"]
        print(f"judge {judge}: {f['candidates']} candidates, {f['kept']} kept, malformed {f['malformed']}, "
              f"filtered {f['filtered']}, {f['teacher']['requests']} teacher requests in "
              f"{time.perf_counter() - start:.1f} s; thresholds {json.dumps(thresholds)}")
    print(f"kept samples: text judgement {kept['text']}, probability judge {kept['auto']} "
          f"({kept['auto'] - kept['text']:+d})")


def batch_prompts(count: int, seed: int, max_tokens: int, temperature: float) -> tuple[list, list]:
    """The fixed prompt set: per leaf, one question-writing request, two answers, and the question
    judgement and the rating of its first five seeds (what calibration asks), as a run does."""
    from pipeline.generate import prompts
    from pipeline.generate.flows import SCORE, YES_NO
    from pipeline.generate.teacher import Choice, Request
    from pipeline.leaves import collect

    used, _ = collect(CORPUS / TAXONOMY, schema_version="own", heldout=1)
    skills = sorted(random.Random(seed).sample([leaf for leaf in used if leaf.flow != "knowledge"],
                                               min(count, len(used))), key=lambda leaf: leaf.path)
    requests, choices = [], []
    for leaf in skills:
        examples = prompts.numbered([x.question for x in leaf.seeds[:5]])
        requests.append(Request(prompts.chat(prompts.QUESTIONS.format(task=leaf.task, examples=examples, n=3)),
                                max_tokens, temperature))
        requests += [Request(prompts.chat(prompts.ANSWER.format(question=x.question)), max_tokens, temperature)
                     for x in leaf.seeds[:2]]
        for x in leaf.seeds[:5]:
            choices.append(Choice(prompts.chat(prompts.JUDGE_QUESTION.format(task=leaf.task, question=x.question)),
                                  YES_NO.options, YES_NO.prefix))
            choices.append(Choice(prompts.chat(prompts.RATE.format(task=leaf.task, question=x.question,
                                                                   answer=x.answer)), SCORE.options, SCORE.prefix))
    return requests, choices


def previous_path(folder: Path, seed: int):
    """The in-process teacher as it was before batching, for the comparison: one generate call per
    request (the global RNG seeded before each), a judgement's logits over its whole prompt, and a
    whole new forward pass for each leading whitespace token."""
    import torch

    from pipeline.generate.teacher import MAX_WHITESPACE_STEPS, LocalBackend

    class PreviousPath(LocalBackend):
        def complete(self, request) -> str:
            encoded = self.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True,
                                                         return_tensors="pt", return_dict=True)
            sample = request.temperature > 0
            torch.manual_seed(self.seed)
            out = self.model.generate(**encoded, max_new_tokens=request.max_tokens, do_sample=sample,
                                      temperature=request.temperature if sample else None, top_p=None, top_k=None,
                                      pad_token_id=self.tokenizer.pad_token_id)
            return self.tokenizer.decode(out[0, encoded["input_ids"].shape[1]:], skip_special_tokens=True)

        def option_probabilities(self, choice) -> list[float]:
            tokens = self._first_tokens(choice.options)
            ids = torch.tensor([self._ids(choice.messages, choice.prefix)])
            for _ in range(MAX_WHITESPACE_STEPS + 1):
                probs = torch.softmax(self.model(input_ids=ids).logits[0, -1].float(), dim=-1)
                top = int(probs.argmax())
                if self.tokenizer.decode([top]).strip() or any(top in option for option in tokens):
                    break
                ids = torch.cat([ids, torch.tensor([[top]])], dim=1)
            return [float(probs[option].sum()) if option else 0.0 for option in tokens]

    return PreviousPath(folder, seed=seed, batch_size=1)


def batching(args: argparse.Namespace) -> None:
    """The embedded teacher one prompt at a time (today's path) and batched, on the same fixed prompts."""
    from pipeline.generate.teacher import LocalBackend, Teacher
    from pipeline.models import default_model_dir

    requests, choices = batch_prompts(args.batch_leaves, args.seed, args.max_tokens, 0.7)
    folder = default_model_dir(args.model_cache)
    print(f"batching: {len(requests)} generation requests (max_tokens {args.max_tokens}, temperature 0.7) and "
          f"{len(choices)} judgements from {args.batch_leaves} leaves, embedded SmolLM2")
    runs = {}
    for name, size in (("before (one at a time)", 1), (f"batched ({args.concurrency} in flight)", args.concurrency)):
        backend = (previous_path(folder, args.seed) if size == 1
                   else LocalBackend(folder, seed=args.seed, batch_size=size))
        teacher = Teacher(backend, concurrency=size)
        start = time.perf_counter()
        texts = teacher.ask_many(requests)
        generation_s = time.perf_counter() - start
        scores = teacher.choose_many(choices)
        took = time.perf_counter() - start
        runs[name] = {"texts": texts, "scores": scores, "seconds": took,
                      "rate": (len(requests) + len(choices)) / took}
        print(f"{name:28s} {len(requests) + len(choices)} requests in {took:6.1f} s: {runs[name]['rate']:.3f} "
              f"requests/s (generation {len(requests) / generation_s:.3f}/s, judgements "
              f"{len(choices) / (took - generation_s):.3f}/s); failed {teacher.counters.failed}; decoding steps "
              f"by rows {dict(sorted(backend.decoder.widths.items()))}, judgement batches "
              f"{dict(sorted(Counter(backend.judged).items()))}")
    one, batched = runs.values()
    same = sum(a == b for a, b in zip(one["texts"], batched["texts"], strict=True))
    pairs = [(a, b) for a, b in zip(one["scores"], batched["scores"], strict=True) if a and b]
    drift = max((abs(x - y) for a, b in pairs for x, y in zip(a, b, strict=True)), default=0.0)
    print(f"batched / before: {batched['rate'] / one['rate']:.2f}x the requests per second; "
          f"{same} of {len(requests)} replies identical; judgements differ by at most {drift:.2e}")


def throughput(work: Path, args: argparse.Namespace) -> None:
    import openai

    from pipeline.generate.stage import generate
    from pipeline.models import default_model_dir
    from pipeline.settings import TeacherSettings
    from tests.pipeline.serving import transformers_serve

    folder = default_model_dir(args.model_cache)
    taxonomy = work / "http-taxonomy"
    leaves = sorted(p.parent.relative_to(work / "taxonomy") for p in (work / "taxonomy").rglob("qna.yaml"))
    for leaf in leaves[:args.http_leaves]:
        shutil.copytree(work / "taxonomy" / leaf, taxonomy / leaf)
    names = ", ".join(map(str, leaves[:args.http_leaves]))
    print(f"HTTP runs on {min(args.http_leaves, len(leaves))} leaf(s): {names}")
    with transformers_serve(folder, threads=2) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=600)
        model = client.models.list().data[0].id
        tokens, start = 0, time.perf_counter()
        for i in range(args.raw):
            answer = client.chat.completions.create(
                model=model, max_tokens=args.max_tokens, temperature=0.7,
                messages=[{"role": "user", "content": f"Write a question about topic number {i}."}])
            tokens += answer.usage.completion_tokens if answer.usage else 0
        raw_s = time.perf_counter() - start
        print(f"server raw: {args.raw} completions, {tokens} tokens in {raw_s:.1f} s: "
              f"{args.raw / raw_s:.3f} completions/s, {tokens / raw_s:.1f} tokens/s")
        base = bench_settings(args)
        for concurrency in sorted({1, args.concurrency}):
            settings = dataclasses.replace(base, teacher=TeacherSettings(endpoint=url, concurrency=concurrency))
            start = time.perf_counter()
            report = generate(taxonomy, work / f"http-{concurrency}", work / f"http-cache-{concurrency}", settings,
                              progress=False)
            took = time.perf_counter() - start
            f = figures(report)
            print(f"HTTP teacher at concurrency {concurrency}: {f['teacher']['requests']} requests, "
                  f"{f['candidates']} candidates, {f['kept']} samples kept in {took:.1f} s: "
                  f"{f['kept'] / took:.4f} samples/s, {f['candidates'] / took:.4f} candidates/s, "
                  f"{f['teacher']['requests'] / took:.3f} requests/s "
                  f"({(f['teacher']['requests'] / took) / (args.raw / raw_s):.2f}x the raw completion rate)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=2, help="leaves sampled from taxonomy-2024-08")
    parser.add_argument("--questions", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--raw", type=int, default=4, help="raw completions timed against the server")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-cache", type=Path, default=None)
    parser.add_argument("--http-leaves", type=int, default=1, help="leaves generated through the server")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--judge-leaves", type=int, default=3, help="skill leaves for the judge comparison")
    parser.add_argument("--skip-judges", action="store_true")
    parser.add_argument("--batch-leaves", type=int, default=4, help="leaves whose seeds make the batching prompts")
    parser.add_argument("--skip-batching", action="store_true")
    parser.add_argument("--only-batching", action="store_true", help="the batching comparison alone")
    args = parser.parse_args()
    if not (CORPUS / TAXONOMY).is_dir():
        raise SystemExit(f"the corpus is not at {CORPUS / TAXONOMY} (set TAXONOMIST_CORPUS)")
    import torch

    print(f"settings: {args.leaves} leaves, {args.questions} questions a request, max_tokens {args.max_tokens}, "
          f"concurrency bound {args.concurrency}; torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.skip_batching:
        batching(args)
    if args.only_batching:
        return
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        incremental(Path(tmp), args)
        if not args.skip_judges:
            judges(Path(tmp), args)
        if not args.skip_http:
            throughput(Path(tmp), args)


if __name__ == "__main__":
    main()
