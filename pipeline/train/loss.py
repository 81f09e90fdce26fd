"""The training loss without the full logits tensor.

A micro-batch of 2 rows x 1,536 tokens over SmolLM2's 49,152-token vocabulary has 151M logits: 604 MB
in float32, and autograd keeps that tensor, its float copy and the softmax's gradient alive at once
(13.8 GB peak RSS on pipeline/configs/taxonomy-cpu.yaml). Here the model runs up to its last hidden
states only (`logits_to_keep=1`: one position through the output layer), the positions that carry a
label are picked out, and the output layer and the cross-entropy run `chunk_tokens` positions at a
time. Each chunk's gradients (with respect to the hidden states and, when it is trained, the output
weight) are worked out right away, so only one chunk's logits ever exist; backward just scales them.
Unlabelled positions (prompt tokens, padding) never reach the output layer at all.

The value is the same as `full_token_loss_sum` (the straightforward version, kept as the reference
for tests and the benchmark): the summed next-token cross-entropy over the labelled tokens, which
the caller divides by the global batch's labelled-token count, as before.

It calls the model through its wrapper's forward (DDP, FSDP2 or none; peft or not), so gradient
synchronisation is unchanged, and takes the output weight from the unwrapped model after that forward
(FSDP2 leaves the root's parameters, the output layer's among them, unsharded after forward).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from pipeline.train.data import IGNORE

CHUNK_TOKENS = 512  # 512 x 49,152 float32 logits: 100 MB a chunk


def full_token_loss_sum(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Summed next-token cross-entropy over the labelled tokens, through the full logits tensor."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    targets = batch["labels"][:, 1:]
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)).float(), targets.reshape(-1),
                           ignore_index=IGNORE, reduction="sum")


def token_loss_sum(model: Any, batch: dict[str, torch.Tensor], chunk_tokens: int = CHUNK_TOKENS) -> torch.Tensor:
    """Summed next-token cross-entropy over the labelled tokens, `chunk_tokens` positions at a time."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True,
                logits_to_keep=1)
    targets = batch["labels"][:, 1:]
    labelled = targets != IGNORE
    hidden = out.hidden_states[-1][:, :-1][labelled]  # the final (normed) hidden states of labelled positions
    weight = getattr(model, "module", model).get_output_embeddings().weight
    return _LinearCrossEntropy.apply(hidden, weight, targets[labelled], chunk_tokens)


class _LinearCrossEntropy(torch.autograd.Function):
    """sum(cross_entropy(hidden @ weight.T, targets)), its gradients computed chunk by chunk in forward."""

    @staticmethod
    def forward(ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                chunk_tokens: int) -> torch.Tensor:
        want_hidden, want_weight = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        w = weight.float()  # no copy for a float32 model; bf16 logits would lose the loss's precision
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        grad_hidden = torch.empty_like(hidden) if want_hidden else None
        grad_weight = torch.zeros_like(w) if want_weight else None
        step = max(1, chunk_tokens)
        for start in range(0, hidden.size(0), step):
            h = hidden[start:start + step].float()
            t = targets[start:start + step]
            logits = h @ w.T
            lse = torch.logsumexp(logits, dim=-1)
            total += (lse - logits.gather(1, t[:, None]).squeeze(1)).sum()
            if not (want_hidden or want_weight):
                continue
            probs = logits.sub_(lse[:, None]).exp_()  # softmax in place: d loss / d logits = probs - one-hot
            probs[torch.arange(t.size(0), device=t.device), t] -= 1.0
            if grad_hidden is not None:
                grad_hidden[start:start + step] = (probs @ w).to(hidden.dtype)
            if grad_weight is not None:
                grad_weight.addmm_(probs.T, h)
        ctx.save_for_backward(grad_hidden, None if grad_weight is None else grad_weight.to(weight.dtype))
        return total

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        grad_hidden, grad_weight = ctx.saved_tensors
        return (None if grad_hidden is None else grad_hidden * grad_output,
                None if grad_weight is None else grad_weight * grad_output, None, None)
