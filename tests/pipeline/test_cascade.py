"""Cascade attention: rows that share a start keep one copy of it, and attention over (start, own
tokens) in two parts equals attention over the whole row."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from pipeline.generate.cascade import Start, Starts, attention
from pipeline.generate.teacher import LocalBackend
from pipeline.models import tiny_model
from tests.pipeline.generate_helpers import noisy_tiny_model

torch.set_num_threads(1)


def _layers(keys: torch.Tensor, values: torch.Tensor) -> SimpleNamespace:
    return SimpleNamespace(layers=[SimpleNamespace(keys=keys, values=values)])


def test_two_parts_equal_attention_over_the_whole_row():
    """Rows of two starts and a row of none, with left padding in their own columns: each row's output
    is sdpa's over its start's keys followed by its own real keys."""
    generator = torch.Generator().manual_seed(0)
    kv_heads, per_kv, dim, own = 2, 3, 8, 5

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator)

    starts = [Start(list(range(7)), _layers(rand(1, kv_heads, 7, dim), rand(1, kv_heads, 7, dim))),
              Start(list(range(4)), _layers(rand(1, kv_heads, 4, dim), rand(1, kv_heads, 4, dim)))]
    of_row = [starts[0], None, starts[1], starts[0]]
    rows = len(of_row)
    query = rand(rows, kv_heads * per_kv, 1, dim)
    key, value = rand(rows, kv_heads, own, dim), rand(rows, kv_heads, own, dim)
    mask = torch.ones(rows, own, dtype=torch.bool)
    mask[1, :2] = mask[3, :1] = False  # left padding
    groups = [(s, torch.tensor([i for i, t in enumerate(of_row) if t is s])) for s in starts]
    module = SimpleNamespace(layer_idx=0, num_key_value_groups=per_kv)
    out, _ = attention(module, query, key, value, mask.reshape(rows, 1, 1, own), scaling=0.3, starts=Starts(groups))
    for i, start in enumerate(of_row):
        keys, values = key[i:i + 1, :, mask[i]], value[i:i + 1, :, mask[i]]
        if start is not None:
            keys = torch.cat([start.cache.layers[0].keys, keys], dim=-2)
            values = torch.cat([start.cache.layers[0].values, values], dim=-2)
        expected = torch.nn.functional.scaled_dot_product_attention(
            query[i:i + 1], keys.repeat_interleave(per_kv, 1), values.repeat_interleave(per_kv, 1), scale=0.3)
        assert torch.allclose(out[i], expected.transpose(1, 2)[0], atol=1e-5), i


def test_more_than_one_new_token_a_row_is_refused():
    """The two parts are written for decoding steps; a prefill through them would lose its causal mask."""
    module = SimpleNamespace(layer_idx=0, num_key_value_groups=1)
    x = torch.zeros(1, 1, 2, 4)
    with pytest.raises(ValueError, match="one token a row"):
        attention(module, x, x, x, None, starts=Starts([]))


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    return LocalBackend(noisy_tiny_model(tmp_path_factory.mktemp("tiny") / "model"), batch_size=1)


QUESTIONS = ["hi", "What is a word that means happy?", "Is the sky blue?", "dog", "Which planet is largest?"]


def _generate_alone(backend: LocalBackend, ids: list[int], max_tokens: int) -> list[int]:
    tensor = torch.tensor([ids])
    with torch.no_grad():
        out = backend.model.generate(input_ids=tensor, attention_mask=torch.ones_like(tensor), do_sample=False,
                                     max_new_tokens=max_tokens, temperature=None, top_p=None, top_k=None,
                                     pad_token_id=backend.tokenizer.pad_token_id)
    tokens = out[0, tensor.shape[1]:].tolist()
    return [t for t in tokens if t not in (backend.tokenizer.eos_token_id, backend.tokenizer.pad_token_id)]


def test_rows_of_one_document_hold_it_once_and_reply_as_alone(backend, monkeypatch):
    """The batch's cache holds each row's own tokens only; the document's keys are one copy; with a
    byte budget of two whole rows, all five questions on the document decode side by side; and each
    reply is transformers' own `generate` on its whole prompt."""
    from pipeline.generate.decoding import Decoder, cache_bytes_per_token, stop_ids

    document = "Notes: " + " ".join(f"fact{i} is {i * 7}" for i in range(40)) + "\n\n"
    prompts = [backend._ids([{"role": "user", "content": document + q}]) for q in QUESTIONS]
    budget = 2 * (max(map(len, prompts)) + 10) * cache_bytes_per_token(backend.model)
    decoder = Decoder(backend.model, stop_ids(backend.model, backend.tokenizer), size=8, max_bytes=budget)
    assert decoder.cascade
    own_widths: list[int] = []
    step = Decoder.step

    def watched(self: Decoder) -> list:
        own_widths.append(self.cache.layers[0].keys.shape[-2])
        assert len({id(row.start) for row in self.rows}) == 1
        return step(self)

    monkeypatch.setattr(Decoder, "step", watched)
    replies = decoder.run(prompts, max_tokens=10)
    monkeypatch.undo()
    assert replies == [_generate_alone(backend, ids, 10) for ids in prompts]
    document_tokens = len(backend.tokenizer(document)["input_ids"])
    assert max(own_widths) < max(map(len, prompts)) - document_tokens + 10
    assert max(decoder.widths) == len(QUESTIONS)  # without one copy the budget holds two rows


def test_a_model_with_a_sliding_window_keeps_whole_rows(tmp_path):
    """Cascade attention would ignore a sliding window's limit, so such a model decodes without it."""
    from transformers import AutoModelForCausalLM

    from pipeline.generate.cascade import enable

    model = AutoModelForCausalLM.from_pretrained(tiny_model(tmp_path / "model"))
    model.config.sliding_window = 16
    assert not enable(model) and model.config._attn_implementation == "sdpa"
    model.config.sliding_window = None
    assert enable(model) and enable(model)
