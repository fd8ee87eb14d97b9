"""The dashboard's JSON endpoints: each one engine call, run in a worker thread.

Every endpoint answers JSON, shaped like the matching MCP tool's result (an entry that
is not there is ``found: false``, a delete whose ``if_revision`` no longer matches is
``conflict: "revision"``: outcomes, not errors). A call that cannot work gets a status and
``{"error": message}`` with the engine's message, which names the parameter and the fix:
400 for bad input, 415 for a body that is not JSON, 410 for a change-feed cursor older
than the log keeps (with ``oldest``), 503 when the store cannot be reached. A rejected
call changes nothing: every check runs before the engine writes.

Actions change the memory only through the methods any caller uses (``delete_entry``,
``cleanup``). They are not plain GETs and cleanup takes a JSON body, so a page on another
site cannot trigger them with a link or a form; the Host/Origin check in front refuses
cross-site requests that try anyway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse

from lifecycle import (
    CompactedError,
    InvalidValueError,
    LifecycleError,
    MemoryLifecycleManager,
    StoreError,
)
from lifecycle.errors import clip

from .natural_order import list_page
from .params import Params
from .policy_table import stats_with_policies

MAX_WAIT_SECONDS = 30.0  # a long-poll's bound (the engine's, too)
WAIT_SLICE_SECONDS = 5.0  # between slices a long-poll notices a client that went away
CHANGES_PAGE = 500
DEFAULT_PAGE = 50
MAX_BODY_BYTES = 4096

NO_STORE = {"cache-control": "no-store"}


class Api:
    """The endpoints over one manager (opened by the dashboard's lifespan)."""

    def __init__(self) -> None:
        self.manager: MemoryLifecycleManager | None = None
        self._stopping: anyio.Event | None = None

    def start(self, manager: MemoryLifecycleManager) -> None:
        """Serve ``manager`` (the lifespan calls this in the event loop)."""
        self.manager = manager
        self._stopping = anyio.Event()

    def stop(self) -> None:
        """The server is shutting down: open long-polls answer at once (nothing new), so
        they end within uvicorn's grace period instead of being cancelled mid-request."""
        if self._stopping is not None:
            self._stopping.set()

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), abandon_on_cancel=True)

    @property
    def _m(self) -> MemoryLifecycleManager:
        assert self.manager is not None, "the dashboard's lifespan did not run"
        return self.manager

    # ------------------------------------------------------------ reads

    async def stats(self, request: Request) -> JSONResponse:
        Params(request.query_params, ())
        result = await self._call(stats_with_policies, self._m)
        return reply({**result, "now": self._m.clock.now()})

    async def expiries(self, request: Request) -> JSONResponse:
        p = Params(request.query_params, ("horizon_seconds", "buckets"))
        horizon = p.number("horizon_seconds", 86400.0)
        buckets = p.whole("buckets", 24)
        return reply(await self._call(self._m.upcoming_expiries, horizon, buckets))

    async def locks(self, request: Request) -> JSONResponse:
        Params(request.query_params, ())
        held = await self._call(self._m.list_locks)
        return reply({"locks": held, "now": self._m.clock.now()})

    async def entries(self, request: Request) -> JSONResponse:
        """A page of entries: ``q`` searches (best match first, ``order: "rank"``;
        ``search_mode`` keyword, semantic or hybrid, default: hybrid when a model is
        available), else the list in natural key order (``natural_order``); both under
        ``prefix``, carrying every ``tag``."""
        names = ("q", "prefix", "tag", "limit", "cursor", "search_mode")
        p = Params(request.query_params, names)
        query, prefix, tags = p.text("q").strip(), p.text("prefix"), p.texts("tag") or None
        limit, cursor = p.whole("limit", DEFAULT_PAGE), p.text("cursor") or None
        search_mode = p.text("search_mode") or None
        extra: dict[str, object] = {}
        if query:
            found = await self._call(
                partial(self._m.search, mode=search_mode), query, prefix, tags, limit, cursor
            )
            rows, order = found["results"], "rank"
            extra = {"search_mode": found["mode"], "pending": found["pending"]}
        else:
            assert limit is not None
            found = await self._call(list_page, self._m, prefix, tags, limit, cursor)
            rows, order = found["entries"], found["order"]
        mode = "search" if query else "list"
        return reply(
            {
                "mode": mode,
                "order": order,
                "entries": rows,
                "next_cursor": found["next_cursor"],
                "now": self._m.clock.now(),
            }
            | extra
        )

    async def entry(self, request: Request) -> JSONResponse:
        """One entry as ``memory_retrieve`` shows it: ``found`` false when it is absent,
        deleted or expired (not an error: it may have gone since the list was drawn)."""
        p = Params(request.query_params, ("key",))
        key = _required(p, "key")
        found = await self._call(self._m.retrieve_entry, key)
        now = self._m.clock.now()
        if found is None:
            return reply({"found": False, "key": key, "now": now})
        return reply({"found": True, **found.to_dict(), "now": now})

    async def changes(self, request: Request) -> JSONResponse:
        """The change feed as a long-poll: waits up to ``wait_seconds`` (at most 30) for a
        change, in slices so a client that went away frees its thread soon."""
        p = Params(request.query_params, ("since", "prefix", "wait_seconds"))
        since, prefix = p.whole("since", None), p.text("prefix")
        wait = p.number("wait_seconds", 0.0)
        if not 0 <= wait <= MAX_WAIT_SECONDS:
            raise InvalidValueError(f"invalid wait_seconds {clip(wait)}: use 0 to 30 seconds")
        deadline = time.monotonic() + wait
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            step = min(remaining, WAIT_SLICE_SECONDS)
            page = await self._unless_stopping(self._m.changes, prefix, since, CHANGES_PAGE, step)
            if page is None:  # shutting down: nothing new, come back later
                return reply({"changes": [], "next": since})
            if page["changes"] or remaining <= step or await request.is_disconnected():
                return reply(page)
            since = page["next"]

    async def _unless_stopping(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker thread, or None as soon as the server stops (the
        thread is left to finish: closing the store wakes it)."""
        result: Any = None
        failed: Exception | None = None
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                nonlocal result, failed
                try:
                    result = await self._call(fn, *args)
                except Exception as exc:  # raised below, as itself (not in a group)
                    failed = exc
                tg.cancel_scope.cancel()

            async def stopped() -> None:
                if self._stopping is not None:
                    await self._stopping.wait()
                    tg.cancel_scope.cancel()

            tg.start_soon(call)
            tg.start_soon(stopped)
        if failed is not None:
            raise failed
        return result

    # ------------------------------------------------------------ actions

    async def delete(self, request: Request) -> JSONResponse:
        """Delete one entry, as ``memory_delete`` does: ``deleted`` false when there was
        nothing live; with ``if_revision`` only if it is still the one shown (else
        ``conflict: "revision"`` and the current ``revision``, nothing deleted)."""
        p = Params(request.query_params, ("key", "if_revision"))
        key = _required(p, "key")
        revision = p.whole("if_revision", None)
        done = await self._call(self._m.delete_entry, key, if_revision=revision)
        return reply(done.to_dict())

    async def cleanup(self, request: Request) -> JSONResponse:
        """Collect expired entries; ``{"force": true}`` includes manual-strategy ones."""
        Params(request.query_params, ())
        body = await _json_object(request, ("force",))
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise InvalidValueError(f"invalid force {clip(force)}: use true or false")
        return reply(await self._call(self._m.cleanup, force))


def _required(p: Params, name: str) -> str:
    value = p.text(name)
    if not value:
        raise InvalidValueError(f"parameter '{name}' is required")
    return value


async def _json_object(request: Request, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise _NotJson(f"send the body as JSON (Content-Type: application/json), not {kind!r}")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidValueError(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES}")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidValueError(
            f"the body is not JSON ({exc.__class__.__name__}); send an object"
        ) from exc
    if not isinstance(body, dict):
        raise InvalidValueError(
            f'the body must be a JSON object such as {{"force": false}}, not {clip(body, 40)}'
        )
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidValueError(
            f"unknown field {clip(unknown[0], 40)}; the body takes {', '.join(allowed)}"
        )
    return body


class _NotJson(InvalidValueError):
    """A body sent as something other than JSON (415)."""


def reply(body: Mapping[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(dict(body), status_code=status, headers=NO_STORE)


def error_reply(exc: Exception) -> JSONResponse:
    """The status and ``{"error": ...}`` of an engine error (see the module docstring)."""
    body: dict[str, Any] = {"error": " ".join(str(exc).split())}
    if isinstance(exc, CompactedError):
        body["oldest"] = exc.oldest
        return reply(body, 410)
    if isinstance(exc, _NotJson):
        return reply(body, 415)
    if isinstance(exc, StoreError):
        return reply(body, 503)
    return reply(body, 400 if isinstance(exc, (ValueError, LifecycleError)) else 500)
