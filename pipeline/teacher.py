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


class LocalBackend:
    """A transformers model in this process (one generation at a time: CPU threads are shared)."""

    def __init__(self, folder: Path, seed: int = 0) -> None:
        from pipeline.models import load_student

        self.model, self.tokenizer = load_student(folder)
        self.model.eval()
        self.identity = local_identity(folder)
        self.seed = seed
        self._lock = threading.Lock()

    def complete(self, request: Request) -> str:
        import torch

        with self._lock:
            encoded = self.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True,
                                                         return_tensors="pt", return_dict=True)
            sample = request.temperature > 0
            torch.manual_seed(self.seed)
            with torch.no_grad():
                out = self.model.generate(**encoded, max_new_tokens=request.max_tokens, do_sample=sample,
                                          temperature=request.temperature if sample else None,
                                          top_p=None, top_k=None,
                                          pad_token_id=self.tokenizer.pad_token_id)
            new = out[0, encoded["input_ids"].shape[1]:]
            return self.tokenizer.decode(new, skip_special_tokens=True)

    def _first_tokens(self, options: Sequence[str]) -> list[list[int]]:
        """Per option, the token ids that start it as a model writes it (any case, with or without a
        space), leaving out ids that start another option too (a lone space token, say)."""
        found: list[set[int]] = []
        for option in options:
            variants = {option, option.lower(), option.capitalize(), option.upper()}
            variants |= {" " + v for v in variants}
            encoded = (self.tokenizer.encode(v, add_special_tokens=False) for v in variants)
            found.append({ids[0] for ids in encoded if ids})
        shared = {t for i, ids in enumerate(found) for t in ids if any(t in other for other in found[i + 1:])}
        return [sorted(ids - shared) for ids in found]

    def option_probabilities(self, choice: Choice) -> list[float]:
        """P(option's first token) at the start of the reply (after `prefix`). When the likeliest next
        token is only whitespace (` 4` is a space then a digit for some tokenizers), it is taken first."""
        import torch

        with self._lock:
            tokens = self._first_tokens(choice.options)
            text = self.tokenizer.apply_chat_template(choice.messages, add_generation_prompt=True, tokenize=False)
            ids = self.tokenizer(text + choice.prefix, add_special_tokens=False, return_tensors="pt")["input_ids"]
            for _ in range(MAX_WHITESPACE_STEPS + 1):
                with torch.no_grad():
                    probs = torch.softmax(self.model(input_ids=ids).logits[0, -1].float(), dim=-1)
                top = int(probs.argmax())
                if self.tokenizer.decode([top]).strip() or any(top in option for option in tokens):
                    break
                ids = torch.cat([ids, torch.tensor([[top]])], dim=1)
            return [float(probs[option].sum()) if option else 0.0 for option in tokens]


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

        backend = LocalBackend(resolve_model_dir(settings.endpoint, model_cache), seed=seed)
    return Teacher(backend, concurrency=settings.concurrency, retries=settings.retries, backoff_s=settings.backoff_s)

