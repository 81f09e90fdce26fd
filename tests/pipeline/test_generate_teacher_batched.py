"""The batched in-process teacher: the same replies as one prompt at a time, rows joining and leaving the
running batch, and failures kept to their own request."""

from __future__ import annotations

import pytest
import torch

from pipeline.generate.decoding import Row
from pipeline.generate.teacher import Choice, LocalBackend, Request, Teacher
from tests.pipeline.generate_helpers import noisy_tiny_model

torch.set_num_threads(1)

# Prompts of different lengths, so a batch pads most rows on the left.
PROMPTS = ["hi", "What is a word that means happy?", "Write a question about the sun and the moon and the stars.",
           "Rate this: the quick brown fox jumps over the lazy dog. Reply in the form: Score: N", "Is the sky blue?",
           "Give three words meaning small, one per line, numbered 1., 2., 3.", "dog", "Which planet is largest?"]


def _chat(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return noisy_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def backends(tiny):
    return LocalBackend(tiny, batch_size=1), LocalBackend(tiny, batch_size=len(PROMPTS))


def _generate_alone(backend: LocalBackend, request: Request) -> str:
    """The reference: transformers' own `generate` on the prompt alone."""
    ids = torch.tensor([backend._ids(request.messages)])
    with torch.no_grad():
        out = backend.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                     max_new_tokens=request.max_tokens, temperature=None, top_p=None, top_k=None,
                                     pad_token_id=backend.tokenizer.pad_token_id)
    return backend.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)


def test_batched_greedy_replies_equal_transformers_generate_alone(backends):
    """Guaranteed: a row's reply does not depend on its batch (left padding, position ids from the first
    real token, padding masked out). Only float rounding differs in the padded attention, so a token
    could flip only where two next-token logits tie to within rounding; on this fixed set none does."""
    one, batched = backends
    requests = [Request(_chat(p), max_tokens=12) for p in PROMPTS]
    alone = [_generate_alone(one, r) for r in requests]
    assert [one.complete(r) for r in requests] == alone
    together = Teacher(batched, concurrency=len(requests)).ask_many(requests)
    assert together == alone
    assert max(batched.decoder.widths) > 1  # they really went through together
    assert len(set(alone)) > 1  # and they are not all the same text


def test_batched_judgements_equal_the_unbatched_ones(backends):
    one, batched = backends
    choices = [Choice(_chat(p), ("yes", "no")) if i % 2 else Choice(_chat(p), tuple("12345"), "Score:")
               for i, p in enumerate(PROMPTS)]
    alone = [one.option_probabilities(c) for c in choices]
    before = len(batched.judged)
    together = Teacher(batched, concurrency=len(choices)).choose_many(choices)
    assert max(batched.judged[before:]) > 1
    for got, expected in zip(together, alone, strict=True):
        assert got == pytest.approx(expected, abs=1e-5)


def test_judgements_sharing_a_long_start_run_it_once_and_equal_whole_passes(backends, monkeypatch):
    """One leaf's judgements begin with the same task text: that start runs once, and each row's
    probabilities equal those of a whole pass over its own prompt."""
    _, batched = backends
    task = "Task: " + " ".join(f"word{i}" for i in range(30)) + "\n\nQuestion: "
    choices = [Choice(_chat(task + p), ("yes", "no")) for p in PROMPTS[:5]] + [Choice(_chat("dog"), ("yes", "no"))]
    passes: list[int] = []
    forward = batched.model.forward
    monkeypatch.setattr(batched.model, "forward", lambda *a, **k: (passes.append(k["input_ids"].shape[1]),
                                                                   forward(*a, **k))[1])
    with torch.no_grad():
        got = batched._choose(choices)
        monkeypatch.undo()
        for choice, probabilities in zip(choices, got, strict=True):
            options = batched._first_tokens(choice.options)
            probs = torch.softmax(batched.model(input_ids=torch.tensor([batched._ids(choice.messages)])).logits[0, -1],
                                  dim=-1)
            assert probabilities == pytest.approx([float(probs[o].sum()) for o in options], abs=1e-5)
    longest = max(len(batched._ids(c.messages)) for c in choices)
    assert max(passes) < longest and sum(passes) < sum(len(batched._ids(c.messages)) for c in choices) / 2


def test_shared_starts_keep_deep_starts_deep():
    from pipeline.generate.decoding import MIN_SHARED_START, shared_starts

    system = list(range(MIN_SHARED_START))  # every row's start
    leaf_a, leaf_b = system + [100] * 40, system + [200] * 40
    rows = [[*leaf_a, 1, 2], [*leaf_b, 1], [*leaf_a, 3], [7, 8, 9], [*leaf_b, 2, 2], [*leaf_a, 4]]
    groups = sorted((sorted(group), shared) for group, shared in shared_starts(rows))
    assert groups == [([0, 2, 5], len(leaf_a)), ([1, 4], len(leaf_b)), ([3], 0)]
    assert shared_starts([leaf_a, leaf_a]) == [([0, 1], len(leaf_a) - 1)]  # each keeps a token to run
    # A row sorted first that shares only the system prompt does not drag a document's rows down to it.
    rows = [[*system, 50, 51], [*leaf_a, 1], [*leaf_a, 2], [*leaf_a, 3]]
    assert shared_starts(rows) == [([1, 2, 3], len(leaf_a)), ([0], 0)]


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


def test_rows_join_and_leave_a_full_batch(tiny):
    """Twice as many requests as places, with replies of different lengths: every reply equals the one
    made alone, and the batch never holds more rows than its size."""
    backend = LocalBackend(tiny, batch_size=3)
    requests = [Request(_chat(p), max_tokens=2 + 3 * (i % 4)) for i, p in enumerate(PROMPTS[:6])]
    alone = [_generate_alone(backend, r) for r in requests]
    assert Teacher(backend, concurrency=6).ask_many(requests) == alone
    assert max(backend.decoder.widths) == 3
    assert not backend.decoder.rows and backend.decoder.cache is None  # nothing left behind


def test_a_row_leaving_cuts_the_columns_only_it_needed(backends):
    """When the longest prompt's reply ends, the padding it forced on the others goes with it."""
    _, batched = backends
    decoder, ids = batched.decoder, [batched._ids(_chat(p)) for p in (PROMPTS[0], PROMPTS[3])]
    short, long = Row("short", max_tokens=20), Row("long", max_tokens=1)
    with torch.no_grad():
        assert decoder.admit(short, ids[0])
        assert decoder.admit(long, ids[1]) is False  # one token asked: ended at its prompt
        assert decoder.mask.shape[1] == len(ids[0])
        long = Row("long", max_tokens=2)
        assert decoder.admit(long, ids[1])
        assert decoder.mask.shape == (2, len(ids[1]))
        assert [row.owner for row in decoder.step()] == ["long"]
        assert decoder.mask.shape == (1, len(ids[0]) + 1) and bool(decoder.mask.all())
        assert decoder.cache.layers[0].keys.shape[2] == len(ids[0]) + 1
    decoder.clear()


def test_a_failing_request_fails_alone(tiny, monkeypatch):
    backend = LocalBackend(tiny, batch_size=4)
    ids = backend._ids
    monkeypatch.setattr(backend, "_ids", lambda messages, prefix="": (
        (_ for _ in ()).throw(ValueError("bad prompt")) if messages[0]["content"] == "bad" else ids(messages, prefix)))
    teacher = Teacher(backend, concurrency=4)
    replies = teacher.ask_many([Request(_chat(p), max_tokens=4) for p in ("hi", "bad", "dog")])
    assert replies[1] is None and replies[0] and replies[2]
    assert teacher.counters.failed == 1 and "bad prompt" in teacher.errors[0]
    choices = [Choice(_chat(p), ("yes", "no")) for p in ("hi", "bad", "dog")]
    scores = teacher.choose_many(choices)
    assert scores[1] is None and scores[0] and scores[2]


def test_a_failing_step_fails_its_rows_and_the_model_goes_on(tiny, monkeypatch):
    backend = LocalBackend(tiny, batch_size=4)
    teacher = Teacher(backend, concurrency=4)
    monkeypatch.setattr(backend.decoder, "step", lambda: (_ for _ in ()).throw(RuntimeError("out of memory")))
    assert teacher.ask_many([Request(_chat(p), max_tokens=6) for p in PROMPTS[:3]]) == [None] * 3
    assert teacher.counters.failed == 3 and not backend.decoder.rows
    monkeypatch.undo()
    assert teacher.ask(Request(_chat("hi"), max_tokens=3))


def test_whitespace_steps_on_the_kv_cache_equal_whole_new_passes(backends, monkeypatch):
    """A judgement whose likeliest next token is whitespace steps over it on the KV cache, the batch's
    other rows masked out: the same probabilities as a whole new pass over the prompt and the token."""
    import pipeline.generate.teacher as teacher

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


def test_one_caller_runs_every_prompt_through_a_full_batch(backends):
    """`Decoder.run` (evaluation, checkpoint selection, precheck): every reply in order, equal to
    transformers' `generate` alone, with more prompts than places."""
    from pipeline.generate.decoding import Decoder, stop_ids

    one, _ = backends
    requests = [Request(_chat(p), max_tokens=10) for p in PROMPTS]
    decoder = Decoder(one.model, stop_ids(one.model, one.tokenizer), size=3)
    replies = decoder.run([one._ids(r.messages) for r in requests], max_tokens=10)
    assert [one.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in replies] == \
        [_generate_alone(one, r) for r in requests]
    assert max(decoder.widths) == 3 and not decoder.rows


def test_prompts_sharing_a_document_run_it_once_with_the_same_replies(backends, monkeypatch):
    """Evaluation and the precheck ask several questions on one document: `Decoder.run` runs the shared
    start once for them (not once a question), and each reply is still transformers' own alone."""
    from pipeline.generate.decoding import Decoder, stop_ids

    one, _ = backends
    document = "Notes: " + " ".join(f"fact{i} is {i * 7}" for i in range(25)) + "\n\n"
    requests = [Request(_chat(document + p), max_tokens=10) for p in PROMPTS[:5]] + \
        [Request(_chat(p), max_tokens=10) for p in PROMPTS[5:]]
    prompts = [one._ids(r.messages) for r in requests]
    passes: list[int] = []
    forward = one.model.forward
    monkeypatch.setattr(one.model, "forward", lambda *a, **k: (passes.append(k["input_ids"].numel()),
                                                               forward(*a, **k))[1])
    decoder = Decoder(one.model, stop_ids(one.model, one.tokenizer), size=3)
    replies = decoder.run(prompts, max_tokens=10)
    monkeypatch.undo()
    assert [one.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in replies] == \
        [_generate_alone(one, r) for r in requests]
    document_tokens = len(one.tokenizer(document)["input_ids"])
    assert sum(passes) < sum(map(len, prompts)) - 3 * document_tokens  # four of five runs of it saved
    assert decoder.started is None  # the start is not held after the run


def test_an_interrupted_round_leaves_no_caller_waiting(tiny, monkeypatch):
    """Ctrl-C in the thread doing the round: it raises there, and every other caller with an item in
    flight gets an error instead of waiting for ever."""
    from pipeline.generate.teacher import _Slot

    backend = LocalBackend(tiny, batch_size=4)
    waiting = _Slot(Request(_chat("dog"), max_tokens=30))  # another thread's request, queued first
    backend._requests.append(waiting)
    step = backend.decoder.step

    def interrupted_step():
        if len(backend.decoder.rows) < 2:
            return step()
        raise KeyboardInterrupt

    monkeypatch.setattr(backend.decoder, "step", interrupted_step)
    with pytest.raises(KeyboardInterrupt):
        backend.complete(Request(_chat("hi"), max_tokens=30))
    assert waiting.done and isinstance(waiting.error, RuntimeError) and "interrupted" in str(waiting.error)
    assert not backend.decoder.rows and not backend._busy
    monkeypatch.undo()
    assert backend.complete(Request(_chat("hi"), max_tokens=3))  # the model goes on


def test_an_interrupted_judgement_leaves_no_caller_waiting(tiny, monkeypatch):
    from pipeline.generate.teacher import _Slot

    backend = LocalBackend(tiny, batch_size=4)
    waiting = _Slot(Choice(_chat("dog"), ("yes", "no")))
    backend._choices.append(waiting)
    monkeypatch.setattr(backend, "_choose", lambda choices: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        backend.option_probabilities(Choice(_chat("hi"), ("yes", "no")))
    assert waiting.done and isinstance(waiting.error, RuntimeError)


def test_a_prompt_longer_than_the_context_fails_alone(tiny):
    """Hostile text (a merged leaf's huge context) fails its own request with the sizes, instead of
    padding every row of the batch to its length."""
    backend = LocalBackend(tiny, batch_size=4)
    teacher = Teacher(backend, concurrency=4)
    window = backend.model.config.max_position_embeddings
    huge = " ".join(["word"] * (window + 10))
    replies = teacher.ask_many([Request(_chat("hi"), max_tokens=4), Request(_chat(huge), max_tokens=4)])
    assert replies[0] and replies[1] is None
    assert f"context of {window} tokens" in teacher.errors[0]
    assert max(backend.decoder.widths) == 1  # the huge prompt never joined the batch
    replies = backend.decoder.run([backend._ids(_chat(huge)), backend._ids(_chat("hi"))], max_tokens=4)
    assert replies[0] == [] and replies[1]  # evaluation: an empty answer, and the others go on


def test_a_byte_budget_keeps_the_batch_small_and_the_replies_the_same(backends, monkeypatch):
    """Memory (issue 27): the batch's cache, padding and the replies still to come included, stays
    within `max_bytes`; rows then wait for room, and every reply is still transformers' own."""
    from pipeline.generate.decoding import Decoder, cache_bytes_per_token, stop_ids

    one, _ = backends
    requests = [Request(_chat(p), max_tokens=10) for p in PROMPTS]
    prompts = [one._ids(r.messages) for r in requests]
    budget = 2 * (max(map(len, prompts)) + 10) * cache_bytes_per_token(one.model)  # two long rows
    decoder = Decoder(one.model, stop_ids(one.model, one.tokenizer), size=8, max_bytes=budget)
    held: list[int] = []
    step = Decoder.step

    def watched(self):
        held.append(len(self.rows) * self.cache.layers[0]._keys.shape[-2])
        return step(self)

    monkeypatch.setattr(Decoder, "step", watched)
    replies = decoder.run(prompts, max_tokens=10)
    assert [one.tokenizer.decode(tokens, skip_special_tokens=True) for tokens in replies] == \
        [_generate_alone(one, r) for r in requests]
    assert max(held) * cache_bytes_per_token(one.model) <= budget
    assert max(decoder.widths) > 1  # short rows still share a step


def test_a_long_prompt_is_prefilled_in_chunks_with_the_same_reply(backends, monkeypatch):
    """Chunked prefill (one pass's attention stays small) gives the reply of one pass."""
    from pipeline.generate import decoding

    one, _ = backends
    request = Request(_chat(PROMPTS[3]), max_tokens=10)
    monkeypatch.setattr(decoding, "PREFILL_CHUNK", 4)
    decoder = decoding.Decoder(one.model, decoding.stop_ids(one.model, one.tokenizer), size=1)
    (reply,) = decoder.run([one._ids(request.messages)], max_tokens=10)
    assert one.tokenizer.decode(reply, skip_special_tokens=True) == _generate_alone(one, request)


def test_a_cache_layer_writes_in_place_and_grows_when_its_room_runs_out():
    """`RoomyLayer`: a step's keys land in the buffer without a copy of the rest; past its room it
    reallocates and keeps every earlier position."""
    from pipeline.generate.decoding import RoomyLayer

    keys = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).reshape(2, 1, 3, 2)
    layer = RoomyLayer([(keys, keys + 100)], width=3, room=2)
    buffer = layer._keys
    for step in range(4):
        new = torch.full((2, 1, 1, 2), float(-step - 1))
        out_keys, out_values = layer.update(new, new)
        assert out_keys.shape[-2] == 4 + step and torch.equal(out_keys[..., :3, :], keys)
        assert torch.equal(out_keys[..., -1:, :], new) and torch.equal(out_values[..., :3, :], keys + 100)
        assert (layer._keys is buffer) == (step < 2)
