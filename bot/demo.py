"""`make demo`: the dry run on the project's samples, end to end, with no GitHub and no network.

Builds a throw-away git repository from `checks/samples/`: the sample taxonomy committed on
`main`, the sample contribution committed on a branch `contribution`; then runs
`taxonomist bot dry-run --repo TMP --base main --head contribution` on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from checks.samples import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
_IDENTITY = {"GIT_AUTHOR_NAME": "Sam Contributor", "GIT_AUTHOR_EMAIL": "sam@example.org",
             "GIT_COMMITTER_NAME": "Sam Contributor", "GIT_COMMITTER_EMAIL": "sam@example.org"}


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, **_IDENTITY, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def make_sample_repo(target: Path, samples: Path = SAMPLES) -> Path:
    """`target` becomes a git repository: the sample taxonomy on main, the contribution on a branch."""
    shutil.copytree(samples / "taxonomy", target, dirs_exist_ok=True)
    _git(target, "init", "-q", "-b", "main")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "Sample taxonomy")
    _git(target, "checkout", "-q", "-b", "contribution")
    shutil.copytree(samples / "contribution", target, dirs_exist_ok=True)
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-s", "-m", "Add antonyms skill")
    _git(target, "checkout", "-q", "main")
    return target


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="taxonomist-demo-") as tmp:
        repo = make_sample_repo(Path(tmp) / "taxonomy")
        command = ["taxonomist", "bot", "dry-run", "--repo", str(repo), "--base", "main", "--head", "contribution",
                   *args]
        print("$ " + " ".join(command), file=sys.stderr, flush=True)
        from bot.cli import app  # `taxonomist bot`: bot never imports the top-level package

        status = app(command[2:], standalone_mode=False) or 0
        return 0 if status in (0, 1) else int(status)  # 1 only says the sample has errors, as it should


if __name__ == "__main__":
    sys.exit(main())
