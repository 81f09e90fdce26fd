"""Upstream parity on 918 real pull requests: an error exactly where upstream's checker found one."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.parity import disagreements, verdicts


@pytest.mark.corpus
@pytest.mark.parametrize("mode", ["latest", "own"])
def test_every_corpus_file_agrees_with_upstream(corpus: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXONOMIST_CORPUS", str(corpus))
    assert len(verdicts(mode)) == 1734
    found = [f"PR {v.pr} {v.file}: upstream {v.errors} errors, ours {ours[:2]}" for v, ours in disagreements(mode)]
    assert found == []


@pytest.mark.corpus
def test_syntax_errors_have_real_positions_and_messages(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where upstream crashed with an empty message, ours says what is wrong and where."""
    from checks.runner import Checker
    from checks.sources import DiskSource

    monkeypatch.setenv("TAXONOMIST_CORPUS", str(corpus))
    crashed = [v for v in verdicts("latest") if v.exception]
    assert len(crashed) == 88
    checker = Checker(only=["yaml-syntax"])
    for verdict in crashed:
        (finding,) = checker.check_file(DiskSource(str(verdict.path))).findings
        assert finding.message.startswith("YAML syntax error: ")
        assert finding.line is not None and finding.line > 1 and finding.column is not None
