"""The batched in-process teacher: the same replies as one prompt at a time, real batches, and the batcher."""

from __future__ import annotations

import threading

import pytest
import torch

from pipeline.models import tiny_model
from pipeline.teacher import Batcher, Choice, LocalBackend, Request, Teacher

torch.set_num_threads(1)

# Prompts of different lengths, so a batch pads most rows on the left.
PROMPTS = ["hi", "What is a word that means happy?", "Write a question about the sun and the moon and the stars.",
           "Rate this: the quick brown fox jumps over the lazy dog. Reply in the form: Score: N", "Is the sky blue?",
           "Give three words meaning small, one per line, numbered 1., 2., 3.", "dog", "Which planet is largest?"]


def _chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny model with larger random weights: its default init replies the same token to everything,
    which would make equal replies prove nothing."""
    from transformers import AutoModelForCausalLM

    folder = tiny_model(tmp_path_factory.mktemp("tiny") / "model", hidden=64, vocab=400)
    model = AutoModelForCausalLM.from_pretrained(folder)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for weight in model.parameters():
            if weight.dim() > 1:
                weight.copy_(torch.randn(weight.shape, generator=generator) * 0.3)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def backends(tiny):
    return LocalBackend(tiny, batch_size=1), LocalBackend(tiny, batch_size=len(PROMPTS))


def test_batched_greedy_replies_equal_the_unbatched_ones(backends):
    """Guaranteed: a row's reply does not depend on its batch (left padding, position ids from the first
    real token, padding masked out). Only float rounding differs in the padded attention, so a token
    could flip only where two next-token logits tie to within rounding; on this fixed set none does."""
    one, batched = backends
    requests = [Request(_chat(p), max_tokens=12) for p in PROMPTS]
    alone = [one.complete(r) for r in requests]
    together = Teacher(batched, concurrency=len(requests)).ask_many(requests)
    assert together == alone
    assert max(batched.batcher.batches) > 1  # they really went through together
    assert len(set(alone)) > 1  # and they are not all the same text


def test_batched_judgements_equal_the_unbatched_ones(backends):
    one, batched = backends
    choices = [Choice(_chat(p), ("yes", "no")) if i % 2 else Choice(_chat(p), tuple("12345"), "Score:")
               for i, p in enumerate(PROMPTS)]
    alone = [one.option_probabilities(c) for c in choices]
    before = len(batched.batcher.batches)
    together = Teacher(batched, concurrency=len(choices)).choose_many(choices)
    assert max(batched.batcher.batches[before:]) > 1
    for got, expected in zip(together, alone, strict=True):
        assert got == pytest.approx(expected, abs=1e-5)


def test_sampled_replies_depend_only_on_their_prompt(backends):
    """Each sampled row draws from its own generator seeded with the teacher's seed: the same prompt gives
    the same reply alone or in any batch, and a different prompt does not shift another row's draws."""
    one, batched = backends
    requests = [Request(_chat(p), max_tokens=10, temperature=0.9) for p in PROMPTS[:4]]
    alone = [one.complete(r) for r in requests]
    teacher = Teacher(batched, concurrency=len(requests))
    assert teacher.ask_many(requests) == alone
    assert teacher.ask_many(requests[::-1]) == alone[::-1]
    greedy = one.complete(Request(_chat(PROMPTS[2]), max_tokens=10))
    mixed = teacher.ask_many([requests[0], Request(_chat(PROMPTS[2]), max_tokens=10)])
    assert mixed == [alone[0], greedy]


def test_each_reply_stops_at_its_own_max_tokens(backends):
    _, batched = backends
    long, short = Request(_chat(PROMPTS[1]), max_tokens=12), Request(_chat(PROMPTS[1]), max_tokens=3)
    tokens = batched.tokenizer
    replies = Teacher(batched, concurrency=2).ask_many([long, short])
    assert len(tokens.encode(replies[1], add_special_tokens=False)) <= 3
    assert replies[0].startswith(replies[1])


def test_the_batcher_groups_by_kind_and_bounds_the_batch():
    seen: list[list[tuple[str, int]]] = []
    gate = threading.Event()

    def run(items):
        gate.wait(5)
        seen.append(list(items))
        return [f"{kind}{n}" for kind, n in items]

    batcher = Batcher(run, size=3, kind=lambda item: item[0], gather_s=0.5)
    items = [("a", 1), ("b", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 2)]
    results: dict[tuple[str, int], str] = {}
    threads = [threading.Thread(target=lambda it=it: results.__setitem__(it, batcher.submit(it))) for it in items]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert results == {it: f"{it[0]}{it[1]}" for it in items}
    assert all(len(batch) <= 3 and len({kind for kind, _ in batch}) == 1 for batch in seen)
    assert next(len(batch) for batch in seen if batch[0][0] == "a") == 3  # the first "a" batch waited to fill


def test_a_failing_item_fails_alone():
    def run(items):
        if any(item == "bad" for item in items):
            raise ValueError("bad item")
        return [item.upper() for item in items]

    batcher = Batcher(run, size=4, kind=lambda _: 0, gather_s=0.2)
    results: dict[str, object] = {}

    def submit(item: str) -> None:
        try:
            results[item] = batcher.submit(item)
        except ValueError as exc:
            results[item] = exc

    threads = [threading.Thread(target=submit, args=(item,)) for item in ("ok", "bad", "fine")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results["ok"] == "OK" and results["fine"] == "FINE"
    assert isinstance(results["bad"], ValueError)


def test_whitespace_steps_on_the_kv_cache_equal_whole_new_passes(backends, monkeypatch):
    """A judgement whose likeliest next token is whitespace steps over it on the KV cache, the batch's
    other rows masked out: the same probabilities as a whole new pass over the prompt and the token."""
    import pipeline.teacher as teacher

    _, batched = backends
    monkeypatch.setattr(batched.tokenizer, "decode", lambda ids, **_: " ")  # every top token looks like a space
    choices = [Choice(_chat(p), tuple("12345"), "Score:") for p in PROMPTS[:5]]
    with torch.no_grad():
        got = batched._choose(choices)
        for choice, probabilities in zip(choices, got, strict=True):
            options = batched._first_tokens(choice.options)
            ids = batched._ids(choice.messages, choice.prefix)
            for _ in range(teacher.MAX_WHITESPACE_STEPS + 1):
                probs = torch.softmax(batched.model(input_ids=torch.tensor([ids])).logits[0, -1], dim=-1)
                top = int(probs.argmax())
                if any(top in option for option in options):
                    break
                ids.append(top)
            assert probabilities == pytest.approx([float(probs[o].sum()) for o in options], abs=1e-5)
