"""`make demo`: the dry run on the project's samples, end to end, with no GitHub and no network.

Builds a throw-away git repository from `taxonomist/samples/`: the sample taxonomy committed on
`main`, the sample contribution committed on a branch `contribution`, and a clean contribution of
everyday facts on `known-facts`; then runs `taxonomist bot dry-run --repo TMP --base main --head
contribution` (triage finds its problems) and `--head known-facts` (its structural checks pass, so
the embedded model prechecks it: the comment's collapsed precheck section, verdict `known`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "taxonomist" / "samples"
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
    _git(target, "checkout", "-q", "-b", "known-facts", "main")
    shutil.copytree(samples / "known", target, dirs_exist_ok=True)
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-s", "-m", "Add everyday facts skill")
    _git(target, "checkout", "-q", "main")
    return target


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="taxonomist-demo-") as tmp:
        repo = make_sample_repo(Path(tmp) / "taxonomy")
        from taxonomist.cli import app

        for head in ("contribution", "known-facts"):
            command = ["taxonomist", "bot", "dry-run", "--repo", str(repo), "--base", "main", "--head", head, *args]
            print("$ " + " ".join(command), file=sys.stderr, flush=True)
            status = app(command[1:], standalone_mode=False) or 0
            if status not in (0, 1):  # 1 only says the sample has errors, as it should
                return int(status)
        return 0


if __name__ == "__main__":
    sys.exit(main())
