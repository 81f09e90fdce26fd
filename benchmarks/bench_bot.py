"""The GitHub App against the GitHub emulator: triage latency, and faults with crashes.

Latency: webhook posted to check run completed, one typical contribution (the sample antonyms
leaf) at a time, 100 PRs, with every check (content checks' models warm after three warm-up PRs),
against a baseline measured in the same run: the same flow with the structural checks only.
Targets on the project's 2-core machine: p50 < 1.5 s, p95 < 3 s.

API calls: how many calls one review event (a `/lgtm` comment) and one retried triage cost, by
the number of commits in the PR (dating the head lists the triage check runs of each commit),
against a baseline measured in the same run: a PR of one commit.

Faults: 200 PR events (150 PRs opened, every third pushed to again) with about 20% of API calls
failing (5xx, primary and secondary rate limits, timeouts) and the bot SIGKILLed three times:
counts of PRs that end with a completed check run at their latest head, exactly one comment, the
right labels, and jobs left unfinished. Needs the corpus (GitHub's REST description); a run takes
about 10 minutes.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.github import corpus, installed_app

ROOT = Path(__file__).resolve().parents[1]
LATENCY_PRS = int(os.environ.get("BENCH_BOT_PRS", "100"))
CALL_COMMITS = (1, 5, 20)  # PR sizes for the API-call counts; the first is the baseline
FAULT_PRS = int(os.environ.get("BENCH_BOT_FAULT_PRS", "150"))


def latency(tmp: Path, found: Path, skip: str, count: int) -> list[float]:
    from tests.bot.scenarios import latency_run, start

    world, bot = start(tmp, found, TAXONOMIST_SKIP_CHECKS=skip)
    try:
        latency_run(world, bot, 3)  # warm-up: models loaded, caches filled
        return latency_run(world, bot, count)
    finally:
        bot.stop()
        world.stop()


def api_calls(found: Path, commits: int) -> tuple[int, int, int]:
    """(calls of one `/lgtm` review event, calls of one retried triage, writes of that triage)."""
    import time

    from bot.demo import SAMPLES
    from bot.forges.github import GitHubApp
    from bot.review.workflow import review_pull_request, review_section_for
    from bot.service.jobs import Job
    from bot.triage.run import triage
    from tests.bot.world import clean_contribution, tree

    with installed_app(found) as app:
        gh, installation = app.gh, app.installation
        config = "review:\n  maintainers: [alice, bob]\n  approvers: [dave]\n"
        gh.create_repo("octo-org/taxonomy", {**tree(SAMPLES / "taxonomy"), ".github/taxonomist.yml": config})
        leaf = clean_contribution("compositional_skills/linguistics/opposites")
        number = int(gh.open_pull("octo-org/taxonomy", "opposites", files=leaf, user="carla")["number"])
        forge = GitHubApp(app.settings).forge("octo-org/taxonomy", installation)

        def triaged() -> None:
            triage(forge, number, skip=("content",), review_section=review_section_for)
            time.sleep(1.05)  # GitHub's times are to the second: pushes come at least a second apart

        triaged()
        for i in range(1, commits):
            gh.push_to_pull("octo-org/taxonomy", number, {f"notes/{i}.txt": f"{i}\n"}, author="carla")
            triaged()
        comment = gh.comment_as("alice", "octo-org/taxonomy", number, "/lgtm")
        job = Job(route="review", event="issue_comment", action="created", delivery="bench",
                  repo="octo-org/taxonomy", installation=installation, pr=number, head_sha=None,
                  payload={"comment": comment}, received_at=time.time(), coalesce=False)
        gh.clear_calls()
        review_pull_request(job, forge, retriage=lambda: None)
        review = len(gh.calls())
        gh.clear_calls()
        triage(forge, number, skip=("content",), review_section=review_section_for)
        calls = gh.calls()
    return review, len(calls), sum(1 for c in calls if c["method"] != "GET")


def describe(name: str, seconds: list[float]) -> tuple[float, float]:
    from tests.bot.scenarios import percentile

    p50, p95 = statistics.median(seconds), percentile(seconds, 95)
    print(f"{name:<34} n={len(seconds):<4} p50 {p50:6.3f} s   p95 {p95:6.3f} s   max {max(seconds):6.3f} s")
    return p50, p95


def main() -> None:
    sys.path.insert(0, str(ROOT))
    found = corpus()
    if found is None:
        print("bench_bot: skipped: the corpus (github/rest-openapi.json) is not at TAXONOMIST_CORPUS")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tests.bot.scenarios import fault_run, start

    counts = {n: api_calls(found, n) for n in CALL_COMMITS}
    base_review, base_triage, _ = counts[CALL_COMMITS[0]]
    for n, (review, retriage, writes) in counts.items():
        print(f"PR of {n:>2} commits: /lgtm review event {review:3d} API calls ({review / base_review:.2f}x),"
              f"  retried triage {retriage:3d} calls ({retriage / base_triage:.2f}x), {writes} writes")
    if os.environ.get("BENCH_BOT_ONLY") == "calls":
        return

    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp:
        base = latency(Path(tmp) / "structural", found, "content", LATENCY_PRS)
        full = latency(Path(tmp) / "all", found, "", LATENCY_PRS)
        b50, b95 = describe("baseline: structural checks only", base)
        f50, f95 = describe("all checks (models warm)", full)
        print(f"ratio all/baseline: p50 {f50 / b50:.2f}x  p95 {f95 / b95:.2f}x")
        print(f"targets: p50 < 1.5 s: {'met' if f50 < 1.5 else 'MISSED'};  p95 < 3 s: {'met' if f95 < 3 else 'MISSED'}")

        world, bot = start(Path(tmp) / "faults", found, TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_JOB_RETRIES="8",
                           TAXONOMIST_RETRY_DELAY="0.5", TAXONOMIST_API_RETRIES="4", TAXONOMIST_REQUEST_TIMEOUT="2")
        try:
            out = fault_run(world, bot, prs=FAULT_PRS, kills=3, kill_every=20.0, timeout=1200)
        finally:
            bot.kill()
            world.stop()
        print(f"faults: {out.events} PR events on {out.prs} PRs, {out.api_calls} API calls, {out.faults_hit} failed "
              f"({out.faults_hit / max(out.api_calls, 1):.0%}), bot SIGKILLed {out.kills} times, {out.seconds:.0f} s")
        print(f"  completed check run at latest head: {out.completed_at_head}/{out.prs}")
        print(f"  exactly one bot comment:            {out.one_comment}/{out.prs}")
        print(f"  right labels:                       {out.right_labels}/{out.prs}")
        print(f"  right conclusion:                   {out.right_conclusion}/{out.prs}")
        print(f"  check runs left in progress:        {out.stuck_check_runs}")
        print(f"  jobs lost (unfinished in journal):  {out.unfinished_jobs}")
        for problem in out.problems[:10]:
            print(f"  problem: {problem}")


if __name__ == "__main__":
    main()
