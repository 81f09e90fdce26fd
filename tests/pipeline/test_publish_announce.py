"""`taxonomist bot announce-build`: one comment and one label per merged PR, idempotent on rerun."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.announce.run import LABEL, LABEL_COLOR, AnnounceError, Announcement, announce


class RecordingForge:
    """The slice of the forge interface announcing uses, keeping comments and labels in memory."""

    def __init__(self, pulls: dict[str, list[int]] | None = None) -> None:
        self.pulls = pulls if pulls is not None else {SHA_A: [7], SHA_B: [9]}  # GitHub's commit -> PR association
        self.comments: dict[int, dict[int, str]] = {}
        self.label_sets: dict[int, set[str]] = {}
        self.repo_labels: dict[str, str] = {}
        self.next_id = 1

    def find_comment(self, number: int, marker: str) -> tuple[int, str] | None:
        return next(((cid, body) for cid, body in self.comments.get(number, {}).items() if marker in body), None)

    def create_comment(self, number: int, body: str) -> int:
        self.comments.setdefault(number, {})[self.next_id] = body
        self.next_id += 1
        return self.next_id - 1

    def edit_comment(self, comment_id: int, body: str) -> None:
        for bodies in self.comments.values():
            if comment_id in bodies:
                bodies[comment_id] = body

    def labels(self, number: int) -> set[str]:
        return set(self.label_sets.get(number, set()))

    def add_labels(self, number: int, names: list[str]) -> None:
        self.label_sets.setdefault(number, set()).update(names)

    def ensure_label(self, name: str, color: str, description: str) -> None:
        self.repo_labels.setdefault(name, color)

    def merged_pulls_of(self, sha: str) -> list[int]:
        return self.pulls.get(sha, [])


SHA_A, SHA_B = "a" * 40, "b" * 40


def write_report(build: Path, published: bool = True) -> None:
    build.mkdir(parents=True, exist_ok=True)
    report = {"taxonomy": {"commit": "c0ffee" + "0" * 34, "prs": [7, 9], "commits": {SHA_A: ["a"], SHA_B: ["b"]}},
              "leaves": {"used": ["a", "b"]},
              "gate": {"passed": True}}
    if published:
        report["published"] = {"path": str(build / "published")}
    (build / "build.json").write_text(json.dumps(report))


def test_each_merged_pr_gets_one_comment_and_the_label_even_when_run_twice(tmp_path: Path) -> None:
    write_report(tmp_path)
    forge = RecordingForge()
    assert announce(forge, tmp_path) == Announcement(announced=[7, 9])
    assert announce(forge, tmp_path) == Announcement(announced=[7, 9])
    for number in (7, 9):
        assert len(forge.comments[number]) == 1
        assert "c0ffee" in next(iter(forge.comments[number].values()))
        assert forge.label_sets[number] == {LABEL}
    assert forge.repo_labels == {LABEL: LABEL_COLOR}


def test_an_unpublished_build_is_not_announced(tmp_path: Path) -> None:
    write_report(tmp_path, published=False)
    with pytest.raises(AnnounceError, match="not published"):
        announce(RecordingForge(), tmp_path)
