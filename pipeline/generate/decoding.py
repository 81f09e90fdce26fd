"""Continuous batching for the in-process teacher: one running batch of replies that requests join and
leave between decoding steps.

Batching whole requests (one `generate` call a batch) pads every prompt to the batch's longest and
keeps every row stepping until the batch's longest reply ends. Here a prompt goes through its own
forward pass (all prefill, no padding), its KV cache joins the running batch before the next step,
and a row leaves the moment its reply ends, freeing its place for the next request. On a CPU a
decoding step costs little more for eight rows than for one (the weights are read once a step), so
every row in the batch shares it.

Rows sit left-padded in one KV cache, with the padding masked and position ids counted from each
row's own first token, so a row's tokens do not depend on its neighbours (only float rounding in the
padded attention differs). A model whose cache is not plain per-layer keys and values (sliding
windows, state-space layers) decodes one row at a time.
"""

from __future__ import annotations

import contextlib
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer


class PromptTooLong(ValueError):
    """The prompt leaves no room for its reply in the model's context window."""


@dataclass(slots=True)
class Row:
    """One reply being written: `owner` is the caller's handle, given back when the reply ends."""

    owner: Any
    max_tokens: int
    temperature: float = 0.0
    seed: int = 0
    tokens: list[int] = field(default_factory=list)
    generator: torch.Generator | None = None

    def __post_init__(self) -> None:
        if self.temperature > 0:  # its own draws: a reply does not depend on what it was batched with
            self.generator = torch.Generator().manual_seed(self.seed)

    def pick(self, logits: torch.Tensor) -> int:
        if self.generator is None:
            return int(logits.argmax())
        probs = torch.softmax(logits.float() / self.temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator))


class Decoder:
    """The running batch over one model: `admit` a row, `step` every row by one token."""

    def __init__(self, model: Any, stop_ids: Collection[int], size: int) -> None:
        self.model = model
        self.stop_ids = frozenset(stop_ids)
        self.size = max(1, size)
        self.rows: list[Row] = []
        self.cache: Any = None
        self.mask: torch.Tensor | None = None  # (rows, cached columns): 1 where a column is a real token
        self.widths: Counter[int] = Counter()  # decoding steps by the rows they carried

    @property
    def room(self) -> int:
        return self.size - len(self.rows)

    def admit(self, row: Row, ids: list[int]) -> bool:
        """Run the prompt and pick the reply's first token; False when that already ends the reply.

        A prompt that leaves no room for its reply in the model's context window is refused: its
        text comes from merged leaves and documents, and one huge prompt would otherwise pad every
        row of the batch to its length."""
        window = getattr(self.model.config, "max_position_embeddings", None)
        if window and len(ids) + row.max_tokens > window:
            raise PromptTooLong(f"the prompt is {len(ids)} tokens; with {row.max_tokens} for the reply it does not "
                             f"fit the model's context of {window} tokens")
        out = self.model(input_ids=torch.tensor([ids]), use_cache=True, logits_to_keep=1)
        if self._ends(row, out.logits[0, -1]):
            return False
        if not plain_cache(out.cache):
            self.size = 1
        self._join(row, out.cache, len(ids))
        return True

    def step(self) -> list[Row]:
        """One token for every row; the rows whose reply ended, out of the batch."""
        assert self.mask is not None
        last = torch.tensor([[row.tokens[-1]] for row in self.rows])
        positions = self.mask.sum(-1, keepdim=True)  # each row's real tokens so far
        self.mask = torch.cat([self.mask, torch.ones_like(last)], dim=1)
        out = self.model(input_ids=last, attention_mask=self.mask, position_ids=positions, cache=self.cache,
                         use_cache=True)
        self.cache = out.cache
        self.widths[len(self.rows)] += 1
        ended = [self._ends(row, logits) for row, logits in zip(self.rows, out.logits[:, -1], strict=True)]
        if not any(ended):
            return []
        gone = [row for row, end in zip(self.rows, ended, strict=True) if end]
        self._keep([i for i, end in enumerate(ended) if not end])
        return gone

    def run(self, prompts: Sequence[list[int]], max_tokens: int) -> list[list[int]]:
        """Greedy reply tokens for every prompt, in order, one caller alone (evaluation, checkpoint
        selection): the batch is kept full until the last prompt is in, then runs down. A prompt too
        long for the model gets an empty reply (scored as such) rather than stopping the evaluation."""
        rows = [Row(i, max(1, max_tokens)) for i in range(len(prompts))]
        waiting = deque(range(len(prompts)))
        with torch.no_grad():
            while waiting or self.rows:
                while waiting and self.room:
                    i = waiting.popleft()
                    with contextlib.suppress(PromptTooLong):
                        self.admit(rows[i], prompts[i])
                if self.rows:
                    self.step()
        return [row.tokens for row in rows]

    def clear(self) -> list[Row]:
        """Drop every row (after a failed step): the rows that were running."""
        rows, self.rows, self.cache, self.mask = self.rows, [], None, None
        return rows

    def _ends(self, row: Row, logits: torch.Tensor) -> bool:
        token = row.pick(logits)
        if token in self.stop_ids:
            return True
        row.tokens.append(token)
        return len(row.tokens) >= row.max_tokens

    def _join(self, row: Row, cache: Any, length: int) -> None:
        mask = torch.ones((1, length), dtype=torch.long)
        if not self.rows:
            self.rows, self.cache, self.mask = [row], cache, mask
            return
        assert self.mask is not None
        width = max(self.mask.shape[1], length)
        self.mask = torch.cat([_pad_left(self.mask, width, -1), _pad_left(mask, width, -1)])
        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([_pad_left(mine.keys, width, -2), _pad_left(theirs.keys, width, -2)])
            mine.values = torch.cat([_pad_left(mine.values, width, -2), _pad_left(theirs.values, width, -2)])
        self.rows.append(row)

    def _keep(self, indices: list[int]) -> None:
        """Keep these rows, and cut the columns that are padding in every one of them."""
        if not indices:
            self.clear()
            return
        assert self.mask is not None
        index = torch.tensor(indices)
        self.rows = [self.rows[i] for i in indices]
        mask = self.mask[index]
        lead = int((mask.cumsum(-1) == 0).sum(-1).min())
        self.mask = mask[:, lead:]
        for layer in self.cache.layers:
            layer.keys = layer.keys[index, :, lead:]
            layer.values = layer.values[index, :, lead:]


def prompt_ids(tokenizer: Any, messages: Sequence[dict[str, str]], prefix: str = "") -> list[int]:
    """The prompt's token ids: the chat rendered for the assistant's reply, started with `prefix`."""
    text = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
    return tokenizer(text + prefix, add_special_tokens=False)["input_ids"]


def stop_ids(model: Any, tokenizer: Any) -> set[int]:
    """The tokens that end a reply: the model's end-of-sequence ids and the tokenizer's."""
    configured = model.generation_config.eos_token_id
    ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def plain_cache(cache: Any) -> bool:
    """Whether rows of this cache can be padded and joined: plain keys and values in every layer."""
    return isinstance(cache, DynamicCache) and all(type(layer) is DynamicLayer for layer in cache.layers)


def _pad_left(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    """Zeros before the entries along `dim` (-1 or -2), up to `width`."""
    missing = width - tensor.shape[dim]
    if not missing:
        return tensor
    return torch.nn.functional.pad(tensor, (missing, 0) if dim == -1 else (0, 0, missing, 0))
