"""The one git subprocess wrapper of the build: a failure is the caller's error type, with git's message."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def run_git(args: list[str], cwd: Path, error: type[Exception], *, binary: bool = False,
            env: Mapping[str, str] | None = None) -> Any:
    """git's stdout (text, or bytes with `binary`); `error` with the command and git's stderr on failure.

    Never prompts for credentials (a build runs unattended)."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True, text=not binary,
                              env=full_env)
    except FileNotFoundError:
        raise error("git is needed on PATH") from None
    except subprocess.CalledProcessError as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        raise error(f"{cwd}: git {' '.join(args)}: {(err or '').strip() or 'failed'}") from None
    return done.stdout


class _Failed(Exception):
    pass


def git_answer(args: list[str], cwd: Path) -> str | None:
    """git's stdout, stripped, or None when git says no (a ref that does not resolve, not a repository)."""
    try:
        return str(run_git(args, cwd, _Failed)).strip()
    except _Failed:
        return None
