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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
    """One submitted item waiting for its batch: its result or its error once the batch is done."""

    item: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class Batcher:
    """Runs the items that threads submit in batches, one batch at a time.

    A thread that submits while no batch is running runs the next one itself: the oldest waiting item
    and up to `size - 1` more of the same `kind`, after waiting up to `gather_s` for the batch to
    fill (the threads that a finished batch released are sending their next requests). No thread of
    its own, so nothing to stop. A batch that raises is run again one item at a time, so one bad
    item fails alone.
    """

    def __init__(self, run: Callable[[list[Any]], list[Any]], *, size: int, kind: Callable[[Any], Any],
                 gather_s: float = 0.02) -> None:
        self.run = run
        self.size = max(1, size)
        self.kind = kind
        self.gather_s = gather_s
        self.batches: list[int] = []  # the size of each batch run, for benchmarks and tests
        self._pending: list[_Slot] = []
        self._running = False
        self._cond = threading.Condition()

    def submit(self, item: Any) -> Any:
        slot = _Slot(item)
        with self._cond:
            self._pending.append(slot)
            self._cond.notify_all()
        while True:
            with self._cond:
                while self._running and not slot.done:
                    self._cond.wait()
                if slot.done:
                    break
                self._running = True
                deadline = time.monotonic() + self.gather_s
                while len(self._next()) < self.size and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
                batch = self._next()
                self._pending = [slot for slot in self._pending if slot not in batch]
            try:
                self._run_batch(batch)
            finally:
                with self._cond:
                    for other in batch:  # interrupted (KeyboardInterrupt): nobody waits for ever
                        if not other.done:
                            other.error, other.done = RuntimeError("the batch was interrupted"), True
                    self._running = False
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _next(self) -> list[_Slot]:
        """The next batch: the oldest waiting item and the next ones of its kind, up to `size`."""
        kind = self.kind(self._pending[0].item)
        return [slot for slot in self._pending if self.kind(slot.item) == kind][:self.size]

    def _run_batch(self, batch: list[_Slot]) -> None:
        self.batches.append(len(batch))
        try:
            results = self.run([slot.item for slot in batch])
        except Exception as exc:
            if len(batch) > 1:
                for slot in batch:
                    self._run_batch([slot])
                return
            batch[0].error = exc
        else:
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        for slot in batch:
            slot.done = True


class LocalBackend:
    """A transformers model in this process, answering requests in batches.

    Requests in flight at once (from the flows' threads, `teacher.concurrency` of them) are gathered
    into one batch of up to `batch_size`: generation requests with the same `max_tokens` go through
    one `generate` call (left-padded, with the KV cache), judgements through one forward pass. On a
    CPU one sequence at a time leaves most of each step's time in per-call overhead and weight
    reads, which a batch shares.

    A greedy reply does not depend on what it was batched with (left padding with matching position
    ids; only float rounding in the padded attention differs). A sampled reply is drawn with its own
    generator seeded with `seed`, never with the batch's shared RNG, so it too depends only on its
    prompt, as when requests ran one at a time with the seed reset before each.
    """

    def __init__(self, folder: Path, seed: int = 0, batch_size: int = 1) -> None:
        from pipeline.models import load_student

        self.model, self.tokenizer = load_student(folder)
        self.model.eval()
        self.identity = local_identity(folder)
        self.seed = seed
        self.batcher = Batcher(self._run, size=batch_size, kind=_kind)
        self._option_tokens: dict[tuple[str, ...], list[list[int]]] = {}

    def complete(self, request: Request) -> str:
        return self.batcher.submit(request)

    def option_probabilities(self, choice: Choice) -> list[float]:
        return self.batcher.submit(choice)

    def _run(self, items: list[Any]) -> list[Any]:
        import torch

        with torch.no_grad():
            return self._choose(items) if isinstance(items[0], Choice) else self._generate(items)

    def _generate(self, requests: list[Request]) -> list[str]:
        encoded = self._pad([self._ids(r.messages) for r in requests])
        encoded.pop("position_ids")  # generate derives them from the mask, step by step
        temperatures = [r.temperature for r in requests]
        sampler = [_RowSampler(temperatures, self.seed)] if any(t > 0 for t in temperatures) else None
        out = self.model.generate(**encoded, max_new_tokens=max(r.max_tokens for r in requests), do_sample=False,
                                  temperature=None, top_p=None, top_k=None, logits_processor=sampler,
                                  pad_token_id=self.tokenizer.pad_token_id)
        width = encoded["input_ids"].shape[1]
        return [self.tokenizer.decode(out[row, width:width + r.max_tokens], skip_special_tokens=True)
                for row, r in enumerate(requests)]

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
        all prefill, which costs the same batched or not on a CPU, so the batch is cut into groups of
        similar length (padding is pure waste here); a group is one forward pass."""
        ids = [self._ids(c.messages, c.prefix) for c in choices]
        out: list[list[float]] = [[] for _ in choices]
        for group in _length_groups([len(i) for i in ids]):
            for row, probabilities in zip(group, self._choose_group([choices[r] for r in group],
                                                                    [ids[r] for r in group]), strict=True):
                out[row] = probabilities
        return out

    def _choose_group(self, choices: list[Choice], ids: list[list[int]]) -> list[list[float]]:
        """One forward pass for the group (only the last position through the output layer). A row whose
        likeliest next token is only whitespace (` 4` is a space then a digit for some tokenizers)
        takes that token and goes one step further on the KV cache, the group's other rows masked out."""
        import torch

        tokens = [self._first_tokens(c.options) for c in choices]
        encoded = self._pad(ids)
        mask, positions = encoded["attention_mask"], encoded["position_ids"][:, -1:]
        out = self.model(**encoded, logits_to_keep=1, use_cache=True)
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
        """The prompt's token ids: the chat rendered for the assistant's reply, started with `prefix`."""
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text + prefix, add_special_tokens=False)["input_ids"]

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


def _length_groups(lengths: Sequence[int], waste: float = 0.25) -> list[list[int]]:
    """Row indices grouped by length, longest first: a row joins the current group while the group's
    padding stays within `waste` of its real tokens."""
    groups: list[list[int]] = []
    for row in sorted(range(len(lengths)), key=lambda r: -lengths[r]):
        group = groups[-1] if groups else None
        if group and lengths[group[0]] * (len(group) + 1) <= (1 + waste) * (sum(lengths[r] for r in group)
                                                                          + lengths[row]):
            group.append(row)
        else:
            groups.append([row])
    return groups


def _kind(item: Any) -> tuple[Any, ...]:
    """What a batch shares: judgements batch together, generations with the same max_tokens do."""
    return ("choice",) if isinstance(item, Choice) else ("generate", item.max_tokens)


class _RowSampler:
    """A logits processor that samples each sampled row with its own generator (greedy rows are left
    alone), then leaves only the drawn token: greedy decoding then takes it. So a row's draws do not
    depend on the other rows of its batch."""

    def __init__(self, temperatures: Sequence[float], seed: int) -> None:
        import torch

        self.temperatures = list(temperatures)
        self.generators = [torch.Generator().manual_seed(seed) for _ in self.temperatures]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        for row, temperature in enumerate(self.temperatures):
            if temperature > 0:
                probs = torch.softmax(scores[row].float() / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=self.generators[row])
                scores[row] = float("-inf")
                scores[row, token] = 0.0
        return scores


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

