"""The handler modules the service runs: each registers its routes on its own `Router`.

The one list of them, so the router imports no handler (they import the router) and a new concern
is added here, in one line.
"""

from __future__ import annotations

import importlib

from bot.service.router import Router

HANDLER_MODULES = ("bot.triage.handler", "bot.triage.index_handler", "bot.review.handler",
                   "bot.lifecycle.handler", "bot.precheck.handler", "bot.generate.handler")


def load_handlers(app_id: int | None = None) -> Router:
    """Import every handler module and join their routers; with `app_id`, other apps' check events make no job."""
    router = Router.join(*(importlib.import_module(module).router for module in HANDLER_MODULES))
    router.app_id = app_id
    return router
