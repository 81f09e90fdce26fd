"""The emulated GitHub as an ASGI app: authentication, faults, validation, dispatch and the call record.

Every API call goes through `Emulator.serve_api`, in this order, as GitHub answers: an injected
fault, authentication (app JWT or installation token), the repository scope of the token, the
request checked against GitHub's REST description (422 and a recorded violation when it breaks
it), the handler, then the response checked against the description before it is sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import tests.emulator.api  # noqa: F401 - importing it registers GitHub's endpoints on the route table
from tests.emulator import control, openapi, shapes
from tests.emulator.faults import SECONDARY_MESSAGE, Fault
from tests.emulator.routing import ApiError, Ctx, Reply, find_route
from tests.emulator.state import Conflict, Installation, NotFound, World, now

CONTROL_PREFIX = "/_emulator/"
JWT_MAX_LIFETIME_S = 600  # GitHub refuses an app JWT that expires more than 10 minutes ahead
_CLOCK_DRIFT_S = 30
DEFAULT_SETTINGS = {"token_lifetime_s": 3600, "patch_limit": shapes.DEFAULT_PATCH_LIMIT, "rate_limit": 5000}
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass
class Violation:
    """A request or response that breaks GitHub's REST description, or a call the emulator cannot serve."""

    method: str
    path: str
    status: int
    operation: str | None
    where: str  # request | response | route | emulator
    problems: list[str]

    def __str__(self) -> str:
        problems = "; ".join(self.problems)
        return f"{self.method} {self.path} -> {self.status} [{self.operation}] {self.where}: {problems}"


@dataclass
class Auth:
    """Who is calling: an app (JWT) or an installation (token); neither when unauthenticated."""

    token: str | None = None
    app: Any = None
    installation: Installation | None = None


class Emulator:
    """GitHub's state, faults, the call record and violations, served by `self.asgi`."""

    def __init__(self, openapi_path: str | None = None) -> None:
        self.lock = threading.RLock()
        self.description = openapi.load(openapi_path) if openapi_path else None
        self.validation_note = (f"validating against {openapi_path}" if self.description else
                                f"NOT validating: GitHub's REST description is absent ({openapi_path})")
        if self.description is None:
            _say_once(self.validation_note)
        self.reset()
        self.asgi = Starlette(routes=[
            Route(CONTROL_PREFIX + "{rest:path}", control.endpoint(self), methods=_ALL_METHODS),
            Route("/{rest:path}", self.serve_api, methods=_ALL_METHODS),
        ])

    def reset(self) -> None:
        with self.lock:
            self.world = World()
            self.calls: list[dict[str, Any]] = []
            self.violations: list[Violation] = []
            self.faults: list[Fault] = []
            self.settings = dict(DEFAULT_SETTINGS)

    async def serve_api(self, request: Request) -> Response:
        raw = await request.body()
        method, path = request.method, request.url.path
        with self.lock:
            fault = next((f for f in self.faults if f.takes(method, path)), None)
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.delay_s)
            fault = None
        with self.lock:
            reply, operation, auth = self._answer(request, raw, fault)
            headers = {**self._rate_headers(auth), "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper(),
                       **reply.headers}
            has_body = reply.raw is None and reply.status != 204
            # The description only describes JSON: a raw media-type answer (file bytes) is not checked.
            if self.description is not None and operation is not None and reply.raw is None:
                problems = self.description.response_errors(operation, reply.status, reply.body, has_body)
                if problems:
                    self.violations.append(Violation(method, path, reply.status, operation.operation_id,
                                                     "response", problems))
            self.calls.append({
                "seq": len(self.calls) + 1, "method": method, "path": path, "query": dict(request.query_params),
                "status": reply.status, "request": _json_or_text(raw), "response": reply.body,
                "fault": fault.kind if fault else None, "operation": operation.operation_id if operation else None,
                "at": time.time(),
            })
        if reply.raw is not None:
            return Response(reply.raw, reply.status, headers)
        if not has_body:
            return Response(None, reply.status, headers)
        return Response(json.dumps(reply.body), reply.status, headers, media_type="application/json; charset=utf-8")

    def _answer(self, request: Request, raw: bytes, fault: Fault | None) -> tuple[Reply, Any, Auth]:
        """The reply to one call, the description's operation for it (None when unknown) and who made it."""
        method, path = request.method, request.url.path
        matched = self.description.match(method, path) if self.description else None
        operation = matched[0] if matched else None
        auth = Auth()
        try:
            if fault is not None:
                raise self._fault_error(fault, request)
            auth = self._authenticate(request.headers.get("authorization", ""))
            found = find_route(method, path)
            if found is None:
                known = None if self.description is None else matched is not None
                return self._unserved(method, path, known), operation, auth
            route_, params = found
            body, has_body = _parse_json(raw)
            ctx = Ctx(self.world, self.settings, shapes.Urls(str(request.base_url).rstrip("/")),
                      str(request.url).split("?")[0], params, dict(request.query_params),
                      body, {k.lower(): v for k, v in request.headers.items()}, auth.app, auth.installation,
                      token=auth.token)
            self._authorize(ctx, route_.auth, auth)
            if self.description is not None and matched is not None:
                problems = self.description.request_errors(operation, matched[1],
                                                           list(request.query_params.multi_items()), body, has_body)
                if problems:
                    self.violations.append(Violation(method, path, 422, operation.operation_id, "request", problems))
                    raise ApiError(422, "Invalid request.\n\n" + "\n".join(problems))
            if auth.token and route_.template != "/rate_limit":  # GitHub does not count reading the limit
                self.world.tokens[auth.token].used += 1
            return route_.handler(ctx), operation, auth
        except ApiError as error:
            extra_headers = error.extra.pop("headers", {})
            return Reply(error.status, shapes.error(error.message, error.status, **error.extra), extra_headers), \
                operation, auth
        except Conflict as clash:
            return Reply(clash.status, shapes.error(clash.message, clash.status)), operation, auth
        except Exception as bug:  # a fault of the emulator: fail the test that met it, loudly
            where = traceback.extract_tb(bug.__traceback__)[-1]
            problem = f"emulator error {type(bug).__name__}: {bug} ({where.filename}:{where.lineno})"
            self.violations.append(Violation(method, path, 500, operation and operation.operation_id, "emulator",
                                             [problem]))
            return Reply(500, shapes.error(f"Server Error ({problem})", 500)), operation, auth

    def _unserved(self, method: str, path: str, in_description: bool | None) -> Reply:
        """404 and a violation: GitHub has no such call (False), the emulator lacks it (True), unknown (None)."""
        why = {True: "the emulator does not implement this GitHub operation",
               False: "GitHub's REST API has no such operation",
               None: "the emulator does not serve this call"}[in_description]
        self.violations.append(Violation(method, path, 404, None, "route", [why]))
        return Reply(404, shapes.error(f"Not Found ({why}: {method} {path})", 404))

    def _fault_error(self, fault: Fault, request: Request) -> ApiError:
        retry = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.kind == "rate_limit":
            reset = int(time.time()) + (fault.retry_after or 60)
            headers = {**retry, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
            return ApiError(fault.status or 403, fault.message or "API rate limit exceeded for installation.",
                            headers=headers)
        if fault.kind == "secondary_rate_limit":
            message = fault.message or SECONDARY_MESSAGE.format(request_id=uuid.uuid4().hex[:20].upper())
            return ApiError(fault.status or 403, message, headers={"Retry-After": str(fault.retry_after or 60)})
        assert fault.status is not None
        return ApiError(fault.status, fault.message or _STATUS_MESSAGES.get(fault.status, "Server Error"),
                        headers=retry)

    def _authenticate(self, header: str) -> Auth:
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        if not credential:
            return Auth()
        if scheme.lower() == "bearer" and credential.count(".") == 2:
            return Auth(app=self._verify_jwt(credential))
        if scheme.lower() not in ("token", "bearer"):
            raise ApiError(401, "Bad credentials")
        token = self.world.tokens.get(credential)
        if token is None or token.expires_at <= now():
            raise ApiError(401, "Bad credentials")
        return Auth(token=credential, installation=self.world.installations[token.installation_id])

    def _verify_jwt(self, encoded: str) -> Any:
        try:
            issuer = jwt.decode(encoded, options={"verify_signature": False}).get("iss")
            app = self.world.apps.get(int(issuer))
        except (jwt.PyJWTError, TypeError, ValueError):
            raise ApiError(401, "A JSON web token could not be decoded") from None
        if app is None:
            raise ApiError(401, f"Integration not found: no app with id {issuer!r} is registered")
        try:
            claims = jwt.decode(encoded, app.public_key_pem, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]}, leeway=_CLOCK_DRIFT_S)
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future "
                                "time at which the assertion expires") from None
        except jwt.PyJWTError as error:
            raise ApiError(401, f"A JSON web token could not be decoded ({error})") from None
        if claims["exp"] - time.time() > JWT_MAX_LIFETIME_S + _CLOCK_DRIFT_S:
            raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
        return app

    def _authorize(self, ctx: Ctx, needs: str, auth: Auth) -> None:
        """401 without the right credential; 404 for a repository or org the installation cannot see."""
        if needs == "app" and auth.app is None:
            raise ApiError(401, "A JSON web token could not be decoded")
        if needs == "installation" and auth.installation is None:
            raise ApiError(401, "Requires authentication" if auth.app is None
                           else "This endpoint requires an installation access token, not an app JWT")
        if needs == "any" and auth.app is None and auth.installation is None:
            raise ApiError(401, "Requires authentication")
        if "owner" in ctx.params:
            try:
                ctx.repo = self.world.repo(ctx.params["owner"], ctx.params["repo"])
            except NotFound:
                raise ApiError(404, "Not Found") from None
        installation = auth.installation
        if installation is None:
            return
        account = (ctx.repo.owner if ctx.repo else ctx.params.get("org", installation.account)).lower()
        covered = installation.account.lower() == account and (
            ctx.repo is None or installation.repositories is None
            or ctx.repo.full_name.lower() in {name.lower() for name in installation.repositories})
        if not covered:
            raise ApiError(404, "Not Found")
        limit = self.settings["rate_limit"]
        if auth.token and self.world.tokens[auth.token].used >= limit:
            raise ApiError(403, f"API rate limit exceeded for installation ID {installation.id}.")

    def _rate_headers(self, auth: Auth) -> dict[str, str]:
        limit = self.settings["rate_limit"] if auth.token or auth.app else 60
        used = self.world.tokens[auth.token].used if auth.token else 0
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(limit - used, 0)),
                   "X-RateLimit-Reset": str(int(time.time()) // 3600 * 3600 + 3600),
                   "X-RateLimit-Used": str(used), "X-RateLimit-Resource": "core"}
        return headers


class EmulatorWarning(UserWarning):
    """Something a test run should know about the emulator (it runs without validation)."""


@cache
def _say_once(note: str) -> None:
    warnings.warn(f"GitHub emulator: {note}", EmulatorWarning, stacklevel=3)


_STATUS_MESSAGES = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable", 504: "Gateway Timeout",
                    429: "Too Many Requests"}


def _parse_json(raw: bytes) -> tuple[Any, bool]:
    if not raw.strip():
        return None, False
    try:
        return json.loads(raw), True
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return raw.decode(errors="replace")
