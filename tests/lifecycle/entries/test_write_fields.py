"""The write contract is declared once (``lifecycle.entries.write_fields``): the engine's
``WriteRequest`` and the Python ``store`` / ``put`` must take exactly the declared fields.

(The MCP tools and the CLI are held to the same declaration in
``tests/server/mcp/test_write_arguments.py``.)"""

from __future__ import annotations

import inspect
import typing
from pathlib import Path
from typing import Any

import pytest
from typing_extensions import Unpack

from lifecycle import MemoryLifecycleManager
from lifecycle.entries.write_fields import POSITIONAL, WriteOptions, write_fields
from lifecycle.entries.write_request import WRITE_FIELDS, WriteRequest

DECLARED = write_fields()


def test_every_declared_field_has_a_type_and_a_sentence_of_description() -> None:
    assert list(DECLARED)[: len(POSITIONAL)] == list(POSITIONAL)
    assert [n for n, f in DECLARED.items() if f.required] == ["key", "value"]
    for field in DECLARED.values():
        assert field.type is not None
        assert len(field.description) > 20, field.name


# the names the engine's modules import only for type checkers (a hook imports no typing)
TYPE_ONLY = {"Any": Any}


def test_write_request_has_exactly_the_declared_fields_in_order_with_their_types() -> None:
    assert WriteRequest.field_names() == tuple(DECLARED)
    assert list(vars(WriteRequest("k", 1))) == list(DECLARED)
    assert list(vars(WriteRequest.from_mapping({"value": 1, "key": "k"}))) == list(DECLARED)
    assert frozenset(DECLARED) == WRITE_FIELDS
    hints = typing.get_type_hints(WriteRequest, localns=TYPE_ONLY)
    assert {n: hints[n] for n in DECLARED} == {n: f.type for n, f in DECLARED.items()}


def test_write_request_init_takes_the_declared_fields_with_the_declared_defaults() -> None:
    params = list(inspect.signature(WriteRequest).parameters.values())
    assert [p.name for p in params] == list(DECLARED)
    for p in params:
        required = DECLARED[p.name].required
        assert (p.default is p.empty) == required, p.name
        assert required or p.default is None, p.name
    hints = typing.get_type_hints(WriteRequest.__init__, localns=TYPE_ONLY)
    assert {n: hints[n] for n in DECLARED} == {n: f.type for n, f in DECLARED.items()}


@pytest.mark.parametrize("method", ["store", "put"])
def test_store_and_put_take_the_positional_fields_then_the_declared_options(method: str) -> None:
    fn = getattr(MemoryLifecycleManager, method)
    params = list(inspect.signature(fn).parameters.values())[1:]  # self
    assert [p.name for p in params[:-1]] == list(POSITIONAL)
    assert params[-1].kind is inspect.Parameter.VAR_KEYWORD
    # the names the module imports only for type checkers
    names = {**vars(inspect.getmodule(fn)), "Unpack": Unpack, "WriteOptions": WriteOptions}
    names.update(TYPE_ONLY)
    hints = typing.get_type_hints(fn, globalns=names)
    assert hints[params[-1].name] == Unpack[WriteOptions]
    assert {n: hints[n] for n in POSITIONAL} == {n: DECLARED[n].type for n in POSITIONAL}
    assert set(WriteOptions.__annotations__) == set(DECLARED) - set(POSITIONAL)


def test_store_takes_every_option_by_keyword_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    options: dict[str, Any] = {
        "ttl_seconds": 60.0,
        "agent_id": "agent-1",
        "op_id": "op-1",
        "tags": ["a"],
        "if_revision": 0,
        "provenance_type": "tool_result",
    }
    with MemoryLifecycleManager(tmp_path / "memory") as m:
        assert m.store("task/a", 1, "ns", None, **options)
        entry = m.retrieve_entry("ns/task/a")
        assert entry is not None and entry.tags == ("a",) and entry.actor.startswith("agent-1")
        assert entry.provenance_type == "tool_result"
        with pytest.raises(TypeError, match="ttl_second"):
            m.put("task/b", 1, ttl_second=5)  # type: ignore[call-arg]
        assert m.retrieve("task/b") is None
