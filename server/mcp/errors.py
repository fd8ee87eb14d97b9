"""Engine errors become MCP error results, in this one place.

The SDK shows the client the message of a ``ToolError`` (or ``ResourceError``)
but hides the message of any other exception behind ``Error executing tool X``.
The engine's ``LifecycleError`` messages say what to fix, so they are re-raised
as the SDK's own errors with the same text; anything else (a real bug) is left
alone, so the SDK logs its traceback and hides its details. An argument a tool
does not declare becomes an ``UnknownArgumentError``: the SDK shows a schema
failure's text, and ours is one sentence naming the closest valid argument; other
schema failures are one bounded line (``ArgumentsError``). A resource URI that
names no valid key is the caller's mistake: "invalid params" (-32602), like a
missing entry, not an internal error (-32603). A tool name the server does not serve
is an error result naming the tools (``tool_name_check``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from lifecycle import EntryNotFoundError, InvalidKeyError, LifecycleError
from lifecycle.errors import clip, clip_text

P = ParamSpec("P")
R = TypeVar("R")
MAX_PROBLEMS_SHOWN = 5


class ArgumentsError(ValidationError):
    """Arguments that fail a tool's input schema, shown as one bounded line.

    The SDK reports a ``ValidationError`` as ``Error executing tool X: {error}``; pydantic's
    own text runs to several lines per problem, and a batch of 1,000 bad entries made
    it hundreds of kilobytes. This subclass keeps the SDK's handling and says it briefly.
    """

    def __str__(self) -> str:
        problems = self.errors(include_url=False)
        shown = [_problem(p) for p in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"and {len(problems) - MAX_PROBLEMS_SHOWN} more")
        return "invalid arguments: " + "; ".join(shown)

    @classmethod
    def from_validation(cls, exc: ValidationError) -> ValidationError:
        try:
            return cls.from_exception_data(exc.title, exc.errors(include_url=False))  # type: ignore[arg-type]
        except (TypeError, ValueError, KeyError):  # an error type it cannot rebuild
            return exc


def _problem(problem: Any) -> str:
    where = ".".join(clip_text(str(part), 60) for part in problem["loc"]) or "arguments"
    return f"{where}: {clip_text(str(problem['msg']), 160)}"


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
    """Decorate a tool so engine errors come back as error results carrying their message.
    (``engine_errors("tool")`` spelt out: a generator context manager per call is a few
    microseconds of every tool call.)"""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except LifecycleError as exc:
            raise ToolError(str(exc)) from exc

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


def tool_name_check(names: Callable[[], Iterable[str]]) -> Callable[[str], None]:
    """A check for ``sdk.check_tool_calls``: a name this server does not serve is an error
    result naming the closest tool and listing them all (the SDK says "Unknown tool: X").
    ``names()`` is asked at the first check (the tools are built on first use)."""
    served: frozenset[str] | None = None

    def check(name: str) -> None:
        nonlocal served
        if served is None:
            served = frozenset(names())
        if name in served:
            return
        known = sorted(served)
        close = difflib.get_close_matches(name[:100], known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ToolError(f"unknown tool {clip(name, 60)}; {hint}the tools are: {', '.join(known)}")

    return check
