"""Faults: ~20% of API calls failing and the bot SIGKILLed three times mid-run; nothing is lost.

A smaller run of the benchmark's scenario (`benchmarks/bench_bot.py` runs 200 PR events).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.scenarios import fault_run, start

pytestmark = pytest.mark.corpus


def test_every_pr_ends_triaged_at_its_head_despite_faults_and_kills(tmp_path: Path, corpus: Path) -> None:
    world, bot = start(tmp_path, corpus, TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_JOB_RETRIES="8",
                       TAXONOMIST_RETRY_DELAY="0.5", TAXONOMIST_API_RETRIES="4", TAXONOMIST_REQUEST_TIMEOUT="2")
    try:
        outcome = fault_run(world, bot, prs=18, kills=3, kill_every=1.5, timeout=180)
    finally:
        bot.kill()
        world.stop()
    assert outcome.faults_hit > 0 and outcome.kills == 3
    assert outcome.problems == []
    assert outcome.completed_at_head == outcome.prs, outcome
    assert outcome.one_comment == outcome.prs, outcome
    assert outcome.right_labels == outcome.prs, outcome
    assert outcome.right_conclusion == outcome.prs, outcome
    assert outcome.stuck_check_runs == 0 and outcome.unfinished_jobs == 0, outcome
