"""The app's webhook delivery log, as GitHub keeps it: each attempt to POST a delivery to the app's URL,
with its outcome, listed newest first (`GET /app/hook/deliveries`) and redelivered on request
(`POST /app/hook/deliveries/{id}/attempts`: the same body, headers and guid, a new id).

GitHub never redelivers by itself; the log is how an app finds what it missed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from tests.emulator import shapes
from tests.emulator.state import World, now

ATTEMPT_TIMEOUT_S = 10.0  # GitHub gives a webhook 10 s


@dataclass
class HookDelivery:
    id: int
    app_id: int
    guid: str
    url: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    body: bytes
    headers: dict[str, str]
    redelivery: bool = False
    status_code: int = 0
    status: str = ""
    duration: float = 0.0
    delivered_at: datetime = field(default_factory=now)


def attempt(world: World, delivery: HookDelivery) -> HookDelivery:
    """POST the delivery to its URL now and record the outcome (502 "failed to connect" when nothing answers)."""
    start = time.monotonic()
    try:
        answer = requests.post(delivery.url, data=delivery.body, headers=delivery.headers, timeout=ATTEMPT_TIMEOUT_S)
        delivery.status_code, delivery.status = answer.status_code, "OK" if answer.ok else f"Invalid HTTP Response: " \
                                                                                           f"{answer.status_code}"
    except requests.Timeout:
        delivery.status_code, delivery.status = 504, "timed out"
    except requests.RequestException:
        delivery.status_code, delivery.status = 502, "failed to connect"
    delivery.duration = round(time.monotonic() - start, 3)
    world.hook_deliveries.append(delivery)
    return delivery


def redeliver(world: World, original: HookDelivery) -> HookDelivery:
    again = HookDelivery(world.next_id(), original.app_id, original.guid, original.url, original.event,
                         original.action, original.installation_id, original.repository_id, original.body,
                         original.headers, redelivery=True)
    return attempt(world, again)


def item(delivery: HookDelivery) -> dict[str, Any]:
    """The `hook-delivery-item` shape of GitHub's description."""
    return {"id": delivery.id, "guid": delivery.guid, "delivered_at": shapes.iso(delivery.delivered_at),
            "redelivery": delivery.redelivery, "duration": delivery.duration, "status": delivery.status,
            "status_code": delivery.status_code, "event": delivery.event, "action": delivery.action,
            "installation_id": delivery.installation_id, "repository_id": delivery.repository_id,
            "throttled_at": None}
