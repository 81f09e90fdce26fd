"""`make demo`: the dry run on the project's samples, end to end, with no GitHub and no network.

Builds a git repository from `checks/samples/`: the sample taxonomy committed on `main`, the
sample contribution committed on a branch `contribution`, and a clean contribution of everyday facts
on `known-facts`; prints the contribution, then runs `taxonomist bot dry-run --repo DIR --base main
--head contribution` (triage finds its problems) and `--head known-facts` (its structural checks
pass, so the embedded model prechecks it: the comment's collapsed precheck section, verdict
`known`). The repository is kept (in `--dir`, default under the cache folder) so it can be looked at
and dry-run again; commits have fixed dates, so the base commit, and with it the cached base index,
is the same on every run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.dryrun import cache_root
from checks.samples import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
_IDENTITY = {"GIT_AUTHOR_NAME": "Sam Contributor", "GIT_AUTHOR_EMAIL": "sam@example.org",
             "GIT_COMMITTER_NAME": "Sam Contributor", "GIT_COMMITTER_EMAIL": "sam@example.org",
             "GIT_AUTHOR_DATE": "2025-01-01T12:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T12:00:00Z"}


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


def show_contribution(samples: Path = SAMPLES) -> str:
    """The sample contribution's files with line numbers: the findings below point at these lines."""
    out = ["== the sample contribution (branch `contribution`)", ""]
    for path in sorted(p for p in (samples / "contribution").rglob("*") if p.is_file()):
        out.append(f"--- {path.relative_to(samples / 'contribution').as_posix()}")
        lines = path.read_text(encoding="utf-8").splitlines()
        out += [f"{n:4} | {line}" for n, line in enumerate(lines, 1)]
        out.append("")
    return "\n".join(out) + "\n"


def runnable_command() -> str:
    """How to type `taxonomist` here: the bare name when it is on PATH (an activated .venv), else the
    script beside this interpreter (`.venv/bin/taxonomist` after `make demo`), relative when it can be."""
    script = Path(sys.executable).parent / "taxonomist"
    on_path = shutil.which("taxonomist")
    if not script.is_file() or (on_path is not None and Path(on_path).resolve() == script.resolve()):
        return "taxonomist"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=cache_root() / "demo" / "taxonomy",
                        help="where to build the demo repository (replaced on every run; kept afterwards)")
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    repo = args.dir.resolve()
    shutil.rmtree(repo, ignore_errors=True)
    make_sample_repo(repo)
    sys.stdout.write(show_contribution())
    from bot.cli import app  # `taxonomist bot`: bot never imports the top-level package

    runnable = runnable_command()
    for head in ("contribution", "known-facts"):
        command = [runnable, "bot", "dry-run", "--repo", str(repo), "--base", "main", "--head", head, *rest]
        print("$ " + " ".join(command), file=sys.stderr, flush=True)
        status = app(command[2:], standalone_mode=False) or 0
        if status not in (0, 1):  # 1 only says the sample has errors, as it should
            return int(status)
    print(f"\nThe demo repository is kept in {repo} (`git -C {repo} show contribution`); run the line above "
          "again to dry-run it, or change a branch first.", file=sys.stderr)
    if runnable != "taxonomist":
        print(f"`taxonomist` is not on your PATH: run `source {Path(runnable).parent}/activate` to type it bare, or "
              f"call it as `{runnable}`.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
