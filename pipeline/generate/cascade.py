"""Cascade attention: the rows of a decoding batch that begin with one shared start (the questions on
one document) keep one copy of its keys and values, and a decoding step reads that copy once for all
of them.

A row's own cache holds only its tokens after the start. Its attention is then two parts, over the
start's keys and over its own, each a softmax of its own, joined by their maxima and sums: the same
weighted sum as attention over the whole row, added in another order. Without it every row carries
its document (taxonomy-2024-08: 2,300 tokens, 106 MB of cache a row), a step reads each copy, and the
decoder's byte budget lets only five such rows run at once.

The function is registered with transformers' attention interface under `NAME`; a forward pass
without `starts` (every prefill, every pass of a model used elsewhere) is sdpa's, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

NAME = "taxonomist_cascade"


@dataclass(eq=False, slots=True)
class Start:
    """A start that rows share: its tokens and its cache (one row of keys and values per layer)."""

    ids: list[int]
    cache: Any


@dataclass(slots=True)
class Starts:
    """One decoding step's shared starts, each with the indices of the batch rows that continue it."""

    groups: list[tuple[Start, torch.Tensor]]


def enable(model: Any) -> bool:
    """Switch the model to cascade attention where its attention is plain sdpa (no sliding window, no
    logit soft-capping, which the two parts would not apply); whether it now has it."""
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.masking_utils import sdpa_mask

    config = model.config
    if config._attn_implementation == NAME:
        return True
    if (config._attn_implementation != "sdpa" or getattr(config, "sliding_window", None)
            or getattr(config, "attn_logit_softcapping", None) or not hasattr(model, "set_attn_implementation")):
        return False
    AttentionInterface.register(NAME, attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    model.set_attn_implementation(NAME)
    return True


def attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
              attention_mask: torch.Tensor | None, *, scaling: float | None = None, starts: Starts | None = None,
              **kwargs: Any) -> tuple[torch.Tensor, None]:
    """transformers' attention signature: sdpa's without `starts`, else one decoding token a row over
    its shared start's keys and its own (`attention_mask`: sdpa's boolean mask of its own columns)."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if starts is None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, **kwargs)
    rows, heads, length, dim = query.shape
    if length != 1:
        raise ValueError(f"cascade attention decodes one token a row, not {length}")
    kv_heads = key.shape[1]
    q = query.reshape(rows, kv_heads, heads // kv_heads, dim) * (dim ** -0.5 if scaling is None else scaling)
    scores = torch.matmul(q, key.transpose(-1, -2))  # (rows, kv heads, queries per kv head, own columns)
    if attention_mask is not None:
        scores = scores.masked_fill(~attention_mask.reshape(rows, 1, 1, -1), float("-inf"))
    top, total, out = _part(scores, value)
    for start, index in starts.groups:
        layer = start.cache.layers[module.layer_idx]
        shared = torch.matmul(q[index].transpose(0, 1).reshape(kv_heads, -1, dim), layer.keys[0].transpose(-1, -2))
        parts = [p.reshape(kv_heads, len(index), -1, p.shape[-1]).transpose(0, 1)
                 for p in _part(shared, layer.values[0])]
        top[index], total[index], out[index] = _joined((top[index], total[index], out[index]), parts)
    return (out / total).reshape(rows, 1, heads, dim), None


def _part(scores: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Attention over one part's keys, unnormalised: (its top score, the sum of exp(score - top), the
    values weighted by exp(score - top))."""
    top = scores.amax(-1, keepdim=True)
    weights = torch.exp(scores - top)
    return top, weights.sum(-1, keepdim=True), torch.matmul(weights, values)


def _joined(a: tuple[torch.Tensor, ...], b: list[torch.Tensor] | tuple[torch.Tensor, ...]
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two parts as one, rescaled to their common top score."""
    top = torch.maximum(a[0], b[0])
    scale_a, scale_b = torch.exp(a[0] - top), torch.exp(b[0] - top)
    return top, a[1] * scale_a + b[1] * scale_b, a[2] * scale_a + b[2] * scale_b
