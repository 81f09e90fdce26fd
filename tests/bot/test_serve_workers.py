"""`bot serve` runs model work in a `bot worker --queue model` process of its own, which dies with it."""

from __future__ import annotations

import time
from pathlib import Path

from tests.bot.process import BotProcess


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_serve_starts_a_model_worker_process_that_dies_with_it(tmp_path: Path) -> None:
    bot = BotProcess.configure(tmp_path).start()
    try:
        assert bot.proc is not None
        (model,) = [pid for pid, command in children(bot.proc.pid) if "worker --queue model" in command]
        bot.kill()  # SIGKILL: no chance to stop its child itself
        deadline = time.monotonic() + 30
        while alive(model) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(model)
    finally:
        bot.kill()


def test_no_model_worker_process_when_model_workers_is_0(tmp_path: Path) -> None:
    bot = BotProcess.configure(tmp_path, TAXONOMIST_MODEL_WORKERS="0").start()
    try:
        assert bot.proc is not None and children(bot.proc.pid) == []
    finally:
        bot.stop()
