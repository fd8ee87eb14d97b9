"""Engine errors become MCP error results, in this one place.

The SDK shows the client the message of a ``ToolError`` (or ``ResourceError``)
but hides the message of any other exception behind ``Error executing tool X``.
The engine's ``LifecycleError`` messages say what to fix, so they are re-raised
as the SDK's own errors with the same text; anything else (a real bug) is left
alone, so the SDK logs its traceback and hides its details. A resource URI that
names no valid key is the caller's mistake: "invalid params" (-32602), like a
missing entry, not an internal error (-32603).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from lifecycle import EntryNotFoundError, InvalidKeyError, LifecycleError

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def engine_errors(kind: str = "tool") -> Iterator[None]:
    """Re-raise a ``LifecycleError`` as the SDK error whose message reaches the client."""
    try:
        yield
    except LifecycleError as exc:
        if kind == "resource":
            if isinstance(exc, InvalidKeyError):  # the URI names no valid key: the caller's
                raise MCPError(INVALID_PARAMS, str(exc)) from exc
            not_found = isinstance(exc, EntryNotFoundError)
            raise (ResourceNotFoundError if not_found else ResourceError)(str(exc)) from exc
        raise ToolError(str(exc)) from exc


def tool_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a tool so engine errors come back as error results carrying their message."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with engine_errors("tool"):
            return fn(*args, **kwargs)

    return wrapper


def resource_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a resource reader: a missing entry is 'not found', other engine errors keep
    their message."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with engine_errors("resource"):
            return fn(*args, **kwargs)

    return wrapper
