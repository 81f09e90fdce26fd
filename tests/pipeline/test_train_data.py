"""Assistant-only labels from the chat template, the data contract's errors, and the batch plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.models import tiny_model
from pipeline.train.data import IGNORE, DataError, collate, plan_batches, read_samples, tokenize


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model(tmp_path_factory.mktemp("tiny"))))


SAMPLE = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is a fox?"},
                       {"role": "assistant", "content": "A quick brown dog."}],
          "metadata": {"leaf": "knowledge/a", "flow": "knowledge", "source": "generated"}}


def trained_text(tokenizer, example) -> str:
    return tokenizer.decode([t for t, label in zip(example.input_ids, example.labels, strict=True) if label != IGNORE])


def test_only_the_assistant_turn_and_its_end_marker_carry_loss(tokenizer) -> None:
    example = tokenize(tokenizer, SAMPLE, max_length=256, unmask_user=False)
    assert trained_text(tokenizer, example) == "A quick brown dog.<|im_end|>\n"
    assert example.labels[0] == IGNORE


def test_knowledge_samples_can_also_train_on_the_user_turn(tokenizer) -> None:
    example = tokenize(tokenizer, SAMPLE, max_length=256, unmask_user=True)
    text = trained_text(tokenizer, example)
    assert "What is a fox?" in text and "A quick brown dog." in text and "Be brief." not in text


def test_every_assistant_turn_of_a_multi_turn_conversation_is_trained(tokenizer) -> None:
    sample = {"messages": [{"role": "user", "content": "one"}, {"role": "assistant", "content": "fox"},
                           {"role": "user", "content": "two"}, {"role": "assistant", "content": "dog"}],
              "metadata": {}}
    text = trained_text(tokenizer, tokenize(tokenizer, sample, max_length=256, unmask_user=False))
    assert "fox" in text and "dog" in text and "one" not in text and "two" not in text


def test_truncation_keeps_ids_and_labels_aligned(tokenizer) -> None:
    example = tokenize(tokenizer, SAMPLE, max_length=8, unmask_user=False)
    assert len(example.input_ids) == len(example.labels) == 8


@pytest.mark.parametrize(("line", "expected"), [
    ("{not json", "not JSON"),
    (json.dumps({"messages": []}), "non-empty `messages`"),
    (json.dumps({"messages": [{"role": "robot", "content": "x"}]}), r"messages\[0\]"),
    (json.dumps({"messages": [{"role": "user", "content": "x"}]}), "no assistant message"),
])
def test_a_malformed_line_is_refused_with_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "phase1.jsonl"
    path.write_text(json.dumps(SAMPLE) + "\n" + line + "\n")
    with pytest.raises(DataError, match=expected) as caught:
        read_samples(path)
    assert f"{path}:2" in str(caught.value)


def test_the_batch_plan_is_a_pure_function_of_seed_and_phase() -> None:
    lengths = [5, 50, 7, 30, 12, 9, 40, 3, 22, 18]
    plan = plan_batches(lengths, batch_size=4, steps=6, seed=1, phase=0)
    assert plan == plan_batches(lengths, batch_size=4, steps=6, seed=1, phase=0)
    assert plan != plan_batches(lengths, batch_size=4, steps=6, seed=1, phase=1)
    assert len(plan) == 6 and all(len(batch) == 4 for batch in plan)
    seen = [i for batch in plan[:2] for i in batch]  # the first 8 indices: no repeats inside one epoch
    assert len(set(seen)) == len(seen)


def test_collate_pads_right_and_masks_padding(tokenizer) -> None:
    short = tokenize(tokenizer, SAMPLE, max_length=6, unmask_user=False)
    long = tokenize(tokenizer, SAMPLE, max_length=256, unmask_user=False)
    batch = collate([short, long], pad_id=tokenizer.pad_token_id)
    assert batch["input_ids"].shape == (2, len(long.input_ids))
    assert int(batch["attention_mask"][0].sum()) == 6
    assert (batch["labels"][0, 6:] == IGNORE).all()


def test_a_phase_smaller_than_one_batch_is_refused_by_name() -> None:
    with pytest.raises(DataError, match="phase skills has 3 trainable samples, fewer than batch_size 4"):
        plan_batches([5, 6, 7], batch_size=4, steps=2, seed=0, phase=1, name="skills")


def _rows(path: Path, contexts: list[int]) -> Path:
    """A phase file whose rows carry user turns of the given word counts before their answer."""
    path.write_text("".join(json.dumps({**SAMPLE, "messages": [
        SAMPLE["messages"][0], {"role": "user", "content": "word " * words + "What is a fox?"},
        SAMPLE["messages"][2]], "metadata": {**SAMPLE["metadata"], "flow": "freeform"}}) + "\n"
        for words in contexts), encoding="utf-8")
    return path


def test_a_derived_max_length_keeps_every_row(tokenizer, tmp_path: Path) -> None:
    from pipeline.train.data import load_examples, used_length

    data = _rows(tmp_path / "p.jsonl", [5, 50, 600])
    examples = load_examples(data, tokenizer, max_length=0, unmask_knowledge_user=False, window=2048)
    assert len(examples) == 3 and used_length(examples) > 600


def test_no_row_is_dropped_in_silence(tokenizer, tmp_path: Path) -> None:
    from pipeline.train.data import load_examples

    data = _rows(tmp_path / "p.jsonl", [5, 10, 600])
    with pytest.raises(DataError, match=r"p\.jsonl: 1 of 3 rows would be dropped: their answers start after 100 "
                                        r"tokens; set train\.max_length to at least \d+ \(the longest row\), or to 0"):
        load_examples(data, tokenizer, max_length=100, unmask_knowledge_user=False, window=2048)
    with pytest.raises(DataError, match=r"1 of 3 rows .* the model's context window is 256 tokens: shorten"):
        load_examples(data, tokenizer, max_length=0, unmask_knowledge_user=False, window=256)


def test_a_step_is_cut_into_passes_by_rows_and_padded_tokens() -> None:
    """Memory (issue 27): a pass holds at most `most_rows` rows and `most_tokens` padded tokens; a row
    longer than that goes alone; every row is in exactly one pass, in order."""
    from pipeline.train.data import Example, micro_batches

    rows = [Example((1,) * n, (1,) * n, "leaf", "seed") for n in (300, 250, 120, 100, 90, 700)]
    passes = micro_batches(rows, most_rows=4, most_tokens=550)
    assert [[len(r.input_ids) for r in p] for p in passes] == [[300], [250, 120], [100, 90], [700]]
    assert all(len(p) * max(len(r.input_ids) for r in p) <= 550 for p in passes if len(p) > 1)
    assert [[len(r.input_ids) for r in p] for p in micro_batches(rows, most_rows=2)] == \
        [[300, 250], [120, 100], [90, 700]]


def test_the_activation_estimate_is_far_smaller_with_checkpointing() -> None:
    from types import SimpleNamespace

    from pipeline.train.stage import activation_budget, activation_bytes_per_token

    smollm2 = SimpleNamespace(num_hidden_layers=30, hidden_size=576, intermediate_size=1536)
    full = activation_bytes_per_token(smollm2, checkpointing=False)
    assert 1.8 * 2**20 < full < 2.2 * 2**20  # measured: 2.0 MB a token (docs/build.md)
    assert activation_bytes_per_token(smollm2, checkpointing=True) < full / 5
    assert activation_bytes_per_token(smollm2, checkpointing=True, dropout=True) > \
        activation_bytes_per_token(smollm2, checkpointing=True)  # dropout keeps a masked copy of each input
    assert activation_budget(4 * 2**30) == 2**29 and activation_budget(64 * 2**30) == 768 * 2**20
