"""The teacher (and judge): an OpenAI-compatible server or an in-process transformers model.

Both backends sit behind `Teacher`, which bounds concurrency, retries timeouts, connection errors,
429 and 5xx answers with exponential backoff, and counts every request, retry and failure: a
request that still fails is returned as None and counted, never raised into the run.

A backend that can read its own next-token distribution (the in-process model) also answers
`Choice` requests: the probability of each option as the first token of its reply. A small judge
that rambles or garbles its text still ranks "yes" against "no" sensibly, so the flows use that
where it exists; an OpenAI-compatible server keeps the text judgement.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from pipeline.memory import return_freed
from pipeline.settings import TeacherSettings

Messages = list[dict[str, str]]
MAX_ERRORS_KEPT = 20  # the report keeps the first failures' messages, counts all of them
MAX_WHITESPACE_STEPS = 2  # a probability judge skips at most this many leading whitespace tokens


@dataclass(frozen=True, slots=True)
class Request:
    messages: Messages
    max_tokens: int
    temperature: float = 0.0


@dataclass(frozen=True, slots=True)
class Choice:
    """A judgement by next-token probabilities: `options` scored as the reply's first token, after
    the assistant's reply has been started with `prefix` (e.g. `Score:`)."""

    messages: Messages
    options: tuple[str, ...]
    prefix: str = ""


class RetryableError(RuntimeError):
    """A transient failure (timeout, connection, 429, 5xx): worth another try."""


class Backend(Protocol):
    identity: str

    def complete(self, request: Request) -> str: ...


class ScoringBackend(Backend, Protocol):
    def option_probabilities(self, choice: Choice) -> list[float]: ...


class OpenAIBackend:
    """Any OpenAI-compatible chat completions server (vLLM, llama.cpp, `transformers serve`)."""

    def __init__(self, base_url: str, model: str = "", api_key: str = "none", timeout_s: float = 120.0) -> None:
        import openai

        self._openai = openai
        base = base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        # Retries are ours (counted); the client's own would hide them.
        self.client = openai.OpenAI(base_url=base, api_key=api_key, timeout=timeout_s, max_retries=0)
        self.model = model or self._first_model()
        self.identity = f"openai:{self.model}"

    def _first_model(self) -> str:
        try:
            models = self.client.models.list().data
        except self._openai.OpenAIError as exc:
            raise RuntimeError(f"{self.client.base_url}: cannot list the server's models: {exc}") from None
        if not models:
            raise RuntimeError(f"{self.client.base_url}: the server serves no model; pass --teacher-model")
        return models[0].id

    def complete(self, request: Request) -> str:
        o = self._openai
        try:
            answer = self.client.chat.completions.create(
                model=self.model, messages=request.messages, max_tokens=request.max_tokens,
                temperature=request.temperature)
        except (o.APITimeoutError, o.APIConnectionError, o.RateLimitError, o.InternalServerError) as exc:
            raise RetryableError(str(exc)) from exc
        except o.APIStatusError as exc:
            if exc.status_code >= 500:
                raise RetryableError(str(exc)) from exc
            raise
        return answer.choices[0].message.content or ""


def local_identity(folder: Path) -> str:
    """A local model's identity for cache keys: its folder name and a hash of its config and weight files."""
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    for f in sorted(folder.glob("*.safetensors")):
        digest.update(f"{f.name}:{f.stat().st_size}".encode())
    return f"local:{folder.name}:{digest.hexdigest()[:16]}"


def http_identity(settings: TeacherSettings) -> str:
    """A server's identity for cache keys: the configured model name, or the endpoint when none is."""
    return f"openai:{settings.model or settings.endpoint}"


@dataclass(slots=True)
class _Slot:
    """One submitted item waiting for its turn: its result or its error once done."""

    item: Any
    ids: list[int] | None = None  # a reply's prompt tokens, once rendered
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class LocalBackend:
    """A transformers model in this process, answering the requests in flight together.

    Requests in flight at once (from the flows' threads, `teacher.concurrency` of them) share the
    model: generation requests join one running batch of up to `batch_size` replies
    (`pipeline.generate.decoding`: continuous batching, each row leaving when its reply ends), judgements go
    through a forward pass of up to `batch_size` prompts. Whichever waiting thread finds the model
    idle does the next round for everyone (the waiting judgements, then new replies joining, then
    one decoding step) and hands over; no thread of its own, so nothing to stop. A judgement batch
    that raises is run again one at a time, so a bad item fails alone.

    A greedy reply does not depend on what it was batched with (see `pipeline.generate.decoding`). A sampled
    reply is drawn with its own generator seeded with `seed`, never a shared RNG, so it too depends
    only on its prompt.
    """

    def __init__(self, folder: Path, seed: int = 0, batch_size: int = 1, max_bytes: int | None = None) -> None:
        from pipeline.generate.decoding import Decoder, budget_bytes, stop_ids
        from pipeline.memory import memory_limit, share_heaps
        from pipeline.models import load_student

        share_heaps()
        self.model, self.tokenizer = load_student(folder)
        self.model.eval()
        self.identity = local_identity(folder)
        self.seed = seed
        self.size = max(1, batch_size)
        self.max_bytes = budget_bytes(memory_limit().bytes) if max_bytes is None else max_bytes
        self.decoder = Decoder(self.model, stop_ids(self.model, self.tokenizer), self.size, self.max_bytes)
        self.judged: list[int] = []  # the size of each judgement batch, for benchmarks and tests
        self._option_tokens: dict[tuple[str, ...], list[list[int]]] = {}
        self._requests: deque[_Slot] = deque()
        self._choices: deque[_Slot] = deque()
        self._taken: list[_Slot] = []  # the round's items: each is done or in the decoder when it ends
        self._busy = False
        self._cond = threading.Condition()

    def complete(self, request: Request) -> str:
        return self._submit(self._requests, request)

    def option_probabilities(self, choice: Choice) -> list[float]:
        return self._submit(self._choices, choice)

    def _submit(self, queue: deque[_Slot], item: Any) -> Any:
        slot = _Slot(item)
        with self._cond:
            queue.append(slot)
            while not slot.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._busy = True
                self._cond.release()
                try:
                    self._round()
                except BaseException as exc:  # interrupted: nobody waits for ever on an item in flight
                    for other in self._taken + [row.owner for row in self.decoder.clear()]:
                        if not other.done:
                            _finish(other, error=RuntimeError(f"the teacher was interrupted: {exc!r}"))
                    raise
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _take(self, queue: deque[_Slot], count: int) -> list[_Slot]:
        with self._cond:
            taken = [queue.popleft() for _ in range(min(count, len(queue)))]
        self._taken += taken
        return taken

    def _round(self) -> None:
        """The waiting judgements, then new replies joining the batch, then one decoding step."""
        import torch

        from pipeline.generate.decoding import Row

        self._taken = []
        with torch.no_grad():
            if choices := self._take(self._choices, self.size):
                self._judge(choices)
            while slot := self._next_request():
                request = slot.item
                row = Row(slot, max(1, request.max_tokens), request.temperature, self.seed)
                try:
                    if not self.decoder.admit(row, slot.ids):
                        self._reply(row)
                except Exception as exc:
                    _finish(slot, error=exc)
            if self.decoder.rows:
                try:
                    ended = self.decoder.step()
                except Exception as exc:  # the whole batch fails; each caller counts its own failure
                    ended = self.decoder.clear()
                    for row in ended:
                        _finish(row.owner, error=exc)
                    return
                for row in ended:
                    self._reply(row)

    def _next_request(self) -> _Slot | None:
        """The first waiting reply, taken if it fits in the running batch's token budget (a prompt that
        cannot be rendered is finished with its error on the way)."""
        while True:
            with self._cond:
                if not self._requests:
                    return None
                slot = self._requests[0]
            if slot.ids is None:
                try:
                    slot.ids = self._ids(slot.item.messages)
                except Exception as exc:
                    self._take(self._requests, 1)
                    _finish(slot, error=exc)
                    continue
            if not self.decoder.fits(len(slot.ids), max(1, slot.item.max_tokens)):
                return None
            return self._take(self._requests, 1)[0]

    def _reply(self, row: Any) -> None:
        _finish(row.owner, result=self.tokenizer.decode(row.tokens, skip_special_tokens=True))

    def _judge(self, batch: list[_Slot]) -> None:
        self.judged.append(len(batch))
        try:
            results = self._choose([slot.item for slot in batch])
        except Exception as exc:
            if len(batch) > 1:
                for slot in batch:
                    self._judge([slot])
            else:
                _finish(batch[0], error=exc)
            return
        for slot, result in zip(batch, results, strict=True):
            _finish(slot, result=result)
        return_freed()  # a judgement pass's activations, freed in blocks glibc would otherwise keep

    def _first_tokens(self, options: tuple[str, ...]) -> list[list[int]]:
        """Per option, the token ids that start it as a model writes it (any case, with or without a
        space), leaving out ids that start another option too (a lone space token, say)."""
        if options not in self._option_tokens:
            found: list[set[int]] = []
            for option in options:
                variants = {option, option.lower(), option.capitalize(), option.upper()}
                variants |= {" " + v for v in variants}
                encoded = (self.tokenizer.encode(v, add_special_tokens=False) for v in variants)
                found.append({ids[0] for ids in encoded if ids})
            shared = {t for i, ids in enumerate(found) for t in ids if any(t in other for other in found[i + 1:])}
            self._option_tokens[options] = [sorted(ids - shared) for ids in found]
        return self._option_tokens[options]

    def _choose(self, choices: list[Choice]) -> list[list[float]]:
        """Per choice, P(option's first token) at the start of the reply (after `prefix`). A prompt is
        all prefill, which costs the same batched or not on a CPU, so the work saved is in tokens not
        run: prompts that start alike (one leaf's task, one document's text) run their shared start
        once, and the rest is cut into groups of similar length (padding is pure waste here); a group
        is one forward pass."""
        import copy

        from pipeline.generate.decoding import plain_cache, prefill, shared_starts

        ids = [self._ids(c.messages, c.prefix) for c in choices]
        out: list[list[float]] = [[] for _ in choices]
        for rows, shared in shared_starts(ids):
            start = None
            if shared:
                start = prefill(self.model, ids[rows[0]][:shared]).cache
                if not plain_cache(start):
                    start, shared = None, 0
            fits = partial(_fits, self.model, self.max_bytes, shared)
            for group in _length_groups([len(ids[r]) - shared for r in rows], fits=fits):
                group = [rows[g] for g in group]
                cache = None
                if start is not None:
                    cache = copy.deepcopy(start)
                    cache.batch_repeat_interleave(len(group))
                probabilities = self._choose_group([choices[r] for r in group], [ids[r][shared:] for r in group],
                                                   cache, shared)
                for row, p in zip(group, probabilities, strict=True):
                    out[row] = p
        return out

    def _choose_group(self, choices: list[Choice], ids: list[list[int]], start: Any = None,
                      shared: int = 0) -> list[list[float]]:
        """One forward pass for the group (only the last position through the output layer), on top of
        `start`, the KV cache of the `shared` tokens every prompt of the group begins with. A row whose
        likeliest next token is only whitespace (` 4` is a space then a digit for some tokenizers)
        takes that token and goes one step further on the KV cache, the group's other rows masked out."""
        import torch

        tokens = [self._first_tokens(c.options) for c in choices]
        encoded = self._pad(ids)
        mask = torch.cat([torch.ones((len(ids), shared), dtype=torch.long), encoded["attention_mask"]], dim=1)
        positions = encoded["position_ids"] + shared
        out = self.model(input_ids=encoded["input_ids"], attention_mask=mask, position_ids=positions, cache=start,
                         logits_to_keep=1, use_cache=True)
        positions = positions[:, -1:]
        probs = torch.softmax(out.logits[:, -1].float(), dim=-1)
        for _ in range(MAX_WHITESPACE_STEPS):
            top = probs.argmax(dim=-1)
            waiting = torch.tensor([not self.tokenizer.decode([int(t)]).strip()
                                    and not any(int(t) in option for option in row_tokens)
                                    for t, row_tokens in zip(top, tokens, strict=True)])
            if not waiting.any():
                break
            mask = torch.cat([mask, waiting[:, None].long()], dim=1)
            positions = positions + 1
            out = self.model(input_ids=top[:, None], attention_mask=mask, position_ids=positions,
                             cache=out.cache, logits_to_keep=1, use_cache=True)
            probs = torch.where(waiting[:, None], torch.softmax(out.logits[:, -1].float(), dim=-1), probs)
        return [[float(row[option].sum()) if option else 0.0 for option in options]
                for row, options in zip(probs, tokens, strict=True)]

    def _ids(self, messages: Messages, prefix: str = "") -> list[int]:
        from pipeline.generate.decoding import prompt_ids

        return prompt_ids(self.tokenizer, messages, prefix)

    def _pad(self, rows: Sequence[list[int]]) -> dict[str, Any]:
        """Left-padded ids, their mask, and position ids counted from each row's first real token."""
        import torch

        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
        return {"input_ids": ids, "attention_mask": mask, "position_ids": (mask.cumsum(-1) - 1).clamp(min=0)}


def _fits(model: Any, max_bytes: int, shared: int, rows: int, width: int) -> bool:
    from pipeline.generate.decoding import pass_bytes

    return pass_bytes(model, rows, width, shared) <= max_bytes


def _length_groups(lengths: Sequence[int], waste: float = 0.25,
                   fits: Callable[[int, int], bool] = lambda rows, width: True) -> list[list[int]]:
    """Row indices grouped by length, longest first: a row joins the current group while the group's
    padding stays within `waste` of its real tokens and `fits(rows, width)` (the memory budget)."""
    groups: list[list[int]] = []
    for row in sorted(range(len(lengths)), key=lambda r: -lengths[r]):
        group = groups[-1] if groups else None
        if group and lengths[group[0]] * (len(group) + 1) <= (1 + waste) * (sum(lengths[r] for r in group)
                                                                          + lengths[row]) \
                and fits(len(group) + 1, lengths[group[0]]):
            group.append(row)
        else:
            groups.append([row])
    return groups


def _finish(slot: _Slot, *, result: Any = None, error: BaseException | None = None) -> None:
    slot.result, slot.error, slot.done = result, error, True


@dataclass(slots=True)
class Counters:
    requests: int = 0
    failed: int = 0
    retried: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "failed": self.failed, "retried": self.retried}


class Teacher:
    """Bounded, retried, counted access to a backend; `ask_many` keeps the order of its requests."""

    def __init__(self, backend: Backend, *, concurrency: int = 4, retries: int = 3, backoff_s: float = 0.5) -> None:
        self.backend = backend
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.counters = Counters()
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(self.concurrency)  # across every caller's threads

    @property
    def identity(self) -> str:
        return self.backend.identity

    @property
    def scores_options(self) -> bool:
        """Whether the backend gives next-token probabilities (`choose`): the in-process model does."""
        return callable(getattr(self.backend, "option_probabilities", None))

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self.counters, name, getattr(self.counters, name) + delta)

    def ask(self, request: Request) -> str | None:
        """The teacher's text, or None after the retries are spent (counted as failed)."""
        return self._call(self.backend.complete, request)

    def choose(self, choice: Choice) -> list[float] | None:
        """Each option's probability, or None after the retries are spent (counted as failed)."""
        backend: ScoringBackend = self.backend  # type: ignore[assignment]  # callers check scores_options
        return self._call(backend.option_probabilities, choice)

    def _call(self, method: Callable[[Any], Any], request: Any) -> Any:
        self._count(requests=1)
        for attempt in range(self.retries + 1):
            try:
                with self._in_flight:
                    return method(request)
            except RetryableError as exc:
                if attempt == self.retries:
                    return self._fail(exc)
                self._count(retried=1)
                time.sleep(self.backoff_s * (2 ** attempt))
            except Exception as exc:  # a bad request or a model error: counted, never fatal
                return self._fail(exc)
        return None

    def _fail(self, exc: Exception) -> None:
        self._count(failed=1)
        cause = exc.__cause__ or exc  # the client's own error says what happened
        with self._lock:
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(f"{type(cause).__name__}: {str(cause)[:200]}")
        return None

    def ask_many(self, requests: Sequence[Request]) -> list[str | None]:
        return self._map(self.ask, requests)

    def choose_many(self, choices: Sequence[Choice]) -> list[list[float] | None]:
        return self._map(self.choose, choices)

    def _map(self, method: Callable[[Any], Any], requests: Sequence[Any]) -> list[Any]:
        if len(requests) <= 1 or self.concurrency == 1:
            return [method(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(method, requests))


def make_teacher(settings: TeacherSettings, *, seed: int = 0, model_cache: Path | None = None) -> Teacher:
    """The configured teacher: an http(s) URL, a local model folder or GGUF file, or the default."""
    if settings.is_http:
        backend: Backend = OpenAIBackend(settings.endpoint, settings.model, settings.api_key(), settings.timeout_s)
    else:
        from pipeline.models import resolve_model_dir

        # as many sequences a forward pass as requests may be in flight
        backend = LocalBackend(resolve_model_dir(settings.endpoint, model_cache), seed=seed,
                               batch_size=settings.concurrency)
    return Teacher(backend, concurrency=settings.concurrency, retries=settings.retries, backoff_s=settings.backoff_s)

