"""The one git subprocess wrapper of the build: a failure is the caller's error type, with git's message."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class GitTimeout(RuntimeError):
    """git ran past its deadline and was stopped, its children (remote helpers) with it."""


def _run(command: list[str], cwd: Path, env: Mapping[str, str], timeout: float | None) -> tuple[int, bytes, bytes]:
    """(status, stdout, stderr); on `timeout` the whole process group is killed, so a remote helper that
    holds git's pipes cannot keep the caller waiting."""
    with subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise GitTimeout(f"stopped after {timeout:g} s") from None
        return proc.returncode, out, err


def run_git(args: list[str], cwd: Path, error: type[Exception], *, binary: bool = False,
            env: Mapping[str, str] | None = None, timeout: float | None = None) -> Any:
    """git's stdout (text, or bytes with `binary`); `error` with the command and git's stderr on failure,
    or when it runs past `timeout` seconds.

    Never prompts for credentials (a build runs unattended)."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    try:
        status, out, err = _run(["git", *args], cwd, full_env, timeout)
    except FileNotFoundError:
        raise error("git is needed on PATH") from None
    except GitTimeout as exc:
        raise error(f"{cwd}: git {' '.join(args)}: {exc}") from None
    if status:
        raise error(f"{cwd}: git {' '.join(args)}: {err.decode(errors='replace').strip() or 'failed'}")
    return out if binary else out.decode()


class _Failed(Exception):
    pass


def git_answer(args: list[str], cwd: Path) -> str | None:
    """git's stdout, stripped, or None when git says no (a ref that does not resolve, not a repository)."""
    try:
        return str(run_git(args, cwd, _Failed)).strip()
    except _Failed:
        return None
