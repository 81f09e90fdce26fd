"""Reconciliation's API calls with 1,000 open PRs (issue 24), against the GitHub emulator.

One repository of 1,000 open PRs, each head with this app's completed `taxonomist/triage` check run.
Walks, each counted in calls the emulator served: the first (an empty store of known heads: one check
per head), a second with nothing missing (target: about one call per 100 open PRs), and a third after
20 PRs were opened while no bot listened (their triage queued, nothing else). Each walk also reads the
app's delivery log. Then the time from starting `taxonomist bot serve` to the last of 20 PRs opened while
it was down being triaged (structural checks; half of them with a failed delivery in the log).
Needs the corpus (GitHub's REST description); a run takes a few minutes.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.github import corpus, installed_app

OPEN_PRS = int(os.environ.get("BENCH_RECONCILE_PRS", "1000"))
MISSING = 20


def restart_to_triaged(found: Path, missed: int = MISSING) -> None:
    import json

    from tests.bot.process import SECRET, BotProcess
    from tests.bot.world import APP_ID, World, clean_contribution, settled, wait_for
    from tests.emulator.webhooks import Webhook, deliver_logged

    with tempfile.TemporaryDirectory(prefix="bench-reconcile-restart-") as tmp:
        bot = BotProcess.configure(Path(tmp), TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_APP_ID=str(APP_ID),
                                   TAXONOMIST_RECONCILE_MINUTES="10")
        world = World.start(Path(bot.env["TAXONOMIST_PRIVATE_KEY"]), found)
        bot.env["TAXONOMIST_GITHUB_API_URL"] = world.server.url
        try:
            numbers = [world.open_pull(f"skill-{n}", clean_contribution(f"compositional_skills/linguistics/s{n}"))
                       for n in range(missed)]
            for number in numbers[::2]:
                event = Webhook("pull_request", json.loads(world.pull_request_event(number, "opened")))
                deliver_logged(world.client, APP_ID, f"{bot.url}/webhook", event, SECRET)
            began = time.monotonic()
            bot.start()
            healthy = time.monotonic() - began
            for number in numbers:
                wait_for(lambda n=number: settled(world, n, {"skill"}), timeout=600, logs=bot.logs)
            print(f"restart to the last of {missed} missed PRs triaged: {time.monotonic() - began:.1f} s "
                  f"(healthy after {healthy:.1f} s; structural checks, one worker thread)", flush=True)
        finally:
            bot.stop()
            world.stop()


def main() -> None:
    import requests
    from huey import SqliteHuey

    from bot.forges.forge import pr_tag
    from bot.forges.github import GitHubApp
    from bot.forges.heads import CHECK_RUN_NAME
    from bot.reconcile.run import Reconciler
    from bot.service.handlers import load_handlers
    from bot.service.queue import JobQueue

    found = corpus()
    if found is None:
        print("skipped: the corpus (GitHub's REST description) is absent; set TAXONOMIST_CORPUS")
        return
    with installed_app(found) as installed:
        gh, installation = installed.gh, installed.installation
        repo = "octo-org/taxonomy"
        gh.create_repo(repo, {"README.md": "# Taxonomy\n"})
        start = time.perf_counter()
        heads = {}
        for n in range(OPEN_PRS):
            pull = gh.open_pull(repo, f"pr-{n}", files={f"compositional_skills/s{n}/qna.yaml": "version: 3\n"})
            heads[int(pull["number"])] = pull["head"]["sha"]
        app = GitHubApp(installed.settings)
        token = app.integration.get_access_token(installation).token
        session = requests.Session()
        session.headers["Authorization"] = f"token {token}"
        for number, head in heads.items():  # this app's completed triage on every head
            answer = session.post(f"{installed.url}/repos/{repo}/check-runs", timeout=30, json={
                "name": CHECK_RUN_NAME, "head_sha": head, "status": "completed", "conclusion": "success",
                "external_id": pr_tag(number), "output": {"title": "ok", "summary": "ok"}})
            answer.raise_for_status()
        print(f"seeded {OPEN_PRS} open PRs with completed triage in {time.perf_counter() - start:.0f} s",
              flush=True)
        router = load_handlers()
        queue = JobQueue(SqliteHuey("bench", filename=str(installed.tmp / "queue.sqlite3")),
                         queue_of=router.queue_of)
        reconciler = Reconciler(app, queue, router)

        def walk(label: str) -> None:
            gh.clear_calls()
            began = time.perf_counter()
            report = reconciler.run()
            seconds = time.perf_counter() - began
            calls = gh.calls()
            kinds: dict[str, int] = {}
            for call in calls:
                kinds[call["operation"] or call["path"]] = kinds.get(call["operation"] or call["path"], 0) + 1
            print(f"{label}: {len(calls)} calls for {report.open_pulls} open PRs "
                  f"({100 * len(calls) / max(report.open_pulls, 1):.2f} per 100), {report.checked} heads checked, "
                  f"{len(report.triage_queued)} triage queued, {len(report.review_queued)} review queued, "
                  f"{seconds:.1f} s; by operation: {dict(sorted(kinds.items()))}", flush=True)

        walk("first walk, empty store, nothing missing")
        walk("second walk, nothing missing")
        for n in range(MISSING):  # opened while no bot listened: no delivery, no check run
            gh.open_pull(repo, f"missed-{n}", files={f"compositional_skills/m{n}/qna.yaml": "version: 3\n"})
        walk(f"third walk, {MISSING} PRs missing")
        walk("fourth walk, the missing PRs' triage still queued (not run here)")
        gh.assert_no_violations()
    restart_to_triaged(found)


if __name__ == "__main__":
    main()
