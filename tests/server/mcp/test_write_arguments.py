"""The write contract, seen from the server: ``memory_store``'s schema, each
``memory_store_batch`` entry and the CLI's ``put`` flags take exactly the fields
declared in ``lifecycle.entries.write_fields`` (plus claude-flow's aliases), with the
declared descriptions, so a field added in one place only fails here.

(``WriteRequest`` and the Python ``store`` / ``put`` are held to the same declaration in
``tests/lifecycle/entries/test_write_fields.py``.)"""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from lifecycle.entries.write_fields import write_fields
from server.commands.entries import PUT_FLAGS, register
from server.commands.parser import CommandParser
from server.mcp.tools import build_tools
from server.mcp.write_arguments import (
    CLAUDE_FLOW_ALIASES,
    CLAUDE_FLOW_FLAGS,
    BatchEntry,
    wire_type,
    write_request,
)

DECLARED = write_fields()
CLAUDE_FLOW = [*CLAUDE_FLOW_ALIASES, *CLAUDE_FLOW_FLAGS]


def tool_schema(name: str) -> dict[str, Any]:
    (tool,) = (t for t in build_tools() if t.name == name)
    return tool.parameters


def batch_entry_schema() -> dict[str, Any]:
    schema = tool_schema("memory_store_batch")
    ref = schema["properties"]["entries"]["items"]["$ref"].rsplit("/", 1)[1]
    entry: dict[str, Any] = schema["$defs"][ref]
    return entry


@pytest.mark.parametrize("schema", [tool_schema("memory_store"), batch_entry_schema()])
def test_the_store_schemas_list_exactly_the_declared_fields_with_their_descriptions(
    schema: dict[str, Any],
) -> None:
    properties = schema["properties"]
    assert set(properties) == {*DECLARED, *CLAUDE_FLOW}
    assert schema["required"] == [n for n, f in DECLARED.items() if f.required]
    for name, field in DECLARED.items():
        assert properties[name]["description"] == field.description, name
    for alias in CLAUDE_FLOW:
        assert properties[alias]["description"].startswith("claude-flow"), alias
    assert schema["additionalProperties"] is False


def test_batch_entries_and_memory_store_take_the_same_arguments_with_the_same_types() -> None:
    store = tool_schema("memory_store")["properties"]
    entry = batch_entry_schema()["properties"]
    assert store == entry
    assert set(BatchEntry.model_fields) == {*DECLARED, *CLAUDE_FLOW}


def test_each_tool_type_is_the_wire_form_of_the_declared_type() -> None:
    store = tool_schema("memory_store")["properties"]
    assert {"type": "number"} in store["ttl_seconds"]["anyOf"]
    assert {"type": "integer"} in store["if_revision"]["anyOf"]
    assert {"items": {"type": "string"}, "type": "array"} in store["tags"]["anyOf"]
    assert store["key"]["type"] == "string"
    for name, field in DECLARED.items():  # every declared type has a wire form
        assert wire_type(field.type) is not None, name


def test_aliases_become_the_fields_they_stand_for() -> None:
    request = write_request({"key": "k", "value": 1, "ttl": 5.0, "upsert": False})
    assert (request.ttl_seconds, request.if_revision) == (5.0, 0)


def put_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="memory-lifecycle")
    register(parser.add_subparsers())
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    put: argparse.ArgumentParser = action.choices["put"]
    return put


def test_the_put_flags_are_declared_write_fields_with_their_types_and_descriptions() -> None:
    flags = {a.dest: a for a in put_parser()._actions if a.option_strings and a.dest in DECLARED}
    assert set(flags) == set(PUT_FLAGS) and set(PUT_FLAGS) <= set(DECLARED)
    for name, action in flags.items():
        assert action.help is not None
        assert action.help.startswith(DECLARED[name].description), name
    assert flags["ttl_seconds"].type is float
    assert flags["tags"].type is str and isinstance(flags["tags"], argparse._AppendAction)
