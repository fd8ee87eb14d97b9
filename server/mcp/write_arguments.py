"""A write's tool arguments, derived from the engine's one declaration of the write fields.

``lifecycle.entries.write_fields`` declares each field, its type and its description;
here each becomes a tool parameter of the same name and description, its type in wire
form (a number never a boolean, a numeric string accepted: ``server.mcp.models``), plus
claude-flow's names for some of them (``ttl``, ``upsert``). ``memory_store``'s signature
and each ``memory_store_batch`` entry are built from ``WRITE_PARAMETERS``, so a field
added to the declaration shows in both schemas, and in the tool reference generated
from them, with nothing to add here (``tests/server/mcp/test_write_arguments.py``).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field, create_model

from lifecycle.entries.write_fields import write_fields
from lifecycle.entries.write_request import WriteRequest

from .models import Count, Flag, Seconds, StoreOutput

DECLARED = write_fields()
DESCRIPTIONS: dict[str, str] = {name: f.description for name, f in DECLARED.items()}
"""Each write field's description, for the other tools that take one (memory_delete's
preconditions, the key and namespace of every tool)."""

# claude-flow's argument names and the write field each stands for (``upsert`` is
# claude-flow's too: false is ``if_revision: 0``)
CLAUDE_FLOW_ALIASES = {"ttl": "ttl_seconds"}
CLAUDE_FLOW_FLAGS = ("upsert",)
_CLAUDE_FLOW: dict[str, tuple[Any, str]] = {
    "ttl": (Seconds | None, "claude-flow's name for ttl_seconds (same meaning)."),
    "upsert": (
        Flag | None,
        "claude-flow's: false = create only (the same as if_revision 0); "
        "true or omitted = create or replace.",
    ),
}


def wire_type(declared: Any) -> Any:
    """The tool parameter type of a declared engine type: ``float`` as ``Seconds``,
    ``int`` as ``Count``, a ``Sequence`` as a ``list`` (JSON arrays), inside ``| None``."""
    if isinstance(declared, type(int | None)):  # a union: map each member
        members = tuple(wire_type(m) for m in typing.get_args(declared))
        return typing.Union[members]  # noqa: UP007 (a runtime tuple of members)
    if declared is float:
        return Seconds
    if declared is int:
        return Count
    if typing.get_origin(declared) is Sequence:
        (item,) = typing.get_args(declared)
        return list[item]  # type: ignore[valid-type]
    return declared


def _parameters() -> dict[str, tuple[Any, Any]]:
    """Name -> (annotated wire type, default): the write fields in declared order, each
    claude-flow alias after the field it stands for, ``upsert`` last."""
    out: dict[str, tuple[Any, Any]] = {}
    for name, field in DECLARED.items():
        default = inspect.Parameter.empty if field.required else None
        out[name] = (described(wire_type(field.type), field.description), default)
        for alias, target in CLAUDE_FLOW_ALIASES.items():
            if target == name:
                out[alias] = _claude_flow(alias)
    for flag in CLAUDE_FLOW_FLAGS:
        out[flag] = _claude_flow(flag)
    return out


def _claude_flow(name: str) -> tuple[Any, Any]:
    return described(*_CLAUDE_FLOW[name]), None


def described(type_: Any, description: str) -> Any:
    """``type_`` carrying ``description`` for the schema (pydantic's ``Field``)."""
    annotated: Any = Annotated[(type_, Field(description=description))]
    return annotated


WRITE_PARAMETERS = _parameters()
"""memory_store's parameters (``ctx`` aside) and a batch entry's fields."""


def store_signature(ctx_annotation: Any, return_annotation: Any) -> inspect.Signature:
    """``memory_store``'s signature: the write parameters, then its ``ctx``. The SDK derives
    the tool's input schema from ``inspect.signature``, which reads ``__signature__``."""
    kind = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter(name, kind, annotation=annotated, default=default)
        for name, (annotated, default) in WRITE_PARAMETERS.items()
    ]
    params.append(inspect.Parameter("ctx", kind, annotation=ctx_annotation))
    return inspect.Signature(params, return_annotation=return_annotation)


STORE_SIGNATURE = store_signature(Context, StoreOutput)

F = typing.TypeVar("F", bound=typing.Callable[..., Any])


def takes_write_arguments(tool: F) -> F:
    """Give ``tool`` (``def tool(ctx, **arguments)``) ``memory_store``'s signature, so the
    SDK builds its input schema from the declared write fields."""
    object.__setattr__(tool, "__signature__", STORE_SIGNATURE)
    return tool


def _batch_entry() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (annotated, ... if default is inspect.Parameter.empty else default)
        for name, (annotated, default) in WRITE_PARAMETERS.items()
    }
    return create_model(
        "BatchEntry",
        __config__=ConfigDict(extra="forbid"),
        __doc__="One write of a batch: memory_store's input.",
        **fields,
    )


if TYPE_CHECKING:
    BatchEntry = BaseModel
else:
    BatchEntry = _batch_entry()


def write_request(arguments: dict[str, Any]) -> WriteRequest:
    """The engine's write request from validated tool arguments (aliases resolved)."""
    fields = {k: v for k, v in arguments.items() if k in DECLARED}
    for alias, name in CLAUDE_FLOW_ALIASES.items():
        given = arguments.get(alias)
        if given is None:
            continue
        if fields.get(name) is not None and fields[name] != given:
            raise ToolError(f"{alias} ({given}) and {name} ({fields[name]}) differ; pass one")
        fields[name] = given
    if arguments.get("upsert") is False:  # create only
        if fields.get("if_revision") not in (None, 0):
            raise ToolError("upsert=false means create only (if_revision 0); drop one of them")
        fields["if_revision"] = 0
    return WriteRequest(**fields)


__all__ = [
    "CLAUDE_FLOW_ALIASES",
    "CLAUDE_FLOW_FLAGS",
    "DESCRIPTIONS",
    "STORE_SIGNATURE",
    "WRITE_PARAMETERS",
    "BatchEntry",
    "takes_write_arguments",
    "write_request",
]
