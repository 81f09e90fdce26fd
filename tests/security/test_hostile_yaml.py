"""Hostile qna.yaml files within the size limit: findings, never a traceback, a hang or gigabytes.

Each file is checked in a child process under an address-space and CPU-time guard
(benchmarks/hostile_yaml.py), so a blow-up fails the test instead of the machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.hostile_yaml import CASES, run_guarded, write_leaf
from checks.document import Limits

# (check, words in the message) each case must produce
EXPECTED = {
    "alias-bomb": ("yaml-syntax", "checks.limits.max_expanded_chars"),
    "many-examples": ("yamllint", "checks.limits.yamllint_max_lines"),
    "many-keys": ("yaml-syntax", "checks.limits.max_nodes"),
    "most-keys-linted": ("schema", "and 9,895 more not allowed"),
    "one-big-string": ("yamllint", "checks.limits.yamllint_max_bytes"),
    "many-lines": ("yamllint", "checks.limits.yamllint_max_bytes"),
    "odd-keys": ("schema", "`1`, `yes`, `~`, `3.5`, `2001-12-14` not allowed"),
    "long-integer": ("yaml-syntax", "a number with 5,000 digits is too long"),
    **{f"huge-{name}": ("yaml-syntax", "is too large to read (at most 4,300 decimal digits)")
       for name in ("hex", "binary", "octal", "base60", "underscores")},
    "long-key": ("schema", "kkk...` not allowed at the top level of the file"),
    "recursive-alias": ("yaml-syntax", "refers to a collection that contains it"),
}
RSS_MB = 500


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_gets_findings_within_bounds(name: str, tmp_path: Path) -> None:
    text = CASES[name]()
    assert len(text.encode()) <= Limits().max_bytes  # within the size limit: the other bounds must hold
    outcome = run_guarded(write_leaf(tmp_path, text))
    assert outcome.returncode == 0, f"killed or crashed under the guard: {outcome.stderr}"
    assert outcome.rss_mb < RSS_MB
    check, words = EXPECTED[name]
    hits = [f for f in outcome.findings if f["check"] == check and words in f["message"]]
    assert hits, outcome.findings
    assert hits[0]["severity"] == "error" and hits[0].get("line") is not None
    assert all(len(f["message"]) < 1000 for f in outcome.findings)  # paths and excerpts, never instances


def test_alias_bomb_is_reported_at_the_alias_that_crosses_the_bound(tmp_path: Path) -> None:
    outcome = run_guarded(write_leaf(tmp_path, CASES["alias-bomb"]()))
    (finding,) = outcome.findings
    assert finding["line"] > 4  # an alias under seed_examples, not the anchor on line 3


def test_every_case_is_in_the_expectations() -> None:
    assert set(EXPECTED) == set(CASES)
