"""Hostile YAML within the limits: each case's time and peak memory beside a typical file, same run.

Every case runs the structural checks in a guarded child process (benchmarks/hostile_yaml.py);
the typical file is a five-example skill. Target: every file within the limits in at most 5 s
and 500 MB. Wall time includes the child's start-up (imports), as does the typical file's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.hostile_yaml import CASES, HEAD, Outcome, examples, run_guarded, write_leaf


def _measure(text: str) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        return run_guarded(write_leaf(Path(folder), text))


def main() -> None:
    typical = _measure(HEAD + examples(5))
    print(f"{'file':<18} {'bytes':>10} {'wall s':>7} {'cpu s':>6} {'peak MB':>8}  first finding")
    print(f"{'typical':<18} {len(HEAD + examples(5)):>10,} {typical.seconds:>7.2f} {typical.cpu_seconds:>6.2f} "
          f"{typical.rss_mb:>8.0f}  -")
    results = {}
    for name, make in CASES.items():
        text = make()
        outcome = _measure(text)
        results[name] = outcome
        first = outcome.findings[0]["message"][:50] if outcome.findings else f"FAILED rc={outcome.returncode}"
        print(f"{name:<18} {len(text.encode()):>10,} {outcome.seconds:>7.2f} {outcome.cpu_seconds:>6.2f} "
              f"{outcome.rss_mb:>8.0f}  {first}")
    worst = max(results, key=lambda n: results[n].cpu_seconds)
    by_rss = max(results, key=lambda n: results[n].rss_mb)
    print(f"worst time: {worst}, {results[worst].cpu_seconds:.2f} s CPU "
          f"({results[worst].cpu_seconds / max(typical.cpu_seconds, 1e-3):.1f}x the typical file; target <= 5 s)")
    print(f"worst memory: {by_rss}, {results[by_rss].rss_mb:.0f} MB "
          f"({results[by_rss].rss_mb / max(typical.rss_mb, 1):.1f}x the typical file; target <= 500 MB)")
