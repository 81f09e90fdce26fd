"""The build's settings: small CPU-friendly defaults, overridable from a YAML file and the command line.

The dataclasses here (and the gate's `GateSettings`) are the one place a default is written: the
command line's options default to None and replace a field only when given, a `--config` file's
`generate:`, `train:` and `evaluate:` mappings replace fields before that (`load_config`).

Every generation field that changes what the teacher is asked is part of a leaf's cache key
(`cache_fields`), so changing it regenerates; fields that only change how requests are sent
(concurrency, retries, timeouts) are not.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pipeline.evaluate.gate import GateSettings

T = TypeVar("T")
API_KEY_ENV = "TAXONOMIST_TEACHER_API_KEY"
JUDGE_MODES = ("auto", "text")
JUDGE_REFERENCES = ("seeds", "none")
SECTIONS = ("generate", "train", "evaluate")  # of a --config file
# YAML 1.1 (PyYAML) reads `2e-4` as text; a number field takes it as the number it means.
EXPONENT_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class SettingsError(ValueError):
    """A bad setting: the message names the key and what is expected; `key` is its path in the file."""

    def __init__(self, message: str, key: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, slots=True)
class TeacherSettings:
    """Where the teacher runs: `default` (embedded SmolLM2), a local model path, or an http(s) URL."""

    endpoint: str = "default"
    model: str = ""            # the model name sent to an OpenAI-compatible server (default: its first)
    api_key_env: str = API_KEY_ENV
    concurrency: int = 8  # requests in flight; the in-process teacher batches as many (docs/build.md)
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
    heldout_per_leaf: int = 2         # seed examples kept out of training for the evaluation, from
    heldout_full_from: int = 7        # this many seeds on; fewer hold out one, a thin leaf none (see docs/build.md)
    thin_heldout: int = 1             # a thin leaf's kept generated samples held out of training instead
    replay_phase1: float = 0.2        # share of phase-1 samples replayed in phase 2
    replay_previous: float = 0.1      # share of earlier builds' samples replayed in phase 2
    seed: int = 0
    student: str = "default"          # whose tokenizer bounds the chunks
    schema_version: str | int | None = None  # leaf validity: None = each file's own version (`own`)
    mirrors: tuple[tuple[str, str], ...] = ()  # document repo URL -> local path or URL
    document_schemes: tuple[str, ...] = ("https",)  # remote schemes a document repository may use
    teacher: TeacherSettings = field(default_factory=TeacherSettings)

    def __post_init__(self) -> None:
        if self.judge not in JUDGE_MODES:
            raise SettingsError(f"judge: expected one of {', '.join(JUDGE_MODES)}, got {self.judge!r}")
        if self.judge_reference not in JUDGE_REFERENCES:
            raise SettingsError(f"judge_reference: expected one of {', '.join(JUDGE_REFERENCES)}, "
                                f"got {self.judge_reference!r}")
        schemes = self.document_schemes
        if isinstance(schemes, str) or not all(isinstance(s, str) and s.isalnum() for s in schemes):
            raise SettingsError(f"document_schemes: expected a list of URL schemes such as [https], got {schemes!r}")
        if "file" in schemes:
            raise SettingsError("document_schemes: file is not a remote scheme; a local repository needs a mirror")
        if not set(schemes) <= {"https", "http"}:
            raise SettingsError(f"document_schemes: expected https or http (the fetch is pinned to a checked public "
                                f"address, which only git's http transport allows), got {schemes!r}")
        object.__setattr__(self, "document_schemes", tuple(schemes))
        if not 0.0 <= self.judge_yes_threshold <= 1.0:
            raise SettingsError(f"judge_yes_threshold: expected a number from 0 to 1, got {self.judge_yes_threshold!r}")

    def cache_fields(self) -> dict[str, Any]:
        """The settings that change a leaf's generated data (its cache key includes them)."""
        skip = {"teacher", "mirrors", "replay_phase1", "replay_previous", "schema_version", "thin_heldout",
                "document_schemes"}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip}


PRECISIONS = (None, "no", "fp16", "bf16")


@dataclass(frozen=True)
class TrainSettings:
    """Every training choice, each settable from a `--config` file's `train:` section (and the common
    ones from the command line). `pipeline.train.stage.TrainConfig` is these plus where a run reads and writes.

    Defaults suit a real taxonomy (docs/build.md, "Choosing the defaults"): on taxonomy-2024-08 a
    phase-2 rate of 1e-4 left most answers unchanged and 1e-3 moved 11 of 17 leaves closer; rows
    with long contexts need their whole length (derived from the data), which two rows a forward
    pass with recomputed activations keep near 1.6 GB. The embedded sample (12 phase-2 rows) is the
    special case: 20 steps at 1e-3 go over it 13 times.
    """

    student: str = "default"     # a model folder, a .gguf file, or `default` (embedded SmolLM2-135M-Instruct)
    full: bool = False           # full fine-tuning instead of LoRA
    phase1_steps: int = 20
    phase2_steps: int = 20
    phase1_lr: float = 2e-4
    phase2_lr: float = 1e-3
    phase1_warmup: int = 5
    phase2_warmup: int = 5
    batch_size: int = 8          # samples per optimizer step, all processes together
    micro_batch_size: int = 2    # samples per forward pass in one process
    max_length: int = 0          # tokens a row may have; 0: the longest row's, within the model's context window
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0     # off: on CPU drawing its masks took 38% of a step (docs/build.md)
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0   # gradient clipping; 0 turns it off
    checkpoint_every: int = 10   # steps between checkpoints (also at each phase end)
    keep_checkpoints: int = 2    # the newest ones kept on disk
    mixed_precision: str | None = None  # None: what the launcher's config says (bf16 in fsdp-gpu.yaml); no|fp16|bf16
    unmask_knowledge_user: bool = True  # knowledge rows also train on the user turn (the document text)
    threads: int = 0             # torch threads in a process; 0: torch's default
    activation_checkpointing: bool = True  # recompute activations in backward: far less memory, ~25% slower
    select_checkpoint: bool = True  # LoRA: keep the last phase's checkpoint that answers held-out questions best
    seed: int = 42
    nproc: int = 1

    def __post_init__(self) -> None:
        targets = self.lora_targets
        if isinstance(targets, str) or not targets or not all(isinstance(t, str) and t for t in targets):
            raise SettingsError(f"lora_targets: expected a list of module names such as [q_proj, v_proj], "
                                f"got {targets!r}")
        object.__setattr__(self, "lora_targets", tuple(targets))
        if self.mixed_precision not in PRECISIONS:
            raise SettingsError(f"mixed_precision: expected no, fp16 or bf16, got {self.mixed_precision!r}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise SettingsError(f"lora_dropout: expected a number from 0 to below 1, got {self.lora_dropout!r}")
        if self.keep_checkpoints < 1:
            raise SettingsError(f"keep_checkpoints: expected at least 1, got {self.keep_checkpoints!r}")

    @property
    def lora(self) -> bool:
        return not self.full


@dataclass(frozen=True, slots=True)
class BuildConfig:
    """A `--config` file: one section per stage that has settings."""

    generate: GenerateSettings = field(default_factory=GenerateSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    evaluate: GateSettings = field(default_factory=GateSettings)


def given(base: T, **options: Any) -> T:
    """`base` with each command-line option that was given (not None) in its field: the command line wins."""
    return dataclasses.replace(base, **{name: value for name, value in options.items() if value is not None})


def _coerce(key: tuple[str, ...], value: Any, default: Any) -> Any:
    """Check a value against its default's type (bool, int, float, str); a clear error otherwise."""
    name = ".".join(key)
    if default is None:
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"{name}: expected true or false, got {value!r}", key)
        return value
    if isinstance(default, int) and not (isinstance(value, int) and not isinstance(value, bool)):
        raise SettingsError(f"{name}: expected an integer, got {value!r}", key)
    if isinstance(default, float):
        if isinstance(value, str) and EXPONENT_NUMBER.fullmatch(value):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{name}: expected a number, got {value!r}", key)
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        raise SettingsError(f"{name}: expected a string, got {value!r}", key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        raise SettingsError(f"{name}: must not be negative, got {value!r}", key)
    return value


def _build(cls: type[T], values: dict[str, Any], where: tuple[str, ...]) -> T:
    """`cls` from a mapping of its fields; an unknown key, a wrong type or a bad value names its key."""
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise SettingsError(f"{'.'.join((*where, str(key)))}: unknown setting (known: "
                                f"{', '.join(sorted(known))})", (*where, str(key)))
        spec = known[key]
        default = spec.default if spec.default is not dataclasses.MISSING else None
        out[key] = _coerce((*where, key), value, default)
    try:
        return cls(**out)
    except ValueError as exc:  # the class's own checks; their messages start with the field's name
        name, colon, _ = str(exc).partition(":")
        if colon and name in known:
            raise SettingsError(".".join((*where, str(exc))), (*where, name)) from None
        raise SettingsError(f"{'.'.join(where)}: {exc}" if where else str(exc), where) from None


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


def settings_from_mapping(data: Any, where: tuple[str, ...] = ()) -> GenerateSettings:
    """Generation settings from a mapping like the file's `generate:` (`teacher:` and `mirrors:` nested)."""
    if not isinstance(data, dict):
        raise SettingsError(f"{'.'.join(where) or 'settings'}: expected a mapping", where)
    data = dict(data)
    teacher = data.pop("teacher", {}) or {}
    if not isinstance(teacher, dict):
        raise SettingsError(f"{'.'.join((*where, 'teacher'))}: expected a mapping", (*where, "teacher"))
    mirrors = parse_mirrors(data.pop("mirrors", ()), ".".join((*where, "mirrors")))
    base = _build(GenerateSettings, data, where)
    return dataclasses.replace(base, mirrors=mirrors, teacher=_build(TeacherSettings, teacher, (*where, "teacher")))


def _section(data: Any, cls: type[T], where: tuple[str, ...]) -> T:
    if not isinstance(data, dict):
        raise SettingsError(f"{'.'.join(where)}: expected a mapping", where)
    return _build(cls, data, where)


def _key_line(root: yaml.Node | None, key: tuple[str, ...]) -> int | None:
    """The 1-based line of the deepest part of `key` found in the composed YAML document."""
    node, line = root, None
    for part in key:
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        if match is None:
            break
        line, node = match[0].start_mark.line + 1, match[1]
    return line


def load_config(path: Path | None) -> BuildConfig:
    """The settings file's `generate:`, `train:` and `evaluate:` mappings over the defaults.

    Every section is checked whichever stage reads the file, so a bad training key stops the whole
    build before generation, not after it. Errors read `FILE:LINE: section.key: what is wrong`.
    """
    if path is None:
        return BuildConfig()
    try:
        loader = yaml.SafeLoader(Path(path).read_text(encoding="utf-8"))
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        at = f":{exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise SettingsError(f"{path}{at}: not valid YAML: {exc.problem or exc.context}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: cannot read the settings: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict) or set(data) - set(SECTIONS):
        extra = sorted(map(str, set(data) - set(SECTIONS))) if isinstance(data, dict) else []
        found = f" (found {', '.join(extra)})" if extra else ""
        raise SettingsError(f"{path}: expected a mapping with the sections {', '.join(f'`{s}:`' for s in SECTIONS)}"
                            f"{found}")
    try:
        return BuildConfig(generate=settings_from_mapping(data.get("generate") or {}, ("generate",)),
                           train=_section(data.get("train") or {}, TrainSettings, ("train",)),
                           evaluate=_section(data.get("evaluate") or {}, GateSettings, ("evaluate",)))
    except SettingsError as exc:
        line = _key_line(root, exc.key)
        raise SettingsError(f"{path}:{line}: {exc}" if line else f"{path}: {exc}", exc.key) from None
