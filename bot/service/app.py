"""The webhook service: `POST /webhook`, `GET /healthz`, `GET /metrics`.

The signature is checked on the raw body before anything is parsed; bodies over 25 MB are
refused while they stream in. A valid delivery is turned into jobs, journalled and queued,
and answered 202 in milliseconds; the worker does the rest.

Slow clients cannot hold the service: a body must arrive within a deadline (408 after it), at
most a fixed number of webhook bodies are read at once (503 with `Connection: close` beyond),
and `/healthz` counts against neither. A signed payload whose fields have the wrong types or
that nests too deep is answered 400 before it reaches the queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.dashboard import record, web
from bot.dashboard.store import Store
from bot.service import metrics
from bot.service.jobs import DELIVERY_ID, head_sha_of, pull_request_numbers
from bot.service.logs import log_scope
from bot.service.queue import JobQueue
from bot.service.router import Router
from bot.service.signature import verify

log = logging.getLogger(__name__)
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
BODY_DEADLINE = 10.0  # seconds for a whole body; GitHub itself gives up on a delivery after 10 s
MAX_BODIES = 64  # webhook bodies read at once; more are refused at once rather than queued on sockets
MAX_DEPTH = 32  # GitHub's payloads nest about 8 deep
HEADER_DEADLINE = 5.0  # seconds from connecting to a complete request line and headers
MAX_CONNECTIONS = 2048  # beyond this uvicorn answers 503 at once; `bot serve` raises the descriptor limit above it
KEEP_ALIVE = 5  # seconds an idle keep-alive connection is kept

# The types of the payload fields the router and handlers read (checked where present): a type,
# a tuple of types, a nested mapping, or a one-element list for "a list of these".
SHAPE: dict[str, Any] = {
    "action": str, "number": int, "after": str, "ref": str, "deleted": bool,
    "repository": {"full_name": str, "default_branch": str},
    "installation": {"id": int},
    "pull_request": {"number": int, "body": (str, type(None)), "head": {"sha": str}, "base": {"ref": str}},
    "issue": {"number": int, "pull_request": (dict, type(None))},
    "comment": {"id": int, "body": (str, type(None)), "user": {"login": str}},
    "check_run": {"name": str, "head_sha": str, "pull_requests": [{"number": int}]},
    "check_suite": {"head_sha": str, "pull_requests": [{"number": int}]},
}


def _reject(status: int, reason: str, detail: str) -> JSONResponse:
    metrics.REJECTED.labels(reason).inc()
    log.warning("delivery rejected", extra={"reason": reason, "status": status})
    return JSONResponse({"error": detail}, status_code=status)


async def _read_capped(request: Request) -> bytes | None:
    """The body, or None as soon as it passes MAX_BODY (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _depth_within(value: Any, limit: int) -> bool:
    """Whether `value` nests at most `limit` containers deep (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return False
        stack += [(child, depth + 1) for child in children]
    return True


def shape_problem(value: Any, shape: Any, where: str = "payload") -> str | None:
    """The first field of `value` that does not have the type `shape` gives it, or None."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where} is not an object"
        for key, inner in shape.items():
            if key in value and (problem := shape_problem(value[key], inner, f"{where}.{key}")):
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} is not a list"
        return next(filter(None, (shape_problem(v, shape[0], f"{where}[{i}]") for i, v in enumerate(value))), None)
    if isinstance(value, bool) and shape is not bool:  # JSON true is not a number
        return f"{where} has the wrong type"
    return None if isinstance(value, shape) else f"{where} has the wrong type"


def create_app(secret: str, queue: JobQueue, router: Router,
               lifespan: Callable[[Starlette], Any] | None = None, *,
               body_deadline: float = BODY_DEADLINE, max_bodies: int = MAX_BODIES,
               store: Store | None = None, dashboard: bool = False,
               dashboard_access: web.Access | None = None) -> Starlette:
    """The webhook app; with a `store`, deliveries are recorded in it, and `dashboard` serves its pages
    (public repositories only, unless `dashboard_access` shows private ones behind its password)."""
    reading = asyncio.Semaphore(max_bodies)

    async def webhook(request: Request) -> Response:
        delivery = request.headers.get("x-github-delivery", "")
        if delivery and not DELIVERY_ID.fullmatch(delivery):  # before it reaches a log line or a store key
            return _reject(400, "bad-delivery", "X-GitHub-Delivery is not a delivery id (letters, digits and "
                                                "dashes, at most 64)")
        with log_scope(delivery=delivery or None):
            if reading.locked():
                response = _reject(503, "busy", "too many deliveries in flight; GitHub redelivers")
                response.headers["Connection"] = "close"
                return response
            async with reading:
                try:
                    async with asyncio.timeout(body_deadline):
                        body = await _read_capped(request)
                except TimeoutError:
                    response = _reject(408, "slow-body", f"the body did not arrive within {body_deadline:g} s")
                    response.headers["Connection"] = "close"
                    return response
                except ClientDisconnect:
                    return _reject(400, "disconnected", "the client went away before its body arrived")
            if body is None:
                return _reject(413, "oversized", f"payload over {MAX_BODY} bytes")
            signature = request.headers.get("x-hub-signature-256")
            if not signature:
                return _reject(401, "unsigned", "missing X-Hub-Signature-256")
            if not verify(secret, body, signature):
                return _reject(401, "bad-signature", "X-Hub-Signature-256 does not match the body")
            event = request.headers.get("x-github-event", "")
            if not event or not delivery:
                return _reject(400, "missing-headers", "missing X-GitHub-Event or X-GitHub-Delivery")
            try:
                payload = json.loads(body)
            except (ValueError, RecursionError):
                return _reject(400, "bad-json", "the body is not JSON")
            if not _depth_within(payload, MAX_DEPTH):
                return _reject(400, "bad-payload", f"the payload nests deeper than {MAX_DEPTH} levels")
            if problem := shape_problem(payload, SHAPE):
                return _reject(400, "bad-payload", problem)
            return await run_in_threadpool(accept, event, delivery, payload)

    def accept(event: str, delivery: str, payload: dict[str, Any]) -> Response:
        numbers = pull_request_numbers(event, payload)
        repo = payload.get("repository", {}).get("full_name")
        with log_scope(repo=repo, pr=numbers[0] if numbers else None, head_sha=head_sha_of(event, payload)):
            metrics.DELIVERIES.labels(event).inc()
            if event == "ping":
                log.info("ping", extra={"zen": payload.get("zen")})
                return JSONResponse({"status": "pong"})
            if queue.seen_delivery(delivery):
                log.info("redelivery recognised; its jobs are already queued", extra={"event": event})
                return JSONResponse({"status": "duplicate", "queued": 0})
            jobs = router.jobs_for(event, delivery, payload, time.time())
            if store is not None:  # before the jobs are queued: a worker's "running" must come after "queued"
                try:
                    record.on_delivery(store, event, delivery, payload, jobs, time.time())
                except Exception:  # the dashboard's view lags; the delivery itself is still queued
                    log.exception("dashboard store not updated")
            for job in jobs:
                queue.submit(job)
            queue.record_delivery(delivery)
            log.info("delivery accepted", extra={"event": event, "action": payload.get("action"), "jobs": len(jobs)})
            return JSONResponse({"status": "queued", "queued": len(jobs)}, status_code=202)

    async def healthz(request: Request) -> Response:
        pending = await run_in_threadpool(queue.pending)
        return JSONResponse({"status": "ok", "queued": pending})

    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/webhook", webhook, methods=["POST"]), Route("/healthz", healthz), Route("/metrics", prometheus)]
    if dashboard and store is not None:
        routes += web.routes(store, access=dashboard_access or web.Access())
    return Starlette(routes=routes, lifespan=lifespan)


class HeaderDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on the first request's headers: uvicorn bounds idle
    keep-alive connections but not a client that trickles its headers (slowloris)."""

    header_deadline = HEADER_DEADLINE

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.loop.call_later(self.header_deadline, self._headers_late)

    def _headers_late(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            metrics.REJECTED.labels("slow-headers").inc()
            self.transport.close()


def raise_descriptor_limit(wanted: int = 2 * MAX_CONNECTIONS) -> int:
    """Lift the soft open-files limit towards `wanted` (within the hard limit): the default 1,024 would
    run out before MAX_CONNECTIONS does. Returns the limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def serve_options(header_deadline: float = HEADER_DEADLINE, max_connections: int = MAX_CONNECTIONS) -> dict[str, Any]:
    """uvicorn settings for `bot serve` (and the tests that serve the app the same way)."""
    protocol = type("BoundedH11", (HeaderDeadlineH11,), {"header_deadline": header_deadline})
    return {"http": protocol, "limit_concurrency": max_connections, "timeout_keep_alive": KEEP_ALIVE,
            "log_config": None, "access_log": False}


def worker_lifespan(queue: JobQueue, threads: Mapping[str, int]) -> Callable[[Starlette], Any]:
    """Run huey worker threads per named queue (`{"triage": 1, "model": 1}`) inside the web process for the
    app's lifetime: separate threads, so a running model job never holds the only triage worker."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        consumers = queue.consumers(threads)
        await run_in_threadpool(queue.recover)
        for consumer in consumers:
            consumer.scheduler.start()
            for _, thread in consumer.worker_threads:
                thread.start()
        try:
            yield
        finally:
            for consumer in consumers:
                consumer.stop(graceful=True)

    return lifespan
