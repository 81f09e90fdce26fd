"""The model in the review loop: precheck speed, its cost to triage, and its verdicts on a labelled set.

1. Precheck of a typical five-example leaf (the demo's everyday-facts sample) with the embedded
   model, warm (loaded once, as in the bot's worker): p50 of 5 runs, judge on (the default) and off.
   Target: p50 <= 10 s.
2. Triage latency with the precheck enabled beside without, in the same run: one worker drains a
   queue holding triage and precheck jobs of three pull requests (SQLite huey, the bot's embedded
   queue); the figure is the mean time from submission to each triage job's end. The precheck's
   lower priority should leave it unchanged within noise.
3. Verdict agreement on a labelled set written for this benchmark: leaves of facts the embedded
   model answers correctly (should be `known`) against leaves of invented or niche tasks it cannot
   (should be `new`); prints how many of each get the right verdict.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from checks.config import PrecheckConfig
from pipeline.evaluate.precheck import LeafSeeds, precheck

MODEL = "default"
KNOWN_LEAVES: dict[str, list[tuple[str, str]]] = {
    "everyday_facts": [
        ("What is the capital of France?", "The capital of France is Paris."),
        ("What is the largest ocean on Earth?", "The Pacific Ocean is the largest ocean on Earth."),
        ("What color is the sky on a clear day?", "The sky is blue on a clear day."),
        ("What is the opposite of hot?", "The opposite of hot is cold."),
        ("How many days are there in a week?", "There are seven days in a week.")],
    "counting": [
        ("How many legs does a dog have?", "A dog has four legs."),
        ("How many hours are there in a day?", "There are 24 hours in a day."),
        ("How many months are there in a year?", "There are twelve months in a year."),
        ("How many minutes are there in an hour?", "There are 60 minutes in an hour."),
        ("What is 2 plus 2?", "2 plus 2 equals 4.")],
    "animals": [
        ("What do bees make?", "Bees make honey."),
        ("What is a baby cat called?", "A baby cat is called a kitten."),
        ("What is the largest animal on Earth?", "The blue whale is the largest animal on Earth."),
        ("Which animal is known as the king of the jungle?", "The lion is known as the king of the jungle."),
        ("What do cows drink?", "Cows drink water.")],
    "geography": [
        ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
        ("What is the capital of Italy?", "The capital of Italy is Rome."),
        ("What is the tallest mountain in the world?", "Mount Everest is the tallest mountain in the world."),
        ("What is the largest continent?", "Asia is the largest continent."),
        ("Which planet do we live on?", "We live on planet Earth.")],
}
NEW_LEAVES: dict[str, list[tuple[str, str]]] = {
    "quibnet_folding": [
        (f"How do you zorble a quibnet of size {n}?", f"Fold the quibnet {n} times along its glimmer edge, then "
         "press the vell seam flat.") for n in (2, 3, 4, 5, 6)],
    "zyrthian_phrases": [
        ("Translate 'good morning' into Zyrthian.", "In Zyrthian, 'good morning' is 'vesh na toral'."),
        ("Translate 'thank you' into Zyrthian.", "In Zyrthian, 'thank you' is 'orrim keth'."),
        ("Translate 'water' into Zyrthian.", "The Zyrthian word for water is 'saluun'."),
        ("Translate 'friend' into Zyrthian.", "The Zyrthian word for friend is 'tavrel'."),
        ("Translate 'see you tomorrow' into Zyrthian.", "In Zyrthian, 'see you tomorrow' is 'kel vora dun'.")],
    "brightloom_policies": [
        ("How many vacation days do Brightloom employees get?", "Brightloom employees get 27 vacation days a year."),
        ("Who approves travel at Brightloom?", "Travel at Brightloom is approved by the Wayfinding Desk."),
        ("What is Brightloom's badge colour for contractors?", "Contractors at Brightloom wear teal badges."),
        ("When are Brightloom expense reports due?", "Brightloom expense reports are due on the 3rd working day."),
        ("What is the Brightloom quiet hour?", "Brightloom's quiet hour runs from 14:10 to 15:10 every Tuesday.")],
    "taxonomist_internals": [
        ("What exit status does `taxonomist check` use when it cannot run?", "It exits with status 2."),
        ("Which label does the Taxonomist bot add when the model already knows a leaf?",
         "It adds the label model-already-knows."),
        ("What is the name of Taxonomist's triage check run?", "The check run is called taxonomist/triage."),
        ("Which file holds a Taxonomist repository's configuration?",
         "The configuration lives in .github/taxonomist.yml."),
        ("How many annotations does Taxonomist send per request?", "It sends at most 50 annotations a request.")],
}


def leaf(name: str, pairs: list[tuple[str, str]]) -> LeafSeeds:
    return LeafSeeds(f"compositional_skills/bench/{name}/qna.yaml", name,
                     [{"question": q, "answer": a} for q, a in pairs])


def p50(judge: str | None, runs: int = 5) -> tuple[float, list[float]]:
    five = [leaf("everyday_facts", KNOWN_LEAVES["everyday_facts"])]
    precheck(five, PrecheckConfig(), model=MODEL, judge=judge)  # warm: load once, as a worker does
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        precheck(five, PrecheckConfig(), model=MODEL, judge=judge)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def agreement() -> dict[str, Any]:
    config = PrecheckConfig()
    known = precheck([leaf(n, p) for n, p in KNOWN_LEAVES.items()], config, model=MODEL, judge="none")
    new = precheck([leaf(n, p) for n, p in NEW_LEAVES.items()], config, model=MODEL, judge="none")
    return {"known": [(f["source"], f["verdict"]) for f in known["files"]],
            "new": [(f["source"], f["verdict"]) for f in new["files"]],
            "similarity": {side: [round(statistics.mean(e["similarity"] for e in f["examples"]), 3)
                                  for f in result["files"]] for side, result in (("known", known), ("new", new))}}


def triage_latency(with_precheck: bool, prs: int = 3) -> float:
    """Mean seconds from submission to the end of each PR's triage job, one worker, one queue."""
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
                                 review_section=router.review_section, precheck=setup)
            router.dispatch(job, ctx)
            if job.route.endswith("triage_pull_request"):
                done[job.pr] = time.perf_counter()

        huey = SqliteHuey("bench", filename=str(Path(tmp) / "queue.db"))
        queue = JobQueue(huey, retries=3, retry_delay=0, runner=run)
        start = time.perf_counter()
        for number in forges:
            payload = {"action": "synchronize", "number": number, "repository": {"full_name": "bench/taxonomy"},
                       "pull_request": {"number": number, "head": {"sha": f"{number:040x}"}}}
            for job in router.jobs_for("pull_request", f"d{number}", payload, time.time()):
                if job.route.endswith(("triage_pull_request", "precheck_pull_request")):
                    queue.submit(job)
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
        return statistics.mean(t - start for t in done.values())


def main() -> None:
    found = agreement()
    right_known = sum(v == "known" for _, v in found["known"])
    right_new = sum(v == "new" for _, v in found["new"])
    print(f"verdicts: known leaves {right_known}/{len(found['known'])} `known` {found['known']}")
    print(f"          new leaves {right_new}/{len(found['new'])} `new` {found['new']}")
    print(f"          mean similarity per leaf: {found['similarity']}", flush=True)
    judged, judged_runs = p50(None)
    bare, _ = p50("none", runs=3)
    print(f"precheck, five-example leaf, embedded model, warm: p50 {judged:.2f} s with the judge (runs "
          f"{', '.join(f'{t:.1f}' for t in judged_runs)}), {bare:.2f} s without; target <= 10 s", flush=True)
    without = triage_latency(False)
    with_it = triage_latency(True)
    print(f"triage latency (3 PRs, one worker): {without:.2f} s without the precheck, {with_it:.2f} s with it "
          f"(ratio {with_it / without:.2f})", flush=True)


if __name__ == "__main__":
    main()
