"""Engine errors become MCP error results, in this one place.

The SDK shows the client the message of a ``ToolError`` (or ``ResourceError``)
but hides the message of any other exception behind ``Error executing tool X``.
The engine's ``LifecycleError`` messages say what to fix, so they are re-raised
as the SDK's own errors with the same text; anything else (a real bug) is left
alone, so the SDK logs its traceback and hides its details. An argument a tool
does not declare becomes an ``UnknownArgumentError``: the SDK shows a schema
failure's text, and ours is one sentence naming the closest valid argument.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from lifecycle import EntryNotFoundError, LifecycleError

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def engine_errors(kind: str = "tool") -> Iterator[None]:
    """Re-raise a ``LifecycleError`` as the SDK error whose message reaches the client."""
    try:
        yield
    except LifecycleError as exc:
        if kind == "resource":
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


class UnknownArgumentError(ValidationError):
    """A pydantic ``ValidationError`` (what the SDK reports as a schema failure) whose text
    is one sentence naming the closest valid argument."""

    def __str__(self) -> str:
        return str(self.errors()[0]["msg"])

    @classmethod
    def build(cls, tool: str, given: str, allowed: list[str]) -> UnknownArgumentError:
        close = difflib.get_close_matches(given, allowed, n=1, cutoff=0.6)
        shown = given if len(given) <= 60 else given[:57] + "..."
        hint = f"did you mean '{close[0]}'?" if close else f"{tool} takes {', '.join(allowed)}"
        error = PydanticCustomError(
            "unknown_argument", "unknown argument '{name}'; {hint}", {"name": shown, "hint": hint}
        )
        return cls.from_exception_data(
            tool, [InitErrorDetails(type=error, loc=(shown,), input=None)]
        )
