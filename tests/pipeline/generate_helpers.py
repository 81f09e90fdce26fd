"""Test doubles and builders for the generation tests: a scripted teacher and a small taxonomy."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from checks.samples import DOCUMENTS_REPO_URL, TAXONOMY_DIR, make_documents_repo
from pipeline.generate.teacher import Choice, Request, RetryableError, Teacher
from pipeline.settings import GenerateSettings, TeacherSettings

GOOD_ANSWERS = {
    "questions": "Here you go:\n1. {tag} What is a word that means happy?\n2. {tag} Which word means fast?\n"
                 "3. {tag} Give a word meaning small.",
    "judge": "yes",
    "rate": "Score: 4",
    "pairs": "Q: {tag} How many planets are there?\nA: Eight.\nQ: {tag} What is the Sun?\nA: A star.",
    "answer": "An answer for {tag}.",
    "context": "A new context about {tag}.",
}


def classify(request: Request) -> str:
    text = request.messages[-1]["content"]
    if "numbered 1., 2., 3." in text:
        return "questions"
    if "Reply in the form: Score: N" in text:
        return "rate"
    if "yes or no" in text:
        return "judge"
    if "Q: question\nA: answer" in text:
        return "pairs"
    if "Write one new context" in text:
        return "context"
    return "answer"


class ScriptedBackend:
    """Answers by prompt kind; `override(kind, request)` may return other text or raise."""

    def __init__(self, answers: dict[str, str] | None = None,
                 override: Callable[[str, Request], str | None] | None = None, identity: str = "scripted:1") -> None:
        self.answers = {**GOOD_ANSWERS, **(answers or {})}
        self.override = override
        self.identity = identity
        self.calls: list[tuple[str, str]] = []

    def complete(self, request: Request) -> str:
        kind = classify(request)
        text = request.messages[-1]["content"]
        self.calls.append((kind, text))
        if self.override is not None:
            special = self.override(kind, request)
            if special is not None:
                return special
        tag = "t" + str(abs(hash(text)) % 10_000)
        return self.answers[kind].format(tag=tag)


class Flaky:
    """An override that raises RetryableError the first `times` calls (a 5xx, a timeout)."""

    def __init__(self, times: int) -> None:
        self.left = times

    def __call__(self, kind: str, request: Request) -> str | None:
        if self.left > 0:
            self.left -= 1
            raise RetryableError("503 Service Unavailable")
        return None


def scripted_teacher(backend: ScriptedBackend | None = None, **kwargs: object) -> Teacher:
    return Teacher(backend or ScriptedBackend(), backoff_s=0.0, **kwargs)  # type: ignore[arg-type]


def small_taxonomy(dest: Path, git: bool = True) -> Path:
    """A copy of the sample taxonomy (three leaves), as a git repository with a merge-style history."""
    shutil.copytree(TAXONOMY_DIR, dest)
    if git:
        run_git(dest, "init", "-q", "-b", "main")
        run_git(dest, "add", "-A")
        run_git(dest, "commit", "-q", "-m", "Add the sample leaves (#12)")
    return dest


def run_git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def documents_mirror(dest: Path) -> tuple[tuple[str, str], ...]:
    make_documents_repo(dest)
    return ((DOCUMENTS_REPO_URL, f"file://{dest}"),)


def fast_settings(student: Path, mirrors: tuple[tuple[str, str], ...] = (), **overrides: object) -> GenerateSettings:
    """Small, fast settings: the tiny model's tokenizer for chunks, exact dedup only."""
    base = dict(student=str(student), mirrors=mirrors, near_duplicate=1.0, teacher=TeacherSettings(concurrency=2))
    return GenerateSettings(**{**base, **overrides})  # type: ignore[arg-type]


def edit_leaf(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


class ProbabilityBackend(ScriptedBackend):
    """A scripted backend that also gives next-token option probabilities, as the in-process model does."""

    def __init__(self, probabilities: Callable[[Choice], list[float]], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.probabilities = probabilities
        self.choices: list[Choice] = []

    def option_probabilities(self, choice: Choice) -> list[float]:
        self.choices.append(choice)
        return self.probabilities(choice)


def noisy_tiny_model(dest: Path) -> Path:
    """The tiny model with larger random weights, saved in `dest`: its default init replies the same token to
    everything, which would make equal replies prove nothing."""
    import torch
    from transformers import AutoModelForCausalLM

    from pipeline.models import tiny_model

    folder = tiny_model(dest, hidden=64, vocab=400)
    model = AutoModelForCausalLM.from_pretrained(folder)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for weight in model.parameters():
            if weight.dim() > 1:
                weight.copy_(torch.randn(weight.shape, generator=generator) * 0.3)
    model.save_pretrained(folder)
    return folder
