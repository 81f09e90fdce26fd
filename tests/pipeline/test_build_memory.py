"""The build's memory (issue 27): each stage's peak measured into build.json, the limit read from the
machine, and a stage that cannot fit stopped before it starts, with the finished work kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.memory import MemoryBudgetError, PeakMemory, memory_limit, parse_size
from pipeline.publish.report import read_report, update_report
from pipeline.publish.stage import report_html
from pipeline.weekly import BuildContext, measured_stage
from taxonomist.cli import app

GB = 1024 ** 3


def fake_cgroup(tmp_path: Path, cgroup_line: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "sys-fs-cgroup"
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(cgroup_line)
    return proc, root


def test_the_limit_is_the_tightest_cgroup_limit_on_the_way_to_the_root(tmp_path: Path) -> None:
    proc, root = fake_cgroup(tmp_path, "0::/runner/job\n", {"runner/job/memory.max": "max\n",
                                                             "runner/memory.max": "7516192768\n"})
    limit = memory_limit({}, proc, root)
    assert limit.bytes == 7516192768 and "runner/memory.max" in limit.source


def test_a_cgroup_v1_limit_counts_and_an_unlimited_one_falls_back_to_physical_memory(tmp_path: Path) -> None:
    proc, root = fake_cgroup(tmp_path, "4:memory:/docker/abc\n",
                             {"memory/docker/abc/memory.limit_in_bytes": str(2 * GB)})
    assert memory_limit({}, proc, root).bytes == 2 * GB
    proc, root = fake_cgroup(tmp_path / "v2", "0::/\n", {"memory.max": "max"})
    limit = memory_limit({}, proc, root)
    assert limit.source == "physical memory" and limit.bytes > 0


def test_the_operator_can_set_a_lower_limit() -> None:
    assert memory_limit({"TAXONOMIST_MEMORY_LIMIT": "3.5G"}).bytes == int(3.5 * GB)
    assert parse_size("4096M") == 4 * GB and parse_size("1000") == 1000
    with pytest.raises(ValueError, match="not a memory size"):
        parse_size("lots")


@pytest.mark.skipif(sys.platform != "linux", reason="the children's memory is read from /proc")
def test_the_peak_counts_this_process_and_its_children() -> None:
    """The meter itself, not a target: a child holding 300 MB raises the peak by about that much."""
    with PeakMemory() as quiet:
        pass
    with PeakMemory(interval=0.05) as busy:
        subprocess.run([sys.executable, "-c", "import time; b = bytearray(300 * 2**20); b[::4096] = b'x' * "
                        "len(b[::4096]); time.sleep(1.0)"], check=True)
    assert busy.peak_bytes - quiet.peak_bytes > 250 * 2**20


def _touch(megabytes: int) -> bytearray:
    block = bytearray(megabytes * 2**20)
    block[::4096] = b"x" * len(block[::4096])
    return block


@pytest.mark.skipif(sys.platform != "linux", reason="the high-water mark is read from /proc")
def test_the_meter_leaves_the_whole_runs_high_water_mark_alone() -> None:
    """GNU time and getrusage report the process's high-water mark, which a reset would cut to the last
    stage's; a stage below an earlier stage's peak reports its own, sampled, level instead."""
    import resource

    block = _touch(400)
    del block
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with PeakMemory(interval=0.02) as small:
        kept = _touch(20)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 >= before
    assert small.peak_bytes < before - 200 * 2**20 and len(kept)


def test_a_stage_records_its_peak_and_time_and_remembers_its_need(tmp_path: Path) -> None:
    context = BuildContext(tmp_path / "cache")
    build = tmp_path / "build"
    update_report(build, {"taxonomy": {"path": "/t"}})
    with measured_stage(build, "train", context):
        block = bytearray(50 * 2**20)
        block[::4096] = b"x" * len(block[::4096])
    report = read_report(build)
    assert report["memory"]["stages_mb"]["train"] >= 50 and report["memory"]["peak_mb"] >= 50
    assert report["stages"]["train"] >= 0 and report["memory"]["limit_mb"] > 0
    peak, ran_under = context.needs()["train /t"]
    assert peak >= 50 * 2**20 and abs(ran_under - report["memory"]["limit_mb"] * 2**20) < 2**20
    assert "<h2>Stages</h2>" in report_html(report) and f"{report['memory']['stages_mb']['train']} MB" in \
        report_html(report)


def test_a_stage_that_cannot_fit_stops_before_it_starts_and_keeps_everything(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    context = BuildContext(tmp_path / "cache")
    build = tmp_path / "build"
    update_report(build, {"taxonomy": {"path": "/t"}, "stages": {"teacher": 12.0}})
    context.remember_need("evaluate /t", 6 * GB)
    before = (build / "build.json").read_bytes(), context.memory_history.read_bytes()
    monkeypatch.setenv("TAXONOMIST_MEMORY_LIMIT", "4G")
    ran = []
    with pytest.raises(MemoryBudgetError) as caught, measured_stage(build, "evaluate", context):
        ran.append("evaluate")
    message = str(caught.value)
    assert ran == [] and "6.0 GB" in message and "4.0 GB" in message and "TAXONOMIST_MEMORY_LIMIT" in message
    assert "--judge none" in message and "finished stages are kept" in message
    assert ((build / "build.json").read_bytes(), context.memory_history.read_bytes()) == before


def test_a_need_remembered_under_a_larger_limit_shrinks_by_what_the_stage_fits_to_the_smaller_one() -> None:
    """The teacher's batch cache is 1/8 of the limit up to 512 MB; training's activations 1/8 up to 768 MB;
    the rest of a stage (the model, the libraries) does not shrink."""
    from pipeline.weekly import need_under

    assert need_under("generate", 3 * GB, 24 * GB, 2 * GB) == 3 * GB - (512 - 256) * 2**20
    assert need_under("train", 3 * GB, 24 * GB, 4 * GB) == 3 * GB - (768 - 512) * 2**20
    assert need_under("publish", 3 * GB, 24 * GB, 2 * GB) == 3 * GB
    assert need_under("generate", 3 * GB, None, 2 * GB) == 3 * GB  # remembered by an older release
    assert need_under("generate", 3 * GB, 2 * GB, 24 * GB) == 3 * GB + 256 * 2**20  # bigger batches


def test_an_older_releases_memory_history_still_reads(tmp_path: Path) -> None:
    context = BuildContext(tmp_path)
    context.memory_history.write_text(json.dumps({"train /t": 5 * GB, "odd": "x"}))
    assert context.needs() == {"train /t": (5 * GB, None)}
    context.remember_need("generate /t", GB, 8 * GB)
    assert context.needs() == {"train /t": (5 * GB, None), "generate /t": (GB, 8 * GB)}


def test_the_command_line_says_so_in_one_line_with_exit_2(tmp_path: Path) -> None:
    cache, build = tmp_path / "cache", tmp_path / "build"
    update_report(build, {"taxonomy": {"path": "/t"}})
    BuildContext(cache).remember_need("train /t", 9 * GB)
    result = CliRunner().invoke(app, ["build", "train", str(build), "--cache", str(cache)],
                                env={"TAXONOMIST_MEMORY_LIMIT": "2G"})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("taxonomist build train: the train stage needs about 9.0 GB")
    assert "Traceback" not in result.output and json.loads((build / "build.json").read_text()).get("training") is None


def _writable_memory_cgroup() -> Path | None:
    """A folder where a memory cgroup may be made beside this process's own (v1 `memory` or v2 with the
    memory controller), or None: not root, or no such hierarchy here."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            folder = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
        elif controllers == "" and "memory" in _read(Path("/sys/fs/cgroup/cgroup.subtree_control")):
            folder = Path("/sys/fs/cgroup") / path.lstrip("/")
        else:
            continue
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder
    return None


def _read(file: Path) -> str:
    try:
        return file.read_text()
    except OSError:
        return ""


@pytest.mark.skipif(_writable_memory_cgroup() is None,
                    reason="needs a memory cgroup this user may create (root, cgroup v1 memory or v2 with memory)")
def test_a_real_cgroup_limit_stops_the_stage_before_it_starts(tmp_path: Path) -> None:
    """The limit a container or CI runner sets, read by the build itself from inside a real cgroup."""
    group = _writable_memory_cgroup() / f"taxonomist-test-{os.getpid()}"  # type: ignore[operator]
    group.mkdir()
    try:
        limit_file = group / ("memory.limit_in_bytes" if (group / "memory.limit_in_bytes").exists() else "memory.max")
        limit_file.write_text(str(GB))
        cache, build = tmp_path / "cache", tmp_path / "build"
        update_report(build, {"taxonomy": {"path": "/t"}})
        BuildContext(cache).remember_need("train /t", 3 * GB)
        env = {k: v for k, v in os.environ.items() if k != "TAXONOMIST_MEMORY_LIMIT"}

        def join_the_group() -> None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

        done = subprocess.run([sys.executable, "-c", "from taxonomist.cli import main; main()", "build", "train",
                               str(build), "--cache", str(cache)], capture_output=True, text=True, env=env,
                              preexec_fn=join_the_group, timeout=300)
        assert done.returncode == 2, done.stderr
        assert "needs about 3.0 GB" in done.stderr and "1.0 GB this machine allows (cgroup limit" in done.stderr
        assert str(limit_file.name) in done.stderr and "Traceback" not in done.stderr
        assert json.loads((build / "build.json").read_text()).get("training") is None
    finally:
        group.rmdir()
