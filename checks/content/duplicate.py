"""`duplicate`: near-copies of existing examples, a leaf that teaches a task an existing leaf already
teaches (scored leaf to leaf, from all examples), and, as a quality note on the file alone,
near-identical examples inside one file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher

import numpy as np

from checks.content.texts import examples
from checks.content.vectors import embed_cached
from checks.context import CheckContext
from checks.document import format_yaml_path
from checks.excerpt import excerpt as quote
from checks.findings import Finding, Severity
from checks.index import EmbeddingIndex, centroid
from checks.paths import leaf_of
from checks.qna import QnaFile

CHECK = "duplicate"
# Two alike examples inside one file are a note on that file's quality, not a copy of someone else's
# leaf: they are reported at `info`, which is how the bot tells them from a `possible-duplicate`.
WITHIN_FILE = Severity.INFO
QUALITY_NOTE = "quality note"


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers(text: str) -> list[str]:
    return sorted(NUMBER.findall(text))


def same_example(a: str, b: str, context_a: str, context_b: str) -> bool:
    """Whether two similar texts can be the same example. The embedding model is nearly blind to
    numbers (other numbers make a new example), and a grounded example on another context is new."""
    return context_a == context_b and numbers(a) == numbers(b)


COPY_RATIO = 0.9  # character-level similarity above which a near-duplicate is a copy (an error)


def is_copy(a: str, b: str) -> bool:
    """Literally the same text, give or take a few characters: safe to block on.

    The embedding is blind to format (CSV vs Markdown answers) and to small edits that change
    the lesson, so a high embedding score alone only warns.
    """
    x, y = " ".join(a.lower().split()), " ".join(b.lower().split())
    matcher = SequenceMatcher(None, x, y, autojunk=False)
    return matcher.real_quick_ratio() >= COPY_RATIO and matcher.quick_ratio() >= COPY_RATIO \
        and matcher.ratio() >= COPY_RATIO


def where(origin: str) -> str:
    return "the merged taxonomy" if origin == "base" else f"open {origin}"


def check_duplicate(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    cfg = ctx.config.duplicates
    found = examples(qna.data)
    if not found:
        return
    vectors = embed_cached([e.text for e in found])

    def severity(score: float, a: str, b: str) -> Severity:
        return Severity.ERROR if score >= cfg.block_at and is_copy(a, b) else Severity.WARNING

    scores = vectors @ vectors.T
    for i, j in zip(*np.triu_indices(len(found), 1), strict=True):
        score = float(scores[i, j])
        if score >= cfg.warn_at and same_example(found[i].text, found[j].text, found[i].context_key,
                                                 found[j].context_key):
            how = "a copy of each other" if is_copy(found[i].text, found[j].text) else "near-identical"
            yield qna.finding(
                CHECK, WITHIN_FILE,
                f"{QUALITY_NOTE}: examples {format_yaml_path(found[i].at)} and {format_yaml_path(found[j].at)} of "
                f"this file are {how} (similarity {score:.2f}): make each example teach something different",
                at=found[j].at)

    index: EmbeddingIndex | None = ctx.index
    if index is None or not len(index):
        return
    own_leaf = leaf_of(qna.tax_path) if qna.tax_path is not None else qna.path
    for example, match in zip(found, index.nearest(vectors, exclude_leaf=own_leaf), strict=True):
        if match is not None and match.score >= cfg.warn_at and same_example(
                example.text, match.example.text, example.context_key, match.example.context):
            yield qna.finding(
                CHECK, severity(match.score, example.text, match.example.text),
                f"near-duplicate of {match.leaf} {match.example.yaml_path} in {where(match.origin)} "
                f"(similarity {match.score:.2f}): \u201c{quote(example.text)}\u201d vs "
                f"\u201c{quote(match.example.text)}\u201d; write a new example or extend that leaf",
                at=example.at)
    leaf = index.nearest_leaf(centroid(vectors), exclude_leaf=own_leaf)
    if leaf is not None and leaf.score >= cfg.same_task_at:
        yield qna.finding(
            CHECK, Severity.WARNING,
            f"this leaf teaches the task that {leaf.leaf} in {where(leaf.origin)} already teaches (leaf "
            f"similarity {leaf.score:.2f} over all examples): add your examples to that leaf, or make the task "
            "distinct", at=("seed_examples",), key=True)
