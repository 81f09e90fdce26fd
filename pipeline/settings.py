"""Generation settings: small CPU-friendly defaults, overridable from a YAML file and the command line.

Every field that changes what the teacher is asked is part of a leaf's cache key (`cache_fields`),
so changing it regenerates; fields that only change how requests are sent (concurrency, retries,
timeouts) are not.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

API_KEY_ENV = "TAXONOMIST_TEACHER_API_KEY"
JUDGE_MODES = ("auto", "text")
JUDGE_REFERENCES = ("seeds", "none")


class SettingsError(ValueError):
    """A bad setting: the message names the key and what is expected."""


@dataclass(frozen=True, slots=True)
class TeacherSettings:
    """Where the teacher runs: `default` (embedded SmolLM2), a local model path, or an http(s) URL."""

    endpoint: str = "default"
    model: str = ""            # the model name sent to an OpenAI-compatible server (default: its first)
    api_key_env: str = API_KEY_ENV
    concurrency: int = 4
    retries: int = 3
    backoff_s: float = 0.5
    timeout_s: float = 120.0

    @property
    def is_http(self) -> bool:
        return self.endpoint.startswith(("http://", "https://"))

    def api_key(self) -> str:
        return os.environ.get(self.api_key_env, "") or "none"


@dataclass(frozen=True, slots=True)
class GenerateSettings:
    """What to ask for and what to keep; the defaults keep a CPU run short."""

    questions_per_leaf: int = 3       # skills: questions asked for per generation request
    question_requests: int = 1        # skills: generation requests per leaf (or per context, grounded)
    pairs_per_chunk: int = 3          # knowledge: question-answer pairs asked for per document chunk
    max_contexts_per_leaf: int = 2    # knowledge: document chunks; grounded: contexts (given, then generated)
    chunk_tokens: int = 400           # knowledge: chunk size bound, in the student's tokens
    generated_contexts: int = 0       # grounded: new contexts asked for beside the given ones
    max_tokens: int = 128             # generation requests
    judge_max_tokens: int = 12        # judgement and rating requests
    temperature: float = 0.7
    min_score: int = 3                # pairs rated below this (1..5; a probability judge's expected score) go
    judge: str = "auto"               # auto: next-token probabilities where the teacher gives them; text: always
    judge_yes_threshold: float = 0.5  # probability judge: P(yes) / (P(yes) + P(no)) needed to keep
    judge_reference: str = "seeds"    # probability judge: lower a threshold to the seeds' median; none: don't
    near_duplicate: float = 0.95      # cosine similarity at which a sample is a near duplicate
    heldout_per_leaf: int = 1         # seed examples kept out of training for the evaluation
    replay_phase1: float = 0.2        # share of phase-1 samples replayed in phase 2
    replay_previous: float = 0.1      # share of earlier builds' samples replayed in phase 2
    seed: int = 0
    student: str = "default"          # whose tokenizer bounds the chunks
    schema_version: str | int | None = None  # structural checks: None = the taxonomy's config
    mirrors: tuple[tuple[str, str], ...] = ()  # document repo URL -> local path or URL
    teacher: TeacherSettings = field(default_factory=TeacherSettings)

    def __post_init__(self) -> None:
        if self.judge not in JUDGE_MODES:
            raise SettingsError(f"judge: expected one of {', '.join(JUDGE_MODES)}, got {self.judge!r}")
        if self.judge_reference not in JUDGE_REFERENCES:
            raise SettingsError(f"judge_reference: expected one of {', '.join(JUDGE_REFERENCES)}, "
                                f"got {self.judge_reference!r}")
        if not 0.0 <= self.judge_yes_threshold <= 1.0:
            raise SettingsError(f"judge_yes_threshold: expected a number from 0 to 1, got {self.judge_yes_threshold!r}")

    def cache_fields(self) -> dict[str, Any]:
        """The settings that change a leaf's generated data (its cache key includes them)."""
        skip = {"teacher", "mirrors", "replay_phase1", "replay_previous", "schema_version"}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip}


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Check a value against its default's type (int, float, str); a clear error otherwise."""
    if isinstance(default, bool) or default is None:
        return value
    if isinstance(default, int) and not (isinstance(value, int) and not isinstance(value, bool)):
        raise SettingsError(f"{name}: expected an integer, got {value!r}")
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{name}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        raise SettingsError(f"{name}: expected a string, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise SettingsError(f"{name}: must not be negative, got {value!r}")
    return value


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise SettingsError(f"{where}{key}: unknown setting (known: {', '.join(sorted(known))})")
        spec = known[key]
        default = spec.default if spec.default is not dataclasses.MISSING else None
        out[key] = _coerce(f"{where}{key}", value, default)
    return cls(**out)


def parse_mirrors(items: Any, where: str = "mirrors") -> tuple[tuple[str, str], ...]:
    """`URL=PATH` strings or a {url: path} mapping, as pairs."""
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items or ():
            url, sep, path = str(item).partition("=")
            if not sep or not url or not path:
                raise SettingsError(f"{where}: expected URL=PATH, got {item!r}")
            pairs.append((url, path))
    return tuple((str(u), str(p)) for u, p in pairs)


def settings_from_mapping(data: dict[str, Any], where: str = "") -> GenerateSettings:
    """Settings from a mapping like the YAML file's (`teacher:` and `mirrors:` nested)."""
    if not isinstance(data, dict):
        raise SettingsError(f"{where or 'settings'}: expected a mapping")
    data = dict(data)
    teacher = data.pop("teacher", {}) or {}
    if not isinstance(teacher, dict):
        raise SettingsError(f"{where}teacher: expected a mapping")
    mirrors = parse_mirrors(data.pop("mirrors", ()), f"{where}mirrors")
    base = _build(GenerateSettings, data, where)
    return dataclasses.replace(base, mirrors=mirrors, teacher=_build(TeacherSettings, teacher, f"{where}teacher."))


def load_settings(path: Path | None) -> GenerateSettings:
    """Settings from a YAML file (its `generate:` mapping), or the defaults."""
    if path is None:
        return GenerateSettings()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read the settings: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"generate"}:
        raise SettingsError(f"{path}: expected one top-level key, `generate:`")
    return settings_from_mapping(data.get("generate") or {}, f"{path}: generate.")
