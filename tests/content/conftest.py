"""Content-check fixtures: the models load once per session; one torch thread (the machine is shared)."""

from __future__ import annotations

import json
import re
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


# The independent sets (issue 25) name the value and a category; the category says which type must be raised.
CATEGORY_ENTITY = {"personal_email": "EMAIL_ADDRESS", "created_by_email": "EMAIL_ADDRESS",
                   "street_address": "POSTAL_ADDRESS", "us_ssn": "US_SSN", "passport_number": "PASSPORT",
                   "drivers_licence": "DRIVER_LICENSE", "payment_card": "CREDIT_CARD", "iban": "IBAN_CODE",
                   "uk_nino": "NATIONAL_ID", "aadhaar": "NATIONAL_ID", "german_tax_id": "NATIONAL_ID",
                   "canadian_sin": "NATIONAL_ID"}


def expected_entity(case: dict[str, Any]) -> str | None:
    """The entity type a positive must raise: the set's own type, else its category's (phones by prefix);
    None for a category this table does not know (then any error counts)."""
    entity = case.get("entity")
    if isinstance(entity, str) and re.fullmatch(r"[A-Z]+(?:_[A-Z]+)*", entity):
        return entity
    category = case.get("category", "")
    return "PHONE_NUMBER" if category.startswith("phone") else CATEGORY_ENTITY.get(category)


def case_yaml(case: dict[str, Any]) -> str:
    """A skill holding the case's text where its author put it: an answer, a question, a grounded
    example's context, or `created_by`."""
    field, value = case["field"], case["text"]
    text = skill_yaml([(value if field == "question" else "What is in the record?",
                        value if field == "answer" else "Nothing personal.")])
    if field == "created_by":
        return text.replace("created_by: someone", f"created_by: {json.dumps(value)}")
    if field == "context":
        return text.replace("  - question:", f"  - context: {json.dumps(value, ensure_ascii=False)}\n    question:", 1)
    return text


def pii_outcome(cases: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(positives missed, look-alikes raising an error, look-alike warnings) under the default settings.

    A case is a string a contributor wrote (`field`: answer, question or context) or the `created_by`
    value of a file; a positive counts as found when an error of its entity type is raised on it.
    """
    from checks.config import ChecksConfig
    from checks.content.pii import check_pii

    ctx = CheckContext(ChecksConfig())
    missed, flagged, warned = [], [], []
    for case in cases:
        found = list(check_pii(qna("compositional_skills/x/y/qna.yaml", case_yaml(case)), ctx))
        errors = {f.message.split(" ", 1)[0] for f in found if f.severity is Severity.ERROR}
        entity = expected_entity(case)
        if case["pii"] and (entity not in errors if entity else not errors):
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
