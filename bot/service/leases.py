"""Leases: one worker at a time per job key, across threads, processes and machines.

A recovered job can sit in the queue twice (its original copy and the one a starting worker
re-enqueued), and two workers may take both at once. A lease in huey's key-value store (atomic
`put_if_empty` on SQLite and on Redis) lets only one of them run it. The holder renews it while
the job runs; a worker killed mid-job stops renewing, so its lease expires and another worker
takes the job over instead of waiting forever.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from huey.constants import EmptyData
from huey.storage import BaseStorage

LEASE = "lease:"
DEFAULT_LEASE = 30.0  # seconds a lease lasts unless renewed; a killed worker's job waits this long


class Leases:
    """Take, renew and give back leases on keys; each instance is one holder."""

    def __init__(self, storage: BaseStorage, duration: float = DEFAULT_LEASE,
                 clock: Callable[[], float] = time.time) -> None:
        self.storage = storage
        self.duration = duration
        self.clock = clock
        self.holder = uuid.uuid4().hex

    def _value(self) -> bytes:
        return json.dumps({"holder": self.holder, "until": self.clock() + self.duration}).encode()

    def _holder(self, raw: Any) -> str:
        return str(json.loads(raw)["holder"])

    def _expired(self, raw: Any) -> bool:
        return float(json.loads(raw)["until"]) < self.clock()

    def acquire(self, key: str) -> bool:
        """Take the lease on KEY if it is free or its holder stopped renewing it."""
        if self.storage.put_if_empty(LEASE + key, self._value()):
            return True
        held = self.storage.peek_data(LEASE + key)
        if held is not EmptyData and not self._expired(held):
            return False
        taken = self.storage.pop_data(LEASE + key)  # atomic on SQLite and Redis
        if taken is not EmptyData and taken != held:  # renewed or re-taken since it was read: not ours
            self.storage.put_if_empty(LEASE + key, taken)
            return False
        return bool(self.storage.put_if_empty(LEASE + key, self._value()))

    def renew(self, key: str) -> bool:
        """Extend our lease on KEY; False when it is no longer ours (it expired and was taken)."""
        held = self.storage.peek_data(LEASE + key)
        if held is EmptyData or self._holder(held) != self.holder:
            return False
        self.storage.put_data(LEASE + key, self._value())
        return True

    def release(self, key: str) -> None:
        """Give the lease on KEY back, leaving it alone if another holder has it now."""
        taken = self.storage.pop_data(LEASE + key)
        if taken is not EmptyData and self._holder(taken) != self.holder:
            self.storage.put_if_empty(LEASE + key, taken)

    @contextmanager
    def hold(self, key: str) -> Iterator[bool]:
        """Yield whether the lease on KEY was taken; while held, a thread renews it."""
        if not self.acquire(key):
            yield False
            return
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.duration / 3) and self.renew(key):
                pass

        renewer = threading.Thread(target=renew, name=f"lease {key}", daemon=True)
        renewer.start()
        try:
            yield True
        finally:
            stop.set()
            renewer.join()
            self.release(key)
