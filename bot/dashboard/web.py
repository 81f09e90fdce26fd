"""The dashboard's pages, served by `bot serve` at `/`: read-only, server-rendered, no script.

Each page is one read of the bot's store (`bot.dashboard.store`) rendered with Starlette's
Jinja2 templates, which escape every value (PR titles, logins and labels are hostile). A page
view never calls GitHub, and the pages show only what the PRs show there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.comment.sticky import visible
from bot.dashboard import views
from bot.dashboard.store import Store


def shown(value: Any) -> Any:
    """A value as a page shows it: text without what shows as nothing or reorders what is shown."""
    if isinstance(value, Markup):
        return Markup(visible(str(value)))
    return visible(value) if isinstance(value, str) else value


TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.finalize = shown  # every value rendered: no invisible, bidi or tag characters (before any compile)
TEMPLATES.env.filters["days"] = views.days
TEMPLATES.env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if t else ""


HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
ALIVE_WITHIN = 60.0  # seconds: a worker whose last heartbeat is older is shown as silent
MAX_FILTER = 200  # characters kept of a filter value


def _filters(request: Request) -> views.Filters:
    q = request.query_params
    return views.Filters(**{k: q.get(k, "").strip()[:MAX_FILTER] for k in ("state", "label", "path", "author")})


def pull_requests_page(store: Store, filters: views.Filters, now: float) -> dict[str, Any]:
    rows = store.open_pulls()
    everything = [views.view(r, now) for r in rows]
    shown = views.pull_requests(everything, filters)
    return {"prs": shown, "total": len(everything), "filters": filters, "bars": views.age_plot(everything),
            "states": [str(s) for s in views.PrState],
            "labels": sorted({lb for r in rows for lb in r.labels}),
            "counts": {str(s): sum(1 for v in everything if v.state is s) for s in views.PrState}}


def routes(store: Store, clock: Callable[[], float] = time.time) -> list[Route]:
    """The dashboard's GET routes over `store`."""

    def page(template: str, build: Callable[[Request, float], dict[str, Any]]) -> Callable[..., Any]:
        async def handler(request: Request) -> Response:
            now = clock()
            context = await run_in_threadpool(build, request, now)
            return TEMPLATES.TemplateResponse(request, template, {**context, "now": now, "page": template},
                                              headers=HEADERS)
        return handler

    def similar(request: Request, now: float) -> dict[str, Any]:
        return {"groups": [[views.view(r, now) for r in g] for g in views.similar_groups(store.open_pulls())]}

    def queue(request: Request, now: float) -> dict[str, Any]:
        return {"counts": store.job_counts(), "active": store.jobs(("queued", "running")),
                "failed": store.jobs(("failed",), limit=50), "retrying": store.jobs(("retrying",), limit=50),
                "workers": store.workers(), "alive_within": ALIVE_WITHIN, "deliveries": store.deliveries()}

    def builds(request: Request, now: float) -> dict[str, Any]:
        down = store.build_down_since()
        return {"builds": store.builds(), "down_since": down}

    return [
        Route("/", page("pulls.html", lambda r, now: pull_requests_page(store, _filters(r), now))),
        Route("/similar", page("similar.html", similar)),
        Route("/queue", page("queue.html", queue)),
        Route("/builds", page("builds.html", builds)),
    ]
