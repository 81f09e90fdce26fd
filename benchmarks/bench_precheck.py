"""The model in the review loop: the precheck's verdicts on a labelled set, its time per leaf, its cost to triage.

1. Verdict accuracy on the labelled set of benchmarks/data/precheck (written apart from the code;
   README.md there): each leaf's seed questions answered as the set's author recorded the small
   model's answers (closed book; a knowledge leaf's document given for the open-book answers), through
   `pipeline.evaluate.precheck.precheck` with the repository defaults. Printed for `labelled.jsonl`
   (the part the thresholds were calibrated on), `sealed.jsonl` (sealed for the first release of the
   score and read once; the next release's grading rules were then developed on it too) and
   `sealed-2.jsonl` (a second set, 27 leaves, written apart from the code after that and read once,
   at the end of that tuning; studied after) and `labelled-3.jsonl` (the calibration part of a third
   set, 36 leaves, written apart again) and its sealed part `sealed-3.jsonl` (read once at the end of
   that calibration, spent since), and a fourth and a fifth set the same way, `labelled-4.jsonl` and
   `sealed-4.jsonl`, `labelled-5.jsonl` and `sealed-5.jsonl` (docs/precheck.md says when each was read):
   leaf verdict accuracy, the known/partly-known/new confusion,
   wrong-answer leaves rated `known`, and the per-answer label agreement. Targets: no wrong-answer leaf
   `known`, >= 90 % right.
   `PRECHECK_SEALED=PATH` (`benchmarks/run.py precheck --sealed PATH`) measures another set of the same
   schema too, written apart and read once; `PRECHECK_VERDICTS_ONLY=1` stops after the verdicts.
2. Precheck time per leaf with the embedded model, warm (loaded once, as in the bot's worker): a
   five-question skill leaf and the sample's fifteen-question knowledge leaf (five contexts), median
   and p90 of 5 runs. Target: knowledge median <= 30 s.
3. Triage latency with the precheck enabled beside without, in the same run: the triage and precheck
   jobs of three pull requests go to the bot's two named queues (SQLite huey, the bot's embedded
   queues: model work has its own), a triage worker and a model worker drain them at once; the
   figure is the mean time from submission to each triage job's end.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from checks.config import PrecheckConfig
from pipeline.evaluate.precheck import LeafSeeds, precheck

MODEL = "default"
DATA = Path(__file__).resolve().parent / "data" / "precheck"
KNOWLEDGE_SAMPLE = "knowledge/science/astronomy/solar_system/qna.yaml"
VERDICTS = ("known", "partly-known", "new")
EVERYDAY = [("What is the capital of France?", "The capital of France is Paris."),
            ("What is the largest ocean on Earth?", "The Pacific Ocean is the largest ocean on Earth."),
            ("What color is the sky on a clear day?", "The sky is blue on a clear day."),
            ("What is the opposite of hot?", "The opposite of hot is cold."),
            ("How many days are there in a week?", "There are seven days in a week.")]


class Replay:
    """A backend answering each prompt as the labelled set's author recorded: the closed-book answer to a
    question alone (or a skill's question after its input), the open-book one after a knowledge document."""

    identity = "replay:labelled-set"

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def complete(self, request: Any) -> str:
        return self.answers.get(request.messages[-1]["content"], "")


def labelled_leaves(name: str | Path) -> tuple[list[LeafSeeds], dict[str, str], dict[str, Any]]:
    """The set's leaves as the precheck reads them, the replayed answers by prompt, and each leaf's truth
    (`name` under benchmarks/data/precheck, or a path; a header line is skipped)."""
    from pipeline.generate.prompts import user_turn

    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    leaves, answers, truth = [], {}, {}
    for line in lines:
        row = json.loads(line) if line.strip() else {}
        if "examples" not in row:
            continue
        seeds = []
        for ex in row["examples"]:
            context = row["document"] if row["type"] == "knowledge" else ex["context"]
            seeds.append({"question": ex["question"], "answer": ex["reference"], "context": context or ""})
            if row["type"] == "knowledge":
                answers[ex["question"]] = ex["model_answer"]
                answers[user_turn(ex["question"], context)] = ex["open_book_answer"] or ""
            else:
                answers[user_turn(ex["question"], ex["context"])] = ex["model_answer"]
        leaves.append(LeafSeeds(f"{row['type']}/{row['id']}/qna.yaml", row["id"], seeds, row["type"]))
        truth[row["id"]] = row
    return leaves, answers, truth


def verdict_figures(name: str | Path) -> dict[str, Any]:
    """Leaf verdicts and answer labels of one part of the set against its author's."""
    from pipeline.generate.teacher import Teacher

    leaves, answers, truth = labelled_leaves(name)
    result = precheck(leaves, PrecheckConfig(max_questions=10_000, time_budget_s=10_000),
                      model=Teacher(Replay(answers), concurrency=1, retries=0))
    confusion = {(t, p): 0 for t in VERDICTS for p in VERDICTS}
    labels = agree = open_labels = open_agree = 0
    wrong_known, misses = [], []
    for f in result["files"]:
        row = truth[f["source"]]
        confusion[(row["verdict"], f["verdict"])] += 1
        if f["verdict"] != row["verdict"]:
            misses.append(f"{row['id']}: {row['verdict']} -> {f['verdict']}")
        if f["verdict"] == "known" and any(ex["label"] == "wrong" for ex in row["examples"]):
            wrong_known.append(row["id"])
        for ex, got in zip(row["examples"], f["examples"], strict=True):
            labels += 1
            agree += ex["label"] == got["grade"]["label"]
            if "open_book" in got:
                open_labels += 1
                open_agree += ex["open_book_label"] == got["open_book"]["grade"]["label"]
    right = sum(confusion[(v, v)] for v in VERDICTS)
    return {"leaves": len(result["files"]), "right": right, "confusion": confusion, "wrong_known": wrong_known,
            "labels": labels, "agree": agree, "open_labels": open_labels, "open_agree": open_agree, "misses": misses}


def print_verdicts(name: str | Path) -> None:
    found = verdict_figures(name)
    print(f"{name}: {found['right']}/{found['leaves']} leaf verdicts right "
          f"({found['right'] / found['leaves']:.1%}); wrong-answer leaves rated known: {len(found['wrong_known'])} "
          f"{found['wrong_known']}; answer labels agree {found['agree']}/{found['labels']}; open-book answer "
          f"labels agree {found['open_agree']}/{found['open_labels']}")
    print("  confusion (rows: the author's verdict, columns: the precheck's; known / partly-known / new):")
    for truth in VERDICTS:
        print(f"    {truth:>12}: " + "  ".join(f"{found['confusion'][(truth, got)]:3d}" for got in VERDICTS))
    print(f"  wrong verdicts: {found['misses']}", flush=True)


def timings(leaves: list[LeafSeeds], runs: int = 5) -> tuple[float, float, list[float], float]:
    """Median and p90 wall seconds of a warm precheck of these leaves (the model loaded once before), the
    runs, and the median CPU seconds of this process (the wall time on a shared machine waits for others)."""
    precheck(leaves, PrecheckConfig(), model=MODEL)
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        precheck(leaves, PrecheckConfig(), model=MODEL)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    ordered = sorted(times)
    return (statistics.median(times), ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))], times,
            statistics.median(cpu))


def knowledge_sample() -> list[LeafSeeds]:
    from checks.config import parse_config
    from checks.samples import TAXONOMY_DIR
    from checks.sources import DiskSource
    from pipeline.evaluate.precheck import read_seeds

    return read_seeds([DiskSource(str(TAXONOMY_DIR / KNOWLEDGE_SAMPLE))], parse_config(""))[0]


def triage_latency(with_precheck: bool, prs: int = 3) -> float:
    """Mean seconds from submission to the end of each PR's triage job: a triage worker and a model worker,
    each on its own queue, as the bot runs them."""
    import threading

    from huey import SqliteHuey

    from bot.demo import make_sample_repo
    from bot.forges.localgit import LocalGitForge
    from bot.precheck.handler import precheck_setup
    from bot.service.handlers import load_handlers
    from bot.service.queue import JobQueue
    from bot.service.router import HandlerContext
    from bot.triage.indexes import IndexStore

    router = load_handlers()
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_sample_repo(Path(tmp) / "taxonomy")
        forges = {n: LocalGitForge(repo=repo, base="main", head="known-facts", body="") for n in range(1, prs + 1)}
        setup = precheck_setup(MODEL if with_precheck else "none", None)
        done: dict[int, float] = {}

        def run(job: Any) -> None:
            ctx = HandlerContext(forge=forges[job.pr], skip_checks=("content",), indexes=IndexStore(None),
                                 precheck=setup)
            router.dispatch(job, ctx)
            if job.route == "triage":
                done[job.pr] = time.perf_counter()

        triage, model = (SqliteHuey(name, filename=str(Path(tmp) / "queue.db")) for name in ("bench", "bench-model"))
        queue = JobQueue(triage, model=model, queue_of=router.queue_of, retries=3, retry_delay=0, runner=run)
        start = time.perf_counter()
        for number in forges:
            payload = {"action": "synchronize", "number": number, "repository": {"full_name": "bench/taxonomy"},
                       "pull_request": {"number": number, "head": {"sha": f"{number:040x}"}}}
            for job in router.jobs_for("pull_request", f"d{number}", payload, time.time()):
                if job.route in ("triage", "precheck"):
                    queue.submit(job)

        def drain(huey: SqliteHuey) -> None:
            while (task := huey.dequeue()) is not None:
                huey.execute(task)

        model_worker = threading.Thread(target=drain, args=(model,))
        model_worker.start()
        drain(triage)
        model_worker.join()
        return statistics.mean(t - start for t in done.values())


def main() -> None:
    print_verdicts("labelled.jsonl")
    print_verdicts("sealed.jsonl")
    print_verdicts("sealed-2.jsonl")
    print_verdicts("labelled-3.jsonl")
    print_verdicts("sealed-3.jsonl")
    print_verdicts("labelled-4.jsonl")
    print_verdicts("sealed-4.jsonl")
    print_verdicts("labelled-5.jsonl")
    print_verdicts("sealed-5.jsonl")
    if os.environ.get("PRECHECK_SEALED"):
        print_verdicts(Path(os.environ["PRECHECK_SEALED"]))
    if os.environ.get("PRECHECK_VERDICTS_ONLY"):
        return
    skill = [LeafSeeds("compositional_skills/bench/everyday/qna.yaml", "everyday",
                       [{"question": q, "answer": a} for q, a in EVERYDAY])]
    for name, leaves in (("skill, 5 questions", skill), ("knowledge, 15 questions in 5 contexts",
                                                          knowledge_sample())):
        median, p90, runs, cpu = timings(leaves)
        print(f"precheck time per leaf ({name}), embedded model, warm: median {median:.1f} s, p90 {p90:.1f} s "
              f"(runs {', '.join(f'{t:.1f}' for t in runs)}; median CPU {cpu:.1f} s, load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs); target: knowledge median <= 30 s", flush=True)
    without = triage_latency(False)
    with_it = triage_latency(True)
    print(f"triage latency (3 PRs, one worker): {without:.2f} s without the precheck, {with_it:.2f} s with it "
          f"(ratio {with_it / without:.2f})", flush=True)


if __name__ == "__main__":
    main()
