"""The dashboard's pages, served by `bot serve` at `/`: read-only, server-rendered, no script.

Each page is one read of the bot's store (`bot.dashboard.store`) rendered with Starlette's
Jinja2 templates, which escape every value (PR titles, logins and labels are hostile). A page
view never calls GitHub, and the pages show only what the PRs show there: private repositories
only where the operator turned that on (`Access`), and then every page asks for the password.

Page views cannot slow the webhook: each page is read and rendered on the dashboard's own small
thread pool (`PagePool`), never on the threads or the event loop that answer deliveries, and
views beyond what that pool has waiting are answered 503 at once instead of queueing.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.comment.sticky import visible
from bot.dashboard import public, views
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
PAGE_THREADS = 2  # pages render here, apart from the webhook's threads
PAGES_WAITING = 32  # page views waiting for a page thread beyond this are answered 503


@dataclass(frozen=True, slots=True)
class Access:
    """Who sees what: public repositories to anyone, unless a password is set (then every page asks for
    it); private repositories' PRs, jobs and deliveries only with `private`, which needs the password."""

    private: bool = False
    password: str = ""

    def __post_init__(self) -> None:
        if self.private and not self.password:
            raise ValueError("private repositories are shown only behind a password")

    def allows(self, request: Request) -> bool:
        if not self.password:
            return True
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            _, _, given = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return scheme.lower() == "basic" and hmac.compare_digest(given.encode(), self.password.encode())


class PagePool:
    """The dashboard's own threads: at most PAGE_THREADS pages at a time, PAGES_WAITING in line."""

    def __init__(self, threads: int = PAGE_THREADS, waiting: int = PAGES_WAITING) -> None:
        self.limiter = anyio.CapacityLimiter(threads)
        self.waiting = waiting
        self.in_line = 0

    def full(self) -> bool:
        return self.in_line >= self.waiting + self.limiter.total_tokens

    async def run(self, work: Callable[[], str]) -> str:
        self.in_line += 1  # the event loop is one thread: no lock needed
        try:
            return await anyio.to_thread.run_sync(work, limiter=self.limiter)
        finally:
            self.in_line -= 1


def _filters(request: Request) -> views.Filters:
    q = request.query_params
    return views.Filters(**{k: q.get(k, "").strip()[:MAX_FILTER] for k in views.FILTER_KEYS})


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


def pull_requests_page(store: Store, request: Request, now: float, private: bool = False) -> dict[str, Any]:
    filters = _filters(request)
    sort = request.query_params.get("sort", "waiting")
    sort = sort if sort in views.SORTS else "waiting"
    descending = request.query_params.get("order") == "desc"
    rows = store.open_pulls(private=private)
    everything = [views.view(r, now) for r in rows]
    page = views.pull_requests(everything, filters, sort, descending, _page_number(request))
    alike: dict[int, set[int]] = {}
    for group in views.similar_groups(rows):
        for r in group.prs:
            alike.setdefault(r.number, set()).update(o.number for o in group.prs if o.number != r.number)
    return {"prs": page.prs, "listing": page, "total": len(everything), "filters": filters, "sort": sort,
            "alike": {n: len(others) for n, others in alike.items()},
            "descending": descending, "bars": views.age_plot(everything),
            "states": [str(s) for s in views.PrState],
            "labels": sorted({lb for r in rows for lb in r.labels}),
            "counts": {str(s): sum(1 for v in everything if v.state is s) for s in views.PrState}}


def routes(store: Store, clock: Callable[[], float] = time.time, access: Access = Access(),
           pool: PagePool | None = None) -> list[Route]:
    """The dashboard's GET routes over `store`."""
    pool = pool or PagePool()
    private = access.private

    def page(template: str, build: Callable[[Request, float], dict[str, Any]]) -> Callable[..., Any]:
        async def handler(request: Request) -> Response:
            if not access.allows(request):
                return PlainTextResponse("the dashboard needs its password", 401, headers={
                    **HEADERS, "WWW-Authenticate": 'Basic realm="taxonomist dashboard", charset="UTF-8"'})
            if pool.full():
                return PlainTextResponse("the dashboard is busy: try again in a moment", 503,
                                         headers={**HEADERS, "Retry-After": "2"})
            now = clock()

            def render() -> str:
                context = build(request, now)
                return TEMPLATES.get_template(template).render(
                    {**context, "request": request, "now": now, "page": template})

            return HTMLResponse(await pool.run(render), headers=HEADERS)
        return handler

    def similar(request: Request, now: float) -> dict[str, Any]:
        groups = views.similar_groups(store.open_pulls(private=private))
        wanted = request.query_params.get("pr", "").lstrip("#")
        if wanted:  # the PRs that teach the same thing as this one
            groups = [g for g in groups if any(str(r.number) == wanted for r in g.prs)]
        return {"groups": [(g, [views.view(r, now) for r in g.prs]) for g in groups], "wanted": wanted[:20]}

    def queue(request: Request, now: float) -> dict[str, Any]:
        return {"counts": store.job_counts(private=private),
                "active": [public.public_job(j) for j in store.jobs(("queued", "running"), private=private)],
                "failed": [public.public_job(j) for j in store.jobs(("failed",), limit=50, private=private)],
                "retrying": [public.public_job(j) for j in store.jobs(("retrying",), limit=50, private=private)],
                "workers": [public.public_worker(w, None if private else store.public_repos())
                            for w in store.workers()], "alive_within": ALIVE_WITHIN,
                "deliveries": store.deliveries(private=private)}

    def builds(request: Request, now: float) -> dict[str, Any]:
        down = store.build_down_since()
        return {"builds": store.builds(), "down_since": down}

    return [
        Route("/", page("pulls.html", lambda r, now: pull_requests_page(store, r, now, private))),
        Route("/similar", page("similar.html", similar)),
        Route("/queue", page("queue.html", queue)),
        Route("/builds", page("builds.html", builds)),
    ]
