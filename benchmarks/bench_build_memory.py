"""The weekly build's memory per stage (issue 27): the sample taxonomy and taxonomy-2024-08, default settings.

Each build runs in its own process under GNU time (`/usr/bin/time -v`), cold (a fresh cache), so the
whole run's maximum resident set size is measured by the kernel, beside what the build measured
itself into build.json (`memory.stages_mb`, children counted). Printed against the goals: at most
2 GB for the sample taxonomy and 4 GB for taxonomy-2024-08 on CPU. The whole taxonomy's build takes
about an hour here: `BUILD_MEMORY=sample` runs the sample alone.

    .venv/bin/python benchmarks/bench_build_memory.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TAXONOMIST_CORPUS", REPO.parent / "shared" / "corpus"))
GOALS_MB = {"sample": 2048, "taxonomy-2024-08": 4096}


def build(name: str, taxonomy: Path | None, work: Path) -> None:
    out, cache = work / name / "build", work / name / "cache"
    command = ["/usr/bin/time", "-v", str(Path(sys.executable).parent / "taxonomist"), "build",
               *([str(taxonomy)] if taxonomy else []), "--out", str(out), "--cache", str(cache), "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if found is None:
        print(f"{name}: no GNU time figure (exit {done.returncode}): {done.stderr[-500:]}")
        return
    gnu_mb = int(found.group(1)) // 1024
    report = json.loads((out / "build.json").read_text()) if (out / "build.json").is_file() else {}
    memory, stages = report.get("memory", {}), report.get("stages", {})
    print(f"{name}: exit {done.returncode}; GNU time max RSS {gnu_mb} MB; the build's own peak "
          f"{memory.get('peak_mb')} MB; goal {GOALS_MB[name]} MB (ratio {gnu_mb / GOALS_MB[name]:.2f})")
    for stage, peak in memory.get("stages_mb", {}).items():
        print(f"  {stage:9} peak {peak:6} MB   time {stages.get(stage, '-')} s")


def main() -> None:
    which = os.environ.get("BUILD_MEMORY", "all")
    with tempfile.TemporaryDirectory(prefix="bench-build-memory-") as work:
        build("sample", None, Path(work))
        full = CORPUS / "taxonomy-2024-08"
        if which == "sample":
            return
        if not full.is_dir():
            print(f"taxonomy-2024-08: skipped: not at {full} (set TAXONOMIST_CORPUS)")
            return
        build("taxonomy-2024-08", full, Path(work))


if __name__ == "__main__":
    main()
