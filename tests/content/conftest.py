"""Content-check fixtures: the models load once per session; one torch thread (the machine is shared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checks.context import CheckContext
from checks.document import Document
from checks.findings import Severity
from checks.qna import QnaFile
from checks.sources import MemorySource

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def pii_cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / "pii_cases.jsonl").read_text(encoding="utf-8").splitlines()]


def labelled(name: str) -> list[dict[str, Any]]:
    """The cases of a labelled JSONL set under data/, its header line (provenance) left out."""
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "header" not in r]


def pii_outcome(cases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(positives missed, look-alikes raising an error, look-alike warnings) under the default settings.

    A case is a string a contributor wrote (`field`: answer) or the `created_by` value of a file;
    a positive counts as found when an error of its entity type is raised on it.
    """
    from checks.config import ChecksConfig
    from checks.content.pii import check_pii

    ctx = CheckContext(ChecksConfig())
    missed, flagged, warned = [], [], []
    for case in cases:
        text = skill_yaml([("What is in the record?", case["text"])] if case["field"] == "answer" else
                          [("What is in the record?", "Nothing personal.")])
        if case["field"] == "created_by":
            text = text.replace("created_by: someone", f"created_by: {json.dumps(case['text'])}")
        found = list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), ctx))
        errors = {f.message.split(" ", 1)[0] for f in found if f.severity is Severity.ERROR}
        if case["pii"] and case["entity"] not in errors:
            missed.append(case)
        if not case["pii"] and errors:
            flagged.append(case)
        if not case["pii"]:
            warned += [f.message for f in found if f.severity is Severity.WARNING]
    return missed, flagged, warned


HOSTILE_TOPICS = ("hostile or profane language", "hostile language", "discrimination", "threats", "cyber bullying",
                  "violence and self-harm")


def abuse_outcome(cases: list[dict[str, Any]]) -> tuple[int, int, int, list[dict[str, Any]]]:
    """(true positives, false negatives, false positives, the cases judged wrongly) of the `topic` check's
    hate/abuse/profanity findings, each case written as the answer of a skill's seed example."""
    from checks.config import ChecksConfig
    from checks.content.topic import check_topic

    ctx = CheckContext(ChecksConfig())
    tp = fn = fp = 0
    wrong = []
    for case in cases:
        text = skill_yaml([("What did they write?", case["text"])])
        flagged = any(f.message.startswith(HOSTILE_TOPICS) for f in check_topic(qna("compositional_skills/x/y/qna.yaml",
                                                                                     text), ctx))
        tp += flagged and case["abusive"]
        fn += not flagged and case["abusive"]
        fp += flagged and not case["abusive"]
        if flagged != case["abusive"]:
            wrong.append(case)
    return tp, fn, fp, wrong


def qna(path: str, text: str) -> QnaFile:
    """A parsed file at a taxonomy path, for calling a check function directly."""
    return QnaFile(source=MemorySource(path, text.encode()), document=Document.parse(text), version=3)


def skill_yaml(pairs: list[tuple[str, str]], task: str = "a task") -> str:
    """A v3 skill with these question/answer pairs, each value on one line (positions are predictable)."""
    lines = ["version: 3", "created_by: someone", f"task_description: {json.dumps(task)}", "seed_examples:"]
    for q, a in pairs:
        lines += [f"  - question: {json.dumps(q, ensure_ascii=False)}",
                  f"    answer: {json.dumps(a, ensure_ascii=False)}"]
    return "\n".join(lines) + "\n"
