"""Structured JSON logs: every line carries the delivery id, repository, PR and head SHA in scope."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

_scope: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("taxonomist_log_scope")
_FIELDS = ("delivery", "repo", "pr", "head_sha")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@contextlib.contextmanager
def log_scope(**values: Any) -> Iterator[None]:
    """Attach delivery / repo / pr / head_sha to every log line written inside the block."""
    token = _scope.set({**_scope.get({}), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _scope.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        scope = _scope.get({})
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        line.update({k: scope.get(k) for k in _FIELDS})
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and k not in line})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # huey's per-task info lines carry no delivery; the bot logs job start and end itself, in scope.
    logging.getLogger("huey").setLevel(logging.WARNING)
