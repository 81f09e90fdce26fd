"""The pieces every emulated endpoint shares: its context, its reply, the route table, pagination."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.emulator.shapes import Urls
from tests.emulator.state import App, Installation, Repo, World


class ApiError(Exception):
    """An answer other than success, with GitHub's status and message."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (the raw media type of the contents API)


@dataclass
class Ctx:
    """One authenticated API call, as a handler sees it."""

    world: World
    settings: dict[str, Any]
    urls: Urls
    url: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    app: App | None = None
    installation: Installation | None = None
    token: str | None = None
    repo: Repo | None = None

    @property
    def actor(self) -> str:
        """The login acting: the app's bot user for an installation token."""
        if self.installation is None:
            raise ApiError(401, "Requires authentication")
        return self.world.apps[self.installation.app_id].bot.login

    def the_repo(self) -> Repo:
        if self.repo is None:
            raise ApiError(404, "Not Found")
        return self.repo

    def number(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(404, "Not Found") from None

    def field(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default) if isinstance(self.body, dict) else default


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    auth: str  # "app" (a JWT), "installation" (a token) or "any"
    handler: Handler


ROUTES: list[Route] = []


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(path)\\\}", r"(?P<\1>.+)", re.escape(template))
    pattern = re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


def route(method: str, template: str, auth: str = "installation") -> Callable[[Handler], Handler]:
    """Register a handler for METHOD TEMPLATE (the template as GitHub's description spells it)."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, _compile(template), auth, handler))
        return handler

    return register


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The most specific route (most literal characters) for METHOD PATH."""
    found = [(r, m) for r in ROUTES if r.method == method and (m := r.regex.match(path))]
    if not found:
        return None
    best, match = max(found, key=lambda pair: len(re.sub(r"\{[^}]+\}", "", pair[0].template)))
    return best, match.groupdict()


def paginate(ctx: Ctx, items: list[Any], max_total: int | None = None) -> tuple[list[Any], dict[str, str]]:
    """One page of ITEMS (`per_page` 30 by default, at most 100) and GitHub's `Link` header."""
    try:
        per_page = min(max(int(ctx.query.get("per_page", 30)), 1), 100)
        page = max(int(ctx.query.get("page", 1)), 1)
    except ValueError:
        raise ApiError(422, "Invalid pagination parameters") from None
    if max_total is not None:
        items = items[:max_total]
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []

    def link(number: int, rel: str) -> str:
        query = {**ctx.query, "per_page": str(per_page), "page": str(number)}
        return f'<{ctx.url}?{urlencode(query)}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    headers = {"Link": ", ".join(links)} if links else {}
    return items[(page - 1) * per_page: page * per_page], headers
