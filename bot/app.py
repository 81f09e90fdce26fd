"""The webhook service: `POST /webhook`, `GET /healthz`, `GET /metrics`.

The signature is checked on the raw body before anything is parsed; bodies over 25 MB are
refused while they stream in. A valid delivery is turned into jobs, journalled and queued,
and answered 202 in milliseconds; the worker does the rest.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.dashboard import record, web
from bot.dashboard.store import Store
from bot.logs import log_scope
from bot.queue import JobQueue
from bot.router import Router, head_sha_of, pull_request_numbers
from bot.signature import verify

log = logging.getLogger(__name__)
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


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


def create_app(secret: str, queue: JobQueue, router: Router,
               lifespan: Callable[[Starlette], Any] | None = None, store: Store | None = None,
               dashboard: bool = False) -> Starlette:
    """The webhook app; with a `store`, deliveries are recorded in it, and `dashboard` serves its pages."""

    async def webhook(request: Request) -> Response:
        delivery = request.headers.get("x-github-delivery", "")
        with log_scope(delivery=delivery or None):
            body = await _read_capped(request)
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
            except ValueError:
                return _reject(400, "bad-json", "the body is not JSON")
            if not isinstance(payload, dict):
                return _reject(400, "bad-json", "the body is not a JSON object")
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
        pending = await run_in_threadpool(queue.huey.pending_count)
        return JSONResponse({"status": "ok", "queued": pending})

    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/webhook", webhook, methods=["POST"]), Route("/healthz", healthz), Route("/metrics", prometheus)]
    if dashboard and store is not None:
        routes += web.routes(store)
    return Starlette(routes=routes, lifespan=lifespan)


def worker_lifespan(queue: JobQueue, workers: int) -> Callable[[Starlette], Any]:
    """Run huey worker threads inside the web process for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                              initial_delay=0.02, backoff=1.5, max_delay=0.5)
        await run_in_threadpool(queue.recover)
        consumer.scheduler.start()
        for _, thread in consumer.worker_threads:
            thread.start()
        try:
            yield
        finally:
            consumer.stop(graceful=True)

    return lifespan
