"""Structural checks on the 1,734 PR-corpus files: ours against upstream's TaxonomyParser, same run.

Upstream (instructlab-schema 0.4.2, with yamllint on PATH as its CI has it) is installed in its own
virtual environment under `.bench/` the first time, from the package registry. Both sides are timed
as whole commands, start-up included, on the same file list.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.parity import corpus_dir, verdicts

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_VENV = ROOT / ".bench" / "upstream-venv"

UPSTREAM_SCRIPT = """
import sys
from instructlab.schema.taxonomy import TaxonomyParser, TaxonomyReadingException
parser = TaxonomyParser(schema_version=int(sys.argv[2]) if sys.argv[2] != "latest" else None,
                        message_format="standard")
parser.yq_available = False  # as upstream's verdicts were made: no yq, so schema errors are reported at 1:1
errors = 0
for path in open(sys.argv[1]).read().splitlines():
    try:
        errors += parser.parse(path).errors > 0
    except TaxonomyReadingException:
        errors += 1
print("FILES_WITH_ERRORS", errors, file=sys.stderr)
"""


def upstream_python() -> Path:
    python = UPSTREAM_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(UPSTREAM_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"),
                        "instructlab-schema==0.4.2", "yamllint"], check=True)
    return python


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.perf_counter() - start, done.stderr


def main() -> None:
    files = [str(v.path) for v in verdicts("latest")]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(files) + "\n")
    python = upstream_python()
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    print(f"structural checks, {len(files)} files from {corpus_dir() / 'taxonomy-prs'} (schema: latest)")
    taxonomist = str(Path(sys.executable).parent / "taxonomist")
    ours_cmd = [taxonomist, "check", "--only", "structural", "--files-from", listing.name, "-f", "json",
                "-o", os.devnull]
    ours, _ = timed(ours_cmd, env)
    ours_one, _ = timed([*ours_cmd, "--jobs", "1"], env)
    upstream, stderr = timed([str(python), "-c", UPSTREAM_SCRIPT, listing.name, "latest"], env)
    print(f"  taxonomist check (all cores):   {ours:8.2f} s")
    print(f"  taxonomist check (one process): {ours_one:8.2f} s")
    print(f"  upstream TaxonomyParser:        {upstream:8.2f} s   ({stderr.strip().splitlines()[-1]})")
    print(f"  ratio: {ours / upstream:.3f} of upstream's time ({upstream / ours:.1f}x faster; target >= 20x); "
          f"one process: {upstream / ours_one:.1f}x")
    os.unlink(listing.name)


if __name__ == "__main__":
    main()
