"""The write contract, declared once: every field of a write, its type and what it means.

Everything else that takes a write is derived from these two classes or checked
against them (``tests/lifecycle/entries/test_write_fields.py``):

- ``WriteRequest`` (``write_request``): its fields, in this order, with these types;
- the Python ``store`` / ``put``: ``key``, ``value``, ``namespace``, ``timestamp``
  positional, the rest as ``**options: Unpack[WriteOptions]`` (mypy checks each name
  and type);
- the MCP tool ``memory_store``'s input schema and each ``memory_store_batch`` entry
  (``server/mcp/write_arguments.py``): these names, the wire form of these types, these
  descriptions, plus claude-flow's aliases;
- the CLI's ``put`` flags, for the fields it exposes.

So a new field is added here (and to ``WriteRequest``, which a test holds to this), and
the tools, the batches, the Python API and the docs generated from the tool schemas all
show it.

Off the hook path: creating a ``TypedDict`` costs ~0.3 ms, so only the server, the
CLI's ``put`` and type checkers import this module (the engine names it under
``TYPE_CHECKING``). Its annotations are evaluated (no ``from __future__ import
annotations``) so that creating the class does not compile each one as a string.
"""

from collections.abc import Sequence
from typing import Annotated, Any, TypedDict, get_type_hints


class Doc:
    """A field's description, carried in its ``Annotated`` type (as PEP 727's ``Doc``)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Doc({self.text!r})"


class WriteOptions(TypedDict, total=False):
    """The keyword fields of a write: ``store(key, value, namespace, timestamp, **options)``."""

    ttl_seconds: Annotated[
        float | None,
        Doc("Overrides the policy's time to live for this entry; 0 = never expires."),
    ]
    agent_id: Annotated[
        str | None,
        Doc("Who writes (the actor in conflict resolution); defaults to the server's id."),
    ]
    op_id: Annotated[
        str | None,
        Doc("Idempotency id: a store with an op_id already applied is not applied again."),
    ]
    context: Annotated[
        str | None,
        Doc(
            "The context token from memory_retrieve (multi_value keys): replaces the "
            "siblings it names instead of adding one."
        ),
    ]
    tags: Annotated[
        Sequence[str] | None,
        Doc(
            "Up to 16 labels (1-64 characters each) for filtering memory_search and "
            "memory_list; replaces the entry's tags. Omit to keep them, [] to clear them."
        ),
    ]
    if_revision: Annotated[
        int | None,
        Doc(
            "Compare-and-set: apply only if the key's current revision is this one "
            "(from memory_retrieve); 0 = only if the key does not exist."
        ),
    ]
    lock: Annotated[
        str | None,
        Doc("A guarded write: apply only while this lock (memory_lock) is held with lock_token."),
    ]
    lock_token: Annotated[int | None, Doc("The token memory_lock returned for `lock`.")]
    provenance_type: Annotated[
        str | None,
        Doc(
            "Who or what produced the value (1-64 characters; claude-flow 3 uses "
            "user_claim, agent_output, system_observation, tool_result, unknown): kept with "
            "the entry like tags, filterable in memory_search. Omit to keep the entry's."
        ),
    ]


class _RequiredFields(TypedDict):
    """The fields every write has (a base class, as ``typing.Required`` is Python 3.11+)."""

    key: Annotated[
        str,
        Doc(
            "Entry key: 1-512 characters, '/'-separated segments such as "
            "'coordination/agent1/status'; no empty, '.' or '..' segment."
        ),
    ]
    value: Annotated[Any, Doc("Any JSON value (object, array, string, number, ...)")]


class WriteFields(_RequiredFields, WriteOptions, total=False):
    """Every field of a write: the positional ones (``store(key, value, namespace,
    timestamp)``) and the ``WriteOptions``."""

    namespace: Annotated[
        str | None, Doc("Prefix joined as '<namespace>/<key>' (not applied twice).")
    ]
    timestamp: Annotated[
        float | None, Doc("Epoch seconds of the write; defaults to the server's clock.")
    ]


class WriteField:
    """One declared field: its name, its type (without the description) and description."""

    __slots__ = ("description", "name", "required", "type")

    def __init__(self, name: str, type_: Any, description: str, required: bool) -> None:
        self.name = name
        self.type = type_
        self.description = description
        self.required = required

    def __repr__(self) -> str:
        return f"WriteField({self.name!r}, {self.type!r})"


POSITIONAL = ("key", "value", "namespace", "timestamp")
"""The fields ``store`` / ``put`` take by position, in this order (DESIGN.md)."""


def write_fields() -> dict[str, WriteField]:
    """Every field, in order: the positional ones, then the options as declared."""
    hints = get_type_hints(WriteFields, include_extras=True)
    names = [*POSITIONAL, *(n for n in WriteOptions.__annotations__ if n not in POSITIONAL)]
    out: dict[str, WriteField] = {}
    for name in names:
        annotated = hints[name]
        (doc,) = (m for m in annotated.__metadata__ if isinstance(m, Doc))
        required = name in WriteFields.__required_keys__
        out[name] = WriteField(name, annotated.__origin__, doc.text, required)
    return out


__all__ = ["POSITIONAL", "Doc", "WriteField", "WriteFields", "WriteOptions", "write_fields"]
