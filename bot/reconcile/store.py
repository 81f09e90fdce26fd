"""What reconciliation remembers between walks, in the queue's store (SQLite, or the Redis every process
shares): per repository the heads known to have this app's completed triage, and the newest delivery-log
entry looked at. One key per repository, rewritten whole by each walk, so closed PRs drop out by
themselves; a lost update (two walks at once) only costs one more check call on the next walk.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from huey.constants import EmptyData
from huey.storage import BaseStorage

from bot.reconcile.plan import Known

log = logging.getLogger(__name__)
HEADS, DELIVERIES, LAST_WALK = "reconcile:heads:", "reconcile:deliveries", "reconcile:last-walk"


class ReconcileStore:
    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage

    def _get(self, key: str) -> Any:
        raw = self.storage.peek_data(key)
        if raw is EmptyData:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            log.warning("reconcile store entry unreadable; starting it afresh", extra={"key": key})
            return None

    def _put(self, key: str, value: Any) -> None:
        self.storage.put_data(key, json.dumps(value).encode())

    def heads(self, repo: str) -> dict[int, Known]:
        data = self._get(HEADS + repo)
        if not isinstance(data, dict):
            return {}
        return {int(n): Known(str(v[0]), str(v[1])) for n, v in data.items()
                if n.isdigit() and isinstance(v, list) and len(v) == 2}

    def set_heads(self, repo: str, heads: dict[int, Known]) -> None:
        self._put(HEADS + repo, {str(n): [k.head_sha, k.updated_at] for n, k in heads.items()})

    def last_delivery(self) -> int:
        value = self._get(DELIVERIES)
        return value if isinstance(value, int) else 0

    def set_last_delivery(self, delivery_id: int) -> None:
        self._put(DELIVERIES, delivery_id)

    def last_walk(self) -> float:
        value = self._get(LAST_WALK)
        return float(value) if isinstance(value, int | float) else 0.0

    def set_last_walk(self, at: float) -> None:
        self._put(LAST_WALK, at)
