"""The weekly build's memory and time per stage (issue 27): the sample taxonomy and taxonomy-2024-08, default
settings, beside the release before measured in the same run.

Each build runs in its own process under GNU time (`/usr/bin/time -v`), cold (a fresh cache), so the
whole run's maximum resident set size is measured by the kernel, beside what the build measured
itself into build.json (`memory.stages_mb`, children counted). The baseline is the code at
BUILD_MEMORY_BASELINE (default 45b70d4, the commit before the build measured its memory), checked out
into a temporary git worktree and run with this environment: its sample build is measured first, then
this one's, and the ratios of wall time and peak are printed against the goals (at most 2 GB for the
sample and 4 GB for taxonomy-2024-08 on CPU; wall time within 10% of the baseline). taxonomy-2024-08
takes about an hour here and its baseline several (it dropped long rows, and peaked at 10.45 GB):
`BUILD_MEMORY=sample` runs the sample alone, `BUILD_MEMORY_BASELINE=none` skips the baseline, and the
baseline's taxonomy-2024-08 build runs only with `BUILD_MEMORY_BASELINE_FULL=1`.

    .venv/bin/python benchmarks/bench_build_memory.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TAXONOMIST_CORPUS", REPO.parent / "shared" / "corpus"))
GOALS_MB = {"sample": 2048, "taxonomy-2024-08": 4096}
BASELINE = os.environ.get("BUILD_MEMORY_BASELINE", "45b70d4")
LAUNCH = "import sys; from taxonomist.cli import main; sys.argv[0] = 'taxonomist'; sys.exit(main())"


@dataclass(frozen=True)
class Run:
    gnu_mb: int
    wall_s: float


def build(label: str, name: str, taxonomy: Path | None, work: Path, code: Path = REPO) -> Run | None:
    """One cold build with the code at `code` (this checkout or the baseline's worktree), under GNU time."""
    out, cache = work / label / "build", work / label / "cache"
    command = ["/usr/bin/time", "-v", sys.executable, "-c", LAUNCH, "build",
               *([str(taxonomy)] if taxonomy else []), "--out", str(out), "--cache", str(cache), "--no-progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(code)}
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=code)
    wall = time.perf_counter() - began
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if found is None:
        print(f"{label}: no GNU time figure (exit {done.returncode}): {done.stderr[-500:]}")
        return None
    gnu_mb = int(found.group(1)) // 1024
    report = json.loads((out / "build.json").read_text()) if (out / "build.json").is_file() else {}
    memory, stages = report.get("memory", {}), report.get("stages", {})
    print(f"{label}: exit {done.returncode}; wall {wall:.0f} s; GNU time max RSS {gnu_mb} MB; the build's own "
          f"peak {memory.get('peak_mb', '-')} MB; goal {GOALS_MB[name]} MB (ratio {gnu_mb / GOALS_MB[name]:.2f})")
    peaks = memory.get("stages_mb", {})  # generation's steps (leaves ... mix) are timed apart, measured as one
    for stage in [*peaks, *(s for s in stages if s not in peaks)]:
        print(f"  {stage:9} peak {peaks.get(stage, '-'):>6} MB   time {stages.get(stage, '-')} s")
    return Run(gnu_mb, wall)


def compare(name: str, base: Run | None, this: Run | None) -> None:
    if base and this:
        print(f"{name}: this release / the baseline: wall time x{this.wall_s / base.wall_s:.2f} (goal at most "
              f"x1.10), peak x{this.gnu_mb / base.gnu_mb:.2f} ({this.gnu_mb} MB against {base.gnu_mb} MB)")


def measure(name: str, taxonomy: Path | None, work: Path, baseline: Path | None) -> None:
    base = build(f"{name} at {BASELINE}", name, taxonomy, work, baseline) if baseline else None
    compare(name, base, build(f"{name}, this release", name, taxonomy, work))


def main() -> None:
    which = os.environ.get("BUILD_MEMORY", "all")
    with tempfile.TemporaryDirectory(prefix="bench-build-memory-") as tmp:
        work, baseline = Path(tmp), None
        if BASELINE != "none":
            baseline = work / "baseline-code"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(baseline), BASELINE],
                           check=True)
        try:
            measure("sample", None, work, baseline)
            full = CORPUS / "taxonomy-2024-08"
            if which == "sample":
                return
            if not full.is_dir():
                print(f"taxonomy-2024-08: skipped: not at {full} (set TAXONOMIST_CORPUS)")
                return
            measure("taxonomy-2024-08", full, work, baseline if os.environ.get("BUILD_MEMORY_BASELINE_FULL") else None)
        finally:
            if baseline is not None:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)], check=False)


if __name__ == "__main__":
    main()
