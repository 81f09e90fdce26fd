"""`duplicate`: near-copies of existing examples, a whole leaf copied from another (one error naming that
leaf), a leaf that teaches a task an existing leaf already teaches (scored leaf to leaf, from all
examples), and, as a quality note on the file alone, near-identical examples inside one file.

Merged leaves and open PRs' leaves are matched apart (the best of each), and every finding carries
its matches as data (`Finding.similar`), so a reader never parses the message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher

import numpy as np

from checks.content.texts import Example, examples
from checks.content.vectors import embed_cached
from checks.context import CheckContext
from checks.document import format_yaml_path
from checks.embeddings import comparable
from checks.excerpt import excerpt as quote
from checks.findings import MERGED, Finding, Severity, Similar
from checks.index import EmbeddingIndex, LeafMatch, Match, centroid
from checks.paths import leaf_of
from checks.qna import QnaFile

CHECK = "duplicate"
# Two alike examples inside one file are a note on that file's quality, not a copy of someone else's
# leaf: they are reported at `info`, which is how the bot tells them from a `possible-duplicate`.
WITHIN_FILE = Severity.INFO
QUALITY_NOTE = "quality note"


NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
                "thousand million billion half twice")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*|\b(?:" + "|".join(NUMBER_WORDS.split()) + r")\b", re.IGNORECASE)


def numbers(text: str) -> list[str]:
    """The numbers in a text, written in digits or in words ("three sisters")."""
    return sorted(n.lower() for n in NUMBER.findall(text))


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


def words(text: str) -> list[str]:
    return " ".join(text.lower().split()).split(" ")


def minimal_pair(a: Example, b: Example) -> bool:
    """Two examples of one file that differ in the question and in the answer by a few words
    ("one brother" / "two brothers"): a deliberate contrast that teaches, not a copy."""
    if words(a.question) == words(b.question) or words(a.answer) == words(b.answer):
        return False
    return is_copy(a.text, b.text)


def where(origin: str) -> str:
    return "the merged taxonomy" if origin == MERGED else f"open {origin}"


def _similar(leaf: str, match: LeafMatch | Match, pairs: tuple[tuple[str, str], ...] = ()) -> Similar:
    return Similar(leaf=leaf, matched_leaf=match.leaf, origin=match.origin, score=match.score, examples=pairs)


def within_file(qna: QnaFile, found: list[Example], vectors: np.ndarray, warn_at: float) -> Iterator[Finding]:
    """Quality notes on examples of one file that say the same thing twice."""
    scores = comparable(vectors @ vectors.T)
    for i, j in zip(*np.triu_indices(len(found), 1), strict=True):
        a, b = found[i], found[j]
        score = float(scores[i, j])
        if score >= warn_at and same_example(a.text, b.text, a.context_key, b.context_key) \
                and not minimal_pair(a, b):
            how = "a copy of each other" if is_copy(a.text, b.text) else "near-identical"
            yield qna.finding(
                CHECK, WITHIN_FILE,
                f"{QUALITY_NOTE}: examples {format_yaml_path(a.at)} and {format_yaml_path(b.at)} of "
                f"this file are {how} (similarity {score:.2f}): make each example teach something different",
                at=b.at)


def whole_copy(found: list[Example], matches: list[Match | None], block_at: float) -> list[Match] | None:
    """The matches, when every example of the file is a copy of an example of one and the same leaf."""
    copies = [m for e, m in zip(found, matches, strict=True)
              if m is not None and m.score >= block_at and is_copy(e.text, m.example.text)]
    return copies if len(copies) == len(found) and len({(m.origin, m.leaf) for m in copies}) == 1 else None


def check_duplicate(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    cfg = ctx.config.duplicates
    found = examples(qna.data)
    if not found:
        return
    vectors = embed_cached([e.text for e in found])
    yield from within_file(qna, found, vectors, cfg.warn_at)

    index: EmbeddingIndex | None = ctx.index
    if index is None or not len(index):
        return
    own_leaf = leaf_of(qna.tax_path) if qna.tax_path is not None else qna.path
    # Per kind of origin (merged, open PRs), each example's best match that counts, or None.
    by_kind: dict[bool, list[Match | None]] = {True: [None] * len(found), False: [None] * len(found)}
    for n, (example, best) in enumerate(zip(found, index.nearest(vectors, exclude_leaf=own_leaf), strict=True)):
        for match in best:
            if match.score >= cfg.warn_at and same_example(example.text, match.example.text, example.context_key,
                                                           match.example.context):
                by_kind[match.origin == MERGED][n] = match
    copied: set[tuple[str, str]] = set()
    for kind in by_kind.values():
        copies = whole_copy(found, kind, cfg.block_at)
        if copies is None:
            continue
        first = copies[0]
        pairs = tuple((format_yaml_path(e.at), m.example.yaml_path) for e, m in zip(found, copies, strict=True))
        copied.add((first.origin, first.leaf))
        lowest, highest = min(m.score for m in copies), max(m.score for m in copies)
        scores = f"{lowest:.2f}" if f"{lowest:.2f}" == f"{highest:.2f}" else f"{lowest:.2f} to {highest:.2f}"
        yield qna.finding(
            CHECK, Severity.ERROR,
            f"this whole leaf is a copy of {first.leaf} in {where(first.origin)} (all {len(found)} examples, "
            f"similarity {scores}): extend that leaf instead, or close this pull request",
            at=("seed_examples",), key=True, similar=(_similar(own_leaf, first, pairs),))
    for n, example in enumerate(found):
        matches = [m for m in (by_kind[True][n], by_kind[False][n]) if m is not None
                   and (m.origin, m.leaf) not in copied]
        if not matches:
            continue
        severity = Severity.ERROR if any(m.score >= cfg.block_at and is_copy(example.text, m.example.text)
                                         for m in matches) else Severity.WARNING
        named = " and of ".join(f"{m.leaf} {m.example.yaml_path} in {where(m.origin)} (similarity {m.score:.2f})"
                                for m in matches)
        yield qna.finding(
            CHECK, severity,
            f"near-duplicate of {named}: \u201c{quote(example.text)}\u201d vs "
            f"\u201c{quote(matches[0].example.text)}\u201d; write a new example or extend that leaf",
            at=example.at,
            similar=tuple(_similar(own_leaf, m, ((format_yaml_path(example.at), m.example.yaml_path),))
                          for m in matches))
    leaves = [leaf for leaf in index.nearest_leaves(centroid(vectors), exclude_leaf=own_leaf)
              if leaf.score >= cfg.same_task_at and (leaf.origin, leaf.leaf) not in copied]
    if leaves:
        named = " and ".join(f"{leaf.leaf} in {where(leaf.origin)}" for leaf in leaves)
        scores = ", ".join(f"{leaf.score:.2f}" for leaf in leaves)
        yield qna.finding(
            CHECK, Severity.WARNING,
            f"this leaf teaches the task that {named} already teach{'es' * (len(leaves) == 1)} (leaf "
            f"similarity {scores} over all examples): add your examples to that leaf, or make the task "
            "distinct", at=("seed_examples",), key=True, similar=tuple(_similar(own_leaf, leaf) for leaf in leaves))
