"""Training data: the messages JSONL read and checked, tokenised with assistant-only labels, batched.

Why its own module: the same collation feeds the training loop, the 2-process run and the
`Trainer` baseline in the benchmark, so their throughput and losses compare like for like.

Labels come from the student's own chat template: the conversation is rendered once, and each
assistant turn's character span (after its `<|im_start|>assistant` header, through its end marker)
is found by rendering the prefixes; tokens whose characters start inside such a span are trained on,
every other token gets -100. Knowledge samples may also train on the user turn (upstream's
`unmask` for knowledge), which teaches the document's text itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IGNORE = -100
ROLES = frozenset({"system", "user", "assistant"})


class DataError(ValueError):
    """A training file is malformed: the message names the file, the line and what is wrong."""


@dataclass(frozen=True, slots=True)
class Example:
    """One tokenised conversation: ids and labels of the same length (labels -100 where not trained)."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    leaf: str
    source: str

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The samples of a messages JSONL file, each checked against the build's data contract."""
    samples = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the training data: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            sample = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not JSON: {exc.msg} (column {exc.colno})") from exc
        messages = sample.get("messages") if isinstance(sample, dict) else None
        if not isinstance(messages, list) or not messages:
            raise DataError(f"{where}: expected an object with a non-empty `messages` list")
        for index, message in enumerate(messages):
            if (not isinstance(message, dict) or message.get("role") not in ROLES
                    or not isinstance(message.get("content"), str)):
                raise DataError(f"{where}: messages[{index}] must be {{'role': system|user|assistant, "
                                f"'content': str}}, got {json.dumps(message)[:120]}")
        if not any(m["role"] == "assistant" for m in messages):
            raise DataError(f"{where}: no assistant message, so nothing to train on")
        metadata = sample.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise DataError(f"{where}: `metadata` must be an object")
        samples.append({"messages": messages, "metadata": metadata})
    return samples


def _render(tokenizer: Any, messages: Sequence[dict[str, str]], *, prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=prompt)


def trained_spans(tokenizer: Any, messages: Sequence[dict[str, str]], *, unmask_user: bool) -> list[tuple[int, int]]:
    """Character spans of the rendered conversation that carry loss (assistant turns, maybe user turns)."""
    spans = []
    for index, message in enumerate(messages):
        if message["role"] == "assistant":
            start = len(_render(tokenizer, messages[:index], prompt=True)) if index else 0
        elif message["role"] == "user" and unmask_user:
            start = len(_render(tokenizer, messages[:index])) if index else 0
        else:
            continue
        spans.append((start, len(_render(tokenizer, messages[: index + 1]))))
    return spans


def tokenize(tokenizer: Any, sample: dict[str, Any], *, max_length: int, unmask_user: bool) -> Example:
    """One sample as ids and labels, truncated to `max_length` tokens."""
    messages = sample["messages"]
    text = _render(tokenizer, messages)
    for earlier in range(1, len(messages)):
        if not text.startswith(_render(tokenizer, messages[:earlier])):
            raise DataError("the student's chat template does not render conversations prefix by prefix; "
                            "assistant-only labels need a template that appends one turn at a time")
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=True,
                        max_length=max_length)
    spans = trained_spans(tokenizer, messages, unmask_user=unmask_user)
    labels = [token if any(lo <= start < hi for lo, hi in spans) else IGNORE
              for token, (start, _end) in zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)]
    metadata = sample["metadata"]
    return Example(tuple(encoded["input_ids"]), tuple(labels), str(metadata.get("leaf", "")),
                   str(metadata.get("source", "")))


def load_examples(path: Path, tokenizer: Any, *, max_length: int, unmask_knowledge_user: bool,
                  window: int | None = None) -> list[Example]:
    """A phase's file tokenised; knowledge-flow samples train on their user turn when asked to.

    `max_length` 0 derives the length from the data: the longest row, within the model's context
    `window`. No row is dropped in silence: a row whose answer would start after the length stops the
    run with the count, the longest row's length and the fix."""
    samples = read_samples(path)
    unmask = [unmask_knowledge_user and s["metadata"].get("flow") == "knowledge" for s in samples]
    limit = window or 1_000_000
    full = [tokenize(tokenizer, s, max_length=limit, unmask_user=u) for s, u in zip(samples, unmask, strict=True)]
    longest = max((len(e.input_ids) for e in full), default=0)
    length = max_length or min(longest, limit)
    examples = full if length >= longest else [
        tokenize(tokenizer, s, max_length=length, unmask_user=u) for s, u in zip(samples, unmask, strict=True)]
    kept = [e for e in examples if e.trained_tokens]
    if len(kept) < len(samples):
        lost = len(samples) - len(kept)
        if window is not None and longest >= window and (not max_length or max_length >= window):
            fix = (f"the model's context window is {window} tokens: shorten those rows' contexts (the leaves' "
                   "documents) or train a student with a longer window")
        else:
            fix = f"set train.max_length to at least {longest} (the longest row), or to 0 to derive it from the data"
        raise DataError(f"{path}: {lost} of {len(samples)} rows would be dropped: their answers start after "
                        f"{length} tokens; {fix}")
    return kept


def used_length(examples: Sequence[Example]) -> int:
    """The longest tokenised row of a phase: the length a derived `max_length` came to."""
    return max((len(e.input_ids) for e in examples), default=0)


def plan_batches(lengths: Sequence[int], *, batch_size: int, steps: int, seed: int, phase: int,
                 group: int = 8, name: str = "") -> list[list[int]]:
    """`steps` batches of `batch_size` sample indices: shuffled epochs, grouped by length.

    A pure function of its arguments, so a resumed run (or another process) computes the very same
    order. Each epoch is a fresh permutation; every window of `group` batches is sorted by length
    before it is cut (less padding), the epoch's batches are shuffled, and an epoch's last short
    batch is dropped (another permutation leaves out other samples).
    """
    if len(lengths) < batch_size:
        raise DataError(f"phase {name or phase + 1} has {len(lengths)} trainable samples, fewer than batch_size "
                        f"{batch_size}: lower --batch-size or generate more data")
    rng = np.random.default_rng([seed, phase])
    window = batch_size * group
    batches: list[list[int]] = []
    while len(batches) < steps:
        order = [int(i) for i in rng.permutation(len(lengths))]
        epoch = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start:start + window], key=lambda i: -lengths[i])
            epoch.extend(chunk[i:i + batch_size] for i in range(0, len(chunk) - batch_size + 1, batch_size))
        batches.extend(epoch[i] for i in rng.permutation(len(epoch)))
    return batches[:steps]


def micro_batches(rows: Sequence[Example], most_rows: int, most_tokens: int | None = None) -> list[list[Example]]:
    """One process's rows of a step cut into forward passes, in order: at most `most_rows` rows each,
    and at most `most_tokens` padded tokens (rows times the longest), which is what a pass's activations
    grow with; a row longer than that goes alone. The step's gradient does not depend on the cut (the
    loss is summed, then divided by the whole batch's token count): only its memory does."""
    passes: list[list[Example]] = []
    for row in rows:
        current = passes[-1] if passes else None
        if current is not None and len(current) < most_rows and (
                most_tokens is None
                or (len(current) + 1) * max(len(row.input_ids), *(len(r.input_ids) for r in current)) <= most_tokens):
            current.append(row)
        else:
            passes.append([row])
    return passes


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, Any]:
    """Right-padded `input_ids`, `attention_mask` and `labels` tensors for one micro-batch."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
