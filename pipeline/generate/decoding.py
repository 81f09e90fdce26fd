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

Prompts that begin alike (the questions on one document, in evaluation and the precheck) share the
work of their start: `run` takes them side by side (`shared_starts`) and runs the common start once
(taxonomy-2024-08's evaluation: 227,000 prompt tokens, 174,000 of them documents asked again). Where
the model's attention allows (`pipeline.generate.cascade`), the start's cache also stays one copy in
the batch, which every step reads once for all its rows; otherwise each row continues a copy of it.

Memory: the cache is allocated once per change of rows with room for every token still to come
(`RoomyLayer`), so a decoding step writes in place; transformers' own layer concatenated, copying the
whole batch's cache every token (taxonomy-2024-08: 7 rows of 3,200 tokens, about 1 GB a step). And
the batch's cache, padding included, stays within a byte budget (`budget_bytes`): one long prompt does
not pad seven others to its length; the next row waits for room instead.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer

from pipeline.generate.cascade import Start, Starts, enable
from pipeline.memory import return_freed


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
    start: Start | None = None  # the shared start this row's own cache continues (cascade attention)

    def __post_init__(self) -> None:
        if self.temperature > 0:  # its own draws: a reply does not depend on what it was batched with
            self.generator = torch.Generator().manual_seed(self.seed)

    def pick(self, logits: torch.Tensor) -> int:
        if self.generator is None:
            return int(logits.argmax())
        probs = torch.softmax(logits.float() / self.temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator))


class RoomyLayer(DynamicLayer):
    """A layer's keys and values inside a buffer with `room` free positions after them: `update` writes
    the new token's keys in place and only reallocates (with the same room again) when the room runs out."""

    def __init__(self, parts: Sequence[tuple[torch.Tensor, torch.Tensor]], width: int, room: int) -> None:
        """`parts`' rows stacked, each left-padded with zeros to `width` positions (masked by the caller)."""
        super().__init__()
        self.device, self.is_initialized, self.room = parts[0][0].device, True, max(1, room)
        self._fill(parts, width)

    def _fill(self, parts: Sequence[tuple[torch.Tensor, torch.Tensor]], width: int) -> None:
        first = parts[0][0]
        shape = (sum(k.shape[0] for k, _ in parts), first.shape[1], width + self.room, first.shape[-1])
        self._keys, self._values = first.new_zeros(shape), first.new_zeros(shape)
        row = 0
        for keys, values in parts:
            rows, length = keys.shape[0], keys.shape[-2]
            self._keys[row:row + rows, :, width - length:width] = keys
            self._values[row:row + rows, :, width - length:width] = values
            row += rows
        self.length = width
        self.keys, self.values = self._keys[..., :width, :], self._values[..., :width, :]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        end = self.length + key_states.shape[-2]
        if end > self._keys.shape[-2]:
            self._fill([(self.keys, self.values)], self.length)
        self._keys[..., self.length:end, :] = key_states
        self._values[..., self.length:end, :] = value_states
        self.length = end
        self.keys, self.values = self._keys[..., :end, :], self._values[..., :end, :]
        return self.keys, self.values


KV_BUDGET_CEILING = 512 * 1024 * 1024  # bytes of cache a batch may hold however much memory there is
KV_BUDGET_SHARE = 8  # ... and at most this fraction (1/8) of the machine's memory limit


def budget_bytes(limit_bytes: int) -> int:
    """What one forward pass's cache and attention may take: the batches' share of the memory limit."""
    return min(KV_BUDGET_CEILING, limit_bytes // KV_BUDGET_SHARE)


def cache_bytes_per_token(model: Any) -> int:
    """Keys and values of one token over every layer (SmolLM2-135M in float32: 46,080 bytes)."""
    config = model.config
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    return config.num_hidden_layers * 2 * kv_heads * head_dim * model.dtype.itemsize


def pass_bytes(model: Any, rows: int, width: int, past: int = 0) -> int:
    """The memory one forward pass of `rows` prompts of `width` new tokens on `past` cached ones takes:
    their cache, and one layer's attention scores if the kernel materialises them (a padding mask)."""
    return rows * (past + width) * (cache_bytes_per_token(model) + model.config.num_attention_heads * width * 4)


class Decoder:
    """The running batch over one model: `admit` a row, `step` every row by one token.

    `max_bytes` bounds the batch's cache (rows times the padded width, with room for each reply still
    to come, and each shared start once): what sizes its memory. A row that alone exceeds it still
    runs, alone."""

    def __init__(self, model: Any, stop_ids: Collection[int], size: int, max_bytes: int | None = None) -> None:
        self.model = model
        self.stop_ids = frozenset(stop_ids)
        self.size = max(1, size)
        self.max_tokens = None if max_bytes is None else max_bytes // cache_bytes_per_token(model)
        self.rows: list[Row] = []
        self.cache: Any = None
        self.mask: torch.Tensor | None = None  # (rows, cached columns): 1 where a column is a real token
        self.widths: Counter[int] = Counter()  # decoding steps by the rows they carried
        self.started: Start | None = None  # the latest shared start (`_start`)
        self.cascade = enable(model)  # rows keep one copy of their shared start

    @property
    def room(self) -> int:
        return self.size - len(self.rows)

    def fits(self, length: int, reply: int, start: Sequence[int] = ()) -> bool:
        """Whether a prompt of `length` tokens, beginning with the shared `start`, with a reply of up to
        `reply` joins within `max_tokens` (an empty batch takes any row)."""
        if not self.rows or self.max_tokens is None:
            return bool(self.room)
        assert self.mask is not None
        starts = {id(row.start): row.start.ids for row in self.rows if row.start is not None}
        held = sum(map(len, starts.values()))
        if start and self.cascade:
            length -= len(start)
            held += 0 if list(start) in starts.values() else len(start)
        width = max(self.mask.shape[1] + self._to_come(), length + reply)
        return bool(self.room) and (len(self.rows) + 1) * width + held <= self.max_tokens

    def _to_come(self) -> int:
        """The most tokens a row of the batch may still add."""
        return max((row.max_tokens - len(row.tokens) for row in self.rows), default=0)

    def admit(self, row: Row, ids: list[int], shared: int = 0) -> bool:
        """Run the prompt and pick the reply's first token; False when that already ends the reply.
        The prompt's first `shared` tokens, which the prompts admitted next to it begin with too (one
        document's questions), run once for all of them (`_start`).

        A prompt that leaves no room for its reply in the model's context window is refused: its
        text comes from merged leaves and documents, and one huge prompt would otherwise pad every
        row of the batch to its length."""
        window = getattr(self.model.config, "max_position_embeddings", None)
        if window and len(ids) + row.max_tokens > window:
            raise PromptTooLong(f"the prompt is {len(ids)} tokens; with {row.max_tokens} for the reply it does not "
                             f"fit the model's context of {window} tokens")
        start = self._start(ids[:shared]) if shared else None
        if start is None:
            out = prefill(self.model, ids)
        else:
            out = prefill(self.model, ids[shared:], copy.deepcopy(start.cache))
        if self._ends(row, out.logits[0, -1]):
            return False
        if not plain_cache(out.cache):
            self.size = 1
        if start is not None and self.cascade:  # the row keeps its own tokens; the start stays one copy
            row.start = start
            for layer in out.cache.layers:
                layer.keys, layer.values = layer.keys[..., shared:, :], layer.values[..., shared:, :]
        self._join(row, out.cache, len(ids) - (shared if row.start else 0))
        return True

    def step(self) -> list[Row]:
        """One token for every row; the rows whose reply ended, out of the batch."""
        assert self.mask is not None
        last = torch.tensor([[row.tokens[-1]] for row in self.rows])
        started = torch.tensor([[len(row.start.ids) if row.start else 0] for row in self.rows])
        positions = started + self.mask.sum(-1, keepdim=True)  # each row's real tokens so far
        self.mask = torch.cat([self.mask, torch.ones_like(last)], dim=1)
        out = self.model(input_ids=last, attention_mask=self.mask, position_ids=positions, cache=self.cache,
                         use_cache=True, **self._starts())
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
        waiting = deque((i, shared) for group, shared in shared_starts(prompts) for i in group)
        with torch.no_grad():
            while waiting or self.rows:
                while waiting and self.fits(len(prompts[waiting[0][0]]), rows[waiting[0][0]].max_tokens,
                                            prompts[waiting[0][0]][:waiting[0][1]]):
                    i, shared = waiting.popleft()
                    with contextlib.suppress(PromptTooLong):
                        self.admit(rows[i], prompts[i], shared)
                if self.rows:
                    self.step()
        self.started = None
        return [row.tokens for row in rows]

    def _start(self, ids: list[int]) -> Start | None:
        """These tokens and their cache, run once while the rows that begin with them are admitted (only
        the latest start is kept here; rows hold theirs); None for a model whose cache cannot be
        continued row by row."""
        if self.started is None or self.started.ids != ids:
            self.started = None
            cache = prefill(self.model, ids).cache
            self.started = Start(ids, cache if plain_cache(cache) else None)
        return self.started if self.started.cache is not None else None

    def _starts(self) -> dict[str, Starts]:
        """The step's `starts` argument for cascade attention: each shared start with its rows."""
        groups: dict[int, tuple[Start, list[int]]] = {}
        for i, row in enumerate(self.rows):
            if row.start is not None:
                groups.setdefault(id(row.start), (row.start, []))[1].append(i)
        if not groups:
            return {}
        return {"starts": Starts([(start, torch.tensor(rows)) for start, rows in groups.values()])}

    def clear(self) -> list[Row]:
        """Drop every row (after a failed step, or the last row's end): the rows that were running."""
        rows, self.rows, self.cache, self.mask = self.rows, [], None, None
        return_freed()
        return rows

    def _ends(self, row: Row, logits: torch.Tensor) -> bool:
        token = row.pick(logits)
        if token in self.stop_ids:
            return True
        row.tokens.append(token)
        return len(row.tokens) >= row.max_tokens

    def _join(self, row: Row, cache: Any, length: int) -> None:
        """The row's prompt cache into the batch's, layer by layer, so at most one layer is held twice."""
        mask = torch.ones((1, length), dtype=torch.long)
        if not self.rows:
            self.rows, self.cache, self.mask = [row], cache, mask
            self._rebuild(length, lambda i, layer: [(layer.keys, layer.values)])
            return
        assert self.mask is not None
        width = max(self.mask.shape[1], length)
        self.mask = torch.cat([_pad_left(self.mask, width, -1), _pad_left(mask, width, -1)])
        self.rows.append(row)
        self._rebuild(width, lambda i, layer: [(layer.keys, layer.values),
                                               (cache.layers[i].keys, cache.layers[i].values)])

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
        self._rebuild(self.mask.shape[1], lambda i, layer: [(layer.keys[index, :, lead:],
                                                             layer.values[index, :, lead:])])

    def _rebuild(self, width: int, parts: Any) -> None:
        """Each layer anew from `parts(i, layer)`, with room for the longest reply still to come; a
        layer's old tensors go as soon as its new one is made."""
        room = self._to_come()
        for i, layer in enumerate(self.cache.layers):
            self.cache.layers[i] = RoomyLayer(parts(i, layer), width, room)
        return_freed()


PREFILL_CHUNK = 512  # prompt tokens per forward pass: one pass's attention scores stay small


def prefill(model: Any, ids: list[int], cache: Any = None) -> Any:
    """The prompt's forward pass in chunks of `PREFILL_CHUNK` tokens on the growing cache: the same
    logits and cache as one pass (causal attention), without a 3,000-token prompt's 3,000 x 3,000
    scores per head. The output of the last chunk, its cache holding the whole prompt; `cache` holds
    the tokens before `ids` (a shared start) and is continued in place."""
    out = None
    for start in range(0, len(ids), PREFILL_CHUNK):
        out = model(input_ids=torch.tensor([ids[start:start + PREFILL_CHUNK]]), cache=cache, use_cache=True,
                    logits_to_keep=1)
        cache = out.cache
    return out


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


MIN_SHARED_START = 16  # tokens: a shorter common start is not worth a pass of its own
MAX_SPLITS = 64  # levels of nested starts looked at; deeper ones run with their group's start


def shared_starts(rows: Sequence[list[int]]) -> list[tuple[list[int], int]]:
    """Row indices grouped by a common start of at least `MIN_SHARED_START` tokens, each group with the
    length of its start (0 for the rows that share none); every row keeps at least its last token.

    Rows are taken in sorted order, so rows with a common start are neighbours. A run of neighbours is
    one group, or is cut where its neighbours share least, whichever runs fewer tokens: one leaf's rows
    share its document, all rows only the system prompt, and the document is what is worth sharing."""
    order = sorted(range(len(rows)), key=lambda r: rows[r])
    common = [min(common_start(rows[a], rows[b]), len(rows[a]) - 1, len(rows[b]) - 1)
              for a, b in itertools.pairwise(order)]
    groups: list[tuple[list[int], int]] = []
    alone: list[int] = []
    run = 0
    for end in range(len(order)):
        if end == len(common) or common[end] < MIN_SHARED_START:
            for first, last, shared in _cut(common, run, end):
                if last > first:
                    groups.append((order[first:last + 1], shared))
                else:
                    alone.append(order[first])
            run = end + 1
    return groups + ([(alone, 0)] if alone else [])


def _cut(common: Sequence[int], first: int, last: int, depth: int = 0) -> list[tuple[int, int, int]]:
    """The groups (first row, last row, shared start) of the sorted rows first..last that save the most
    prompt tokens: the whole run on its shortest common start, or the runs between those shortest
    boundaries, each cut the same way."""
    if last == first:
        return [(first, last, 0)]
    shortest = min(common[first:last])
    whole = [(first, last, shortest)]
    if depth >= MAX_SPLITS:
        return whole
    parts: list[tuple[int, int, int]] = []
    start = first
    for i in range(first, last + 1):
        if i == last or common[i] == shortest:
            parts += _cut(common, start, i, depth + 1)
            start = i + 1

    def saved(groups: list[tuple[int, int, int]]) -> int:
        return sum((b - a) * shared for a, b, shared in groups)

    return parts if saved(parts) > saved(whole) else whole


def common_start(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def plain_cache(cache: Any) -> bool:
    """Whether rows of this cache can be padded and joined: plain keys and values in every layer."""
    return isinstance(cache, DynamicCache) and all(type(layer) is DynamicLayer for layer in cache.layers)


def _pad_left(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    """Zeros before the entries along `dim` (-1 or -2), up to `width`."""
    missing = width - tensor.shape[dim]
    if not missing:
        return tensor
    return torch.nn.functional.pad(tensor, (missing, 0) if dim == -1 else (0, 0, missing, 0))
