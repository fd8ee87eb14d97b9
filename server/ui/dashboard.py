"""The dashboard as an ASGI app: the page, its two assets and the JSON endpoints.

``build_dashboard`` makes the app that serves everything under ``/ui`` (it opens its
own manager in its lifespan and closes it at shutdown); ``standalone_app`` is what
``memory-lifecycle ui`` serves (``/`` redirects to ``/ui/``); ``mount_dashboard`` adds it
to the MCP server's HTTP app, its lifespan chained to the server's.

The page is static: the script fetches everything it shows, so the HTML carries no data
and a strict Content-Security-Policy (scripts, styles and requests from this server
only, no inline script) holds for every response.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from lifecycle import LifecycleError, MemoryLifecycleManager

from .api import Api, error_reply

DASHBOARD_PATH = "/ui"
ASSETS = {  # file name -> content type
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}

ManagerOpener = Callable[[], MemoryLifecycleManager]

log = logging.getLogger("memory_lifecycle.server")


def asset(name: str) -> bytes:
    """One of the page's files, read from the installed package (package data)."""
    return resources.files(__package__).joinpath("static").joinpath(name).read_bytes()


def _page(name: str) -> Callable[[Request], Any]:
    body, kind = asset(name), ASSETS[name]

    async def serve(request: Request) -> Response:
        return Response(body, media_type=None, headers={**SECURITY_HEADERS, "content-type": kind})

    return serve


async def _http_error(request: Request, exc: Exception) -> Response:
    """404 / 405 as JSON naming the path (the page's script shows ``error``)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    what = {404: "no such page", 405: f"{request.method} is not allowed on"}.get(status, "error on")
    body = {"error": f"{what} {request.url.path[:200]!r}"}
    return JSONResponse(body, status_code=status, headers=getattr(exc, "headers", None))


async def _engine_error(request: Request, exc: Exception) -> Response:
    return error_reply(exc)


def build_dashboard(open_manager: ManagerOpener) -> Starlette:
    """The dashboard app (mount it at ``DASHBOARD_PATH``)."""
    api = Api()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        manager = await anyio.to_thread.run_sync(open_manager)
        api.start(manager)
        try:
            yield
        finally:
            api.stop()
            manager.close()  # a long-poll still waiting in a thread wakes up and ends

    routes = [
        Route("/", _page("index.html")),
        Route("/static/app.js", _page("app.js")),
        Route("/static/style.css", _page("style.css")),
        Route("/api/stats", api.stats),
        Route("/api/expiries", api.expiries),
        Route("/api/locks", api.locks),
        Route("/api/entries", api.entries),
        Route("/api/entry", api.entry),
        Route("/api/entry", api.delete, methods=["DELETE"]),
        Route("/api/changes", api.changes),
        Route("/api/cleanup", api.cleanup, methods=["POST"]),
    ]
    dashboard = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={LifecycleError: _engine_error, HTTPException: _http_error},
    )
    dashboard.state.stop_waiting = api.stop  # what the server calls when a signal comes
    return dashboard


def standalone_app(open_manager: ManagerOpener) -> Starlette:
    """What ``memory-lifecycle ui`` serves: the dashboard at ``/ui``, ``/`` sent there."""
    dashboard = build_dashboard(open_manager)

    async def home(request: Request) -> Response:
        return RedirectResponse(DASHBOARD_PATH + "/", status_code=307)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with dashboard.router.lifespan_context(dashboard):
            yield

    app = Starlette(
        routes=[Route("/", home), Mount(DASHBOARD_PATH, app=dashboard)], lifespan=lifespan
    )
    app.state.stop_waiting = dashboard.state.stop_waiting
    return app


def mount_dashboard(app: Starlette, open_manager: ManagerOpener) -> Callable[[], None]:
    """Serve the dashboard at ``DASHBOARD_PATH`` of ``app`` (the MCP server's HTTP app),
    running its lifespan inside ``app``'s; returns what ends its long-polls at shutdown."""
    dashboard = build_dashboard(open_manager)
    app.router.routes.append(Mount(DASHBOARD_PATH, app=dashboard))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def both(parent: Any) -> AsyncIterator[Any]:
        async with outer(parent) as state, dashboard.router.lifespan_context(dashboard):
            yield state

    app.router.lifespan_context = both
    stop: Callable[[], None] = dashboard.state.stop_waiting
    return stop


__all__ = ["DASHBOARD_PATH", "asset", "build_dashboard", "mount_dashboard", "standalone_app"]
