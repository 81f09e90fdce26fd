"""Content-check fixtures: the models load once per session; one torch thread (the machine is shared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checks.document import Document
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
