"""The build folder's files: one JSONL reader, one atomic writer, and where training writes its model.

Writes go to a temporary file in the same folder and are renamed over the target, so a crash never
leaves half a file for the next stage to read.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

TRAINING_DIR = "training"


def training_dir(build_dir: Path) -> Path:
    """Where a build's training writes its checkpoints, `adapter/` and merged `model/`."""
    return Path(build_dir) / TRAINING_DIR


def trained_model_dir(build_dir: Path) -> Path:
    """The merged model folder of a build (`training/model`)."""
    return training_dir(build_dir) / "model"


def _file_mode() -> int:
    """The mode `open()` gives a new file here: 0666 less the umask (read once, at import)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def write_atomic(path: Path, write: Callable[[IO[str]], None]) -> None:
    """Write a text file through a temporary file and a rename (readers see the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            write(fh)
        os.chmod(tmp, FILE_MODE)  # mkstemp makes it 0600: a published build.json must be readable by others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    def write(fh: IO[str]) -> None:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")

    write_atomic(path, write)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_atomic(path, lambda fh: fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The JSON values of a JSONL file, blank lines skipped; a bad line is a ValueError naming FILE:LINE."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not a JSON object: {exc.msg}") from None
    return rows
