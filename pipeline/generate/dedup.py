"""Deduplication of generated samples: exact (normalised text) and near duplicates (embeddings).

A sample is compared with the samples kept before it and with reference samples (the leaf's
seeds, held-out ones included, so the evaluation's questions never leak into training).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def sample_text(sample: dict[str, str]) -> str:
    return f"{sample['question']}\n{sample['answer']}"


def deduplicate(samples: Sequence[dict[str, str]], reference: Sequence[dict[str, str]] = (),
                near: float = 0.95) -> tuple[list[dict[str, str]], Counter[str]]:
    """(kept, dropped counts by `duplicate_exact` / `duplicate_near`); `near` >= 1 disables embeddings."""
    dropped: Counter[str] = Counter()
    seen = {normalise(sample_text(r)) for r in reference}
    exact_unique = []
    for sample in samples:
        key = normalise(sample_text(sample))
        if key in seen:
            dropped["duplicate_exact"] += 1
        else:
            seen.add(key)
            exact_unique.append(sample)
    if near >= 1.0 or not exact_unique:
        return exact_unique, dropped
    from checks.embeddings import comparable, embed

    vectors = embed([sample_text(s) for s in [*reference, *exact_unique]])
    kept_rows = list(range(len(reference)))
    kept = []
    for offset, sample in enumerate(exact_unique):
        row = len(reference) + offset
        if kept_rows and float(comparable(vectors[kept_rows] @ vectors[row]).max()) >= near:
            dropped["duplicate_near"] += 1
            continue
        kept_rows.append(row)
        kept.append(sample)
    return kept, dropped
