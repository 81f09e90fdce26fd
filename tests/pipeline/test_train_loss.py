"""The chunked training loss (pipeline/train/loss.py) against the full-logits one: same value, same gradients."""

from __future__ import annotations

import pytest
import torch

from pipeline.models import tiny_model
from pipeline.train.data import IGNORE
from pipeline.train.loss import full_token_loss_sum, token_loss_sum
from pipeline.train.stage import TrainConfig, build_model


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def _batch(vocab: int, pad_id: int) -> dict[str, torch.Tensor]:
    """Two right-padded rows; labels on an answer span of each (prompt and padding unlabelled)."""
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(3, vocab, (2, 40), generator=generator)
    mask = torch.ones_like(ids)
    ids[1, 31:], mask[1, 31:] = pad_id, 0
    labels = torch.full_like(ids, IGNORE)
    labels[0, 12:40] = ids[0, 12:40]
    labels[1, 9:31] = ids[1, 9:31]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _loss_and_grads(model, loss_fn, batch, **kwargs) -> tuple[float, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch, **kwargs)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}
    return float(loss.detach()), grads


@pytest.mark.parametrize("lora", [True, False], ids=["lora", "full"])
@pytest.mark.parametrize("chunk", [1, 7, 512])
def test_chunked_loss_and_gradients_equal_the_full_ones(student, lora, chunk):
    torch.manual_seed(0)
    model, tokenizer = build_model(TrainConfig(student=str(student), output_dir="unused", phases=(), full=not lora,
                                               lora_dropout=0.0))
    model.train()
    batch = _batch(len(tokenizer), tokenizer.pad_token_id)
    full, full_grads = _loss_and_grads(model, full_token_loss_sum, batch)
    chunked, chunked_grads = _loss_and_grads(model, token_loss_sum, batch, chunk_tokens=chunk)
    assert chunked == pytest.approx(full, rel=1e-5)
    assert full_grads.keys() == chunked_grads.keys() and full_grads
    if not lora:  # the output layer (tied to the embeddings) is trained: its gradient goes through the chunks too
        assert "model.embed_tokens.weight" in chunked_grads
    for name, grad in full_grads.items():
        torch.testing.assert_close(chunked_grads[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_a_micro_batch_without_labels_adds_zero_and_no_gradient(student):
    model, tokenizer = build_model(TrainConfig(student=str(student), output_dir="unused", phases=()))
    batch = _batch(len(tokenizer), tokenizer.pad_token_id)
    batch["labels"] = torch.full_like(batch["labels"], IGNORE)
    loss = token_loss_sum(model, batch)
    loss.backward()
    assert float(loss) == 0.0
    assert all(p.grad is None or not p.grad.any() for p in model.parameters() if p.requires_grad)


def test_no_gradient_work_under_no_grad(student):
    model, tokenizer = build_model(TrainConfig(student=str(student), output_dir="unused", phases=()))
    batch = _batch(len(tokenizer), tokenizer.pad_token_id)
    with torch.no_grad():
        value = token_loss_sum(model, batch, chunk_tokens=5)
        expected = full_token_loss_sum(model, batch)
    assert not value.requires_grad
    assert float(value) == pytest.approx(float(expected), rel=1e-5)


def test_activation_checkpointing_gives_the_same_loss_and_gradients(student):
    losses, grads = [], []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        model, tokenizer = build_model(TrainConfig(student=str(student), output_dir="unused", phases=(),
                                                   lora_dropout=0.0, activation_checkpointing=checkpointing))
        model.train()
        loss, grad = _loss_and_grads(model, token_loss_sum, _batch(len(tokenizer), tokenizer.pad_token_id))
        losses.append(loss)
        grads.append(grad)
    base = model.base_model.model
    new_name = hasattr(type(base), "is_activation_checkpointing")  # transformers 5 renamed it
    assert base.is_activation_checkpointing if new_name else base.is_gradient_checkpointing
    assert losses[1] == pytest.approx(losses[0], rel=1e-5) and grads[0].keys() == grads[1].keys()
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, rtol=1e-4, atol=1e-6, msg=name)
