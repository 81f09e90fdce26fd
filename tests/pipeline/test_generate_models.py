"""Models, offline: the tiny test model, and (slow) the embedded SmolLM2 converted from its GGUF."""

from __future__ import annotations

import json

import pytest
import torch

from pipeline.generate.teacher import Choice, LocalBackend, Request
from pipeline.models import ModelError, load_student, resolve_model_dir, smollm2_gguf, tiny_model

torch.set_num_threads(1)


def test_tiny_model_loads_with_a_chat_template(tmp_path):
    folder = tiny_model(tmp_path / "tiny")
    model, tokenizer = load_student(folder)
    assert type(model).__name__ == "LlamaForCausalLM"
    text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                         add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    answer = LocalBackend(folder).complete(Request([{"role": "user", "content": "hi"}], max_tokens=5))
    assert isinstance(answer, str)


def test_a_path_that_is_no_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="not a model folder"):
        resolve_model_dir(tmp_path)


@pytest.mark.slow
def test_smollm2_from_the_wheel_becomes_a_cached_plain_folder(tmp_path):
    assert smollm2_gguf().stat().st_size > 50_000_000
    folder = resolve_model_dir("default", tmp_path)
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and "quantization_config" not in config
    assert resolve_model_dir(None, tmp_path) == folder  # second time: from the cache
    backend = LocalBackend(folder)
    answer = backend.complete(Request([{"role": "user", "content": "What is the capital of France?"}], 8))
    assert "Paris" in answer


def test_option_probabilities_from_the_next_token_distribution(tmp_path):
    backend = LocalBackend(tiny_model(tmp_path / "tiny"))
    messages = [{"role": "user", "content": "Is the sky blue? Reply with one word: yes or no."}]
    yes, no = backend.option_probabilities(Choice(messages, ("yes", "no")))
    assert 0.0 <= yes <= 1.0 and 0.0 <= no <= 1.0 and yes + no <= 1.0 + 1e-6
    digits = backend.option_probabilities(Choice(messages, tuple("12345"), "Score:"))
    assert len(digits) == 5 and sum(digits) <= 1.0 + 1e-6
    starts = backend._first_tokens(("yes", "no", "1", "2"))
    assert all(set(a).isdisjoint(b) for i, a in enumerate(starts) for b in starts[i + 1:])


@pytest.mark.slow
def test_smollm2_scores_digits_after_a_space_token():
    """` 4` is a space token then a digit for SmolLM2: the judge steps over the space."""
    backend = LocalBackend(resolve_model_dir("default", None))
    messages = [{"role": "user", "content": "Rate this answer from 1 to 5. Question: What is 2+2? Answer: 4. "
                                            "Reply in the form: Score: N"}]
    scores = backend.option_probabilities(Choice(messages, tuple("12345"), "Score:"))
    assert sum(scores) > 0.3 and len(set(scores)) == 5
