"""What a build says while it runs: the time a stage has left, and progress bars on or off for every
library at once (`--no-progress` silences tqdm, transformers and huggingface_hub alike)."""

from __future__ import annotations

import os
import sys
from functools import partialmethod

# Read by tqdm (every bar's default), huggingface_hub and transformers when they load, and inherited by
# the training processes torchrun or accelerate start.
QUIET_BARS = {"TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def set_progress_bars(enabled: bool) -> None:
    """Progress bars on (the libraries' default) or off, in this process and the ones it starts."""
    for name, value in QUIET_BARS.items():
        if enabled:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _tqdm_default(disabled=not enabled)
    if not enabled:
        try:  # transformers may already be imported: its switch is read once, at import
            from transformers.utils import logging as hf_logging
        except ImportError:
            return
        hf_logging.disable_progress_bar()


def _tqdm_default(*, disabled: bool) -> None:
    """tqdm reads TQDM_DISABLE once, when it is imported: when a library imported it earlier, its bars'
    default is set on the class instead (a bar that asks for `disable=` itself still decides)."""
    std = sys.modules.get("tqdm.std")
    if std is None:
        return
    bar = std.tqdm
    original = bar.__dict__.get("_enabled_init")
    if disabled and original is None:
        bar._enabled_init = bar.__init__
        bar.__init__ = partialmethod(bar.__init__, disable=True)
    elif not disabled and original is not None:
        bar.__init__ = original
        del bar._enabled_init


def duration(seconds: float) -> str:
    """`45 s`, `3 min 05 s`, `1 h 02 min`: how the build's messages and docs say a time."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def time_left(done: int, total: int, elapsed: float) -> str:
    """"about 2 min 10 s left" from the pace so far (steps, leaves or questions), "" before the first."""
    if done <= 0 or total <= done:
        return ""
    return f"about {duration(elapsed / done * (total - done))} left"
