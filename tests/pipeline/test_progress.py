"""What a build says while it runs: durations, the time left, progress bars off, where a resumed run picks up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tqdm import tqdm  # imported before the switch, as a library loaded early imports it

from pipeline.progress import QUIET_BARS, duration, set_progress_bars, time_left
from pipeline.train.stage import Phase, TrainConfig, resume_point
from tests.conftest import REPO_ROOT


@pytest.mark.parametrize(("seconds", "said"), [(0, "0 s"), (44.6, "45 s"), (185, "3 min 05 s"),
                                               (3725, "1 h 02 min")])
def test_duration_reads_as_the_docs_write_it(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_time_left_follows_the_pace_so_far() -> None:
    assert time_left(2, 10, 60.0) == "about 4 min 00 s left"
    assert time_left(0, 10, 5.0) == "" and time_left(10, 10, 5.0) == ""


def test_no_progress_silences_every_library() -> None:
    """In a fresh process, as the command runs it: the switches are read when the libraries load."""
    code = ("from pipeline.progress import QUIET_BARS, set_progress_bars; import os; set_progress_bars(False); "
            "from tqdm import tqdm; from transformers.utils import logging; "
            "print(tqdm(total=1).disable, logging.is_progress_bar_enabled(), "
            "all(os.environ[n] == '1' for n in QUIET_BARS))")
    env = {k: v for k, v in os.environ.items() if k not in QUIET_BARS}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT,
                          check=False)
    assert done.stdout.split() == ["True", "False", "True"], done.stderr


def test_no_progress_silences_a_tqdm_imported_before_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in QUIET_BARS:
        monkeypatch.setenv(name, "")
    set_progress_bars(False)
    assert all(os.environ[name] == "1" for name in QUIET_BARS)
    with tqdm(total=3) as bar:
        assert bar.disable
    set_progress_bars(True)
    assert not any(name in os.environ for name in QUIET_BARS)
    with tqdm(total=3) as bar:
        assert not bar.disable


def test_resume_names_the_phase_and_step_it_picks_up_at() -> None:
    """Issue 25: a run cut after its last phase said "phase 3, step 0"."""
    config = TrainConfig(student="s", output_dir="o", phases=(Phase("knowledge", "a", 20, 1e-4, 1),
                                                              Phase("skills", "b", 10, 1e-4, 1)))
    assert resume_point(config, {"phase": 1, "step": 0}) == "skills, phase 2 of 2, from step 1 of 10"
    assert resume_point(config, {"phase": 0, "step": 7}) == "knowledge, phase 1 of 2, from step 8 of 20"
    assert resume_point(config, {"phase": 2, "step": 0}) == "every phase done; saving the result"
