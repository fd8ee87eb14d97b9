"""Adding to a user's JSON file changes only the lines added (server.clients.json_text)."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.errors import ConfigurationError
from server.clients import json_text
from server.clients.json_text import COMMENTS, JSONC, STRICT

SERVER = {"type": "stdio", "command": "memory-lifecycle", "args": ["serve"], "env": {}}


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines of a line diff."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def test_a_hand_formatted_file_gets_only_added_lines_laid_out_like_its_neighbours():
    before = (
        "{\n"
        '  "mcpServers": {\n'
        '    "github": {"command": "gh-mcp", "args": ["--ro"], "env": {"T": "${T}"}},\n'
        '    "files": {"command": "fs-mcp", "args": ["."]}\n'
        "  },\n"
        '  "note": "kept"\n'
        "}\n"
    )

    after = json_text.insert(before, ("mcpServers",), "memory-lifecycle", SERVER, STRICT)

    removed, added = changed_lines(before, after)
    assert removed == []
    assert added == [
        '    "memory-lifecycle": {"type": "stdio", "command": "memory-lifecycle", '
        '"args": ["serve"], "env": {}},'
    ]
    assert json.loads(after)["mcpServers"]["memory-lifecycle"] == SERVER


def test_an_expanded_file_gets_an_expanded_member_in_its_own_indent():
    before = json.dumps({"mcpServers": {"github": {"command": "gh"}}}, indent=4) + "\n"

    after = json_text.insert(before, ("mcpServers",), "memory-lifecycle", SERVER, STRICT)

    removed, added = changed_lines(before, after)
    assert removed == []
    assert added == [
        '        "memory-lifecycle": {',
        '            "type": "stdio",',
        '            "command": "memory-lifecycle",',
        '            "args": ["serve"],',
        '            "env": {}',
        "        },",
    ]


def test_a_file_on_one_line_stays_on_one_line():
    before = '{"mcpServers":{"github":{"command":"gh"}},"note":1}'

    after = json_text.insert(before, ("mcpServers",), "m", {"command": "x"}, STRICT)

    assert after == '{"mcpServers":{"m":{"command":"x"},"github":{"command":"gh"}},"note":1}'


@pytest.mark.parametrize(
    ("before", "at", "expected"),
    [
        ('{\n  "a": {}\n}\n', ("a",), '{\n  "a": {\n    "k": [1, 2]\n  }\n}\n'),
        ("{}", (), '{"k": [1, 2]}'),
        ('{\n  "a": 1\n}\n', (), '{\n  "k": [1, 2],\n  "a": 1\n}\n'),
        (
            '{\r\n\t"a": {\r\n\t\t"b": {"c": 1}\r\n\t}\r\n}\r\n',
            ("a",),
            '{\r\n\t"a": {\r\n\t\t"k": [1, 2],\r\n\t\t"b": {"c": 1}\r\n\t}\r\n}\r\n',
        ),
    ],
    ids=["empty-object", "empty-file-object", "scalar-neighbours", "tabs-and-crlf"],
)
def test_indents_newlines_and_empty_objects(before: str, at: tuple[str, ...], expected: str):
    assert json_text.insert(before, at, "k", [1, 2], STRICT) == expected


def test_comments_and_trailing_commas_stay_where_the_client_allows_them():
    before = (
        "{\n"
        "  // servers for this repository\n"
        '  "servers": {\n'
        '    "github": {"type": "stdio", "command": "gh"}, // read-only\n'
        "  },\n"
        '  "inputs": [],\n'
        "}\n"
    )

    after = json_text.insert(before, ("servers",), "memory-lifecycle", SERVER, JSONC)

    removed, added = changed_lines(before, after)
    assert removed == [] and len(added) == 1
    assert json_text.parse(after, Path("mcp.json"), JSONC)["servers"]["memory-lifecycle"] == SERVER


@pytest.mark.parametrize(
    ("dialect", "text", "problem"),
    [
        (STRICT, '{"a": 1 // note\n}', "invalid JSON at line 1 column 9"),
        (COMMENTS, '{"a": 1,}', "invalid JSON at line 1 column 9"),
        (STRICT, '{"a": [1,]}', "invalid JSON at line 1 column 10"),
    ],
)
def test_what_the_client_would_refuse_is_refused_naming_the_place(dialect, text, problem):
    with pytest.raises(ConfigurationError) as err:
        json_text.parse(text, Path("x.json"), dialect)
    assert problem in str(err.value) and "nothing was changed" in str(err.value)


def test_a_comment_that_looks_like_json_inside_a_string_is_data():
    text = '{"url": "http://x//y", "s": "/* no */", "n": 1}'
    assert json_text.parse(text, Path("x.json"), JSONC) == {
        "url": "http://x//y",
        "s": "/* no */",
        "n": 1,
    }


def test_a_new_file_is_two_space_json_with_short_lists_on_one_line():
    text = json_text.new_file({"mcpServers": {"m": SERVER}})
    assert text.splitlines()[4] == '      "command": "memory-lifecycle",'
    assert '"args": ["serve"]' in text and '"env": {}' in text
    assert json.loads(text) == {"mcpServers": {"m": SERVER}}


# Any JSON object, written in any of the usual styles: an insertion keeps every line.
_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
_styles = st.sampled_from([2, 4, "\t", None])


@settings(max_examples=150, deadline=None)
@given(
    doc=st.dictionaries(st.text(max_size=5), _values, max_size=4),
    servers=st.dictionaries(
        st.text(max_size=5), st.dictionaries(st.text(max_size=4), _values, max_size=2), max_size=3
    ),
    indent=_styles,
)
def test_any_file_keeps_its_lines_and_gains_exactly_the_member(
    doc: dict[str, Any], servers: dict[str, Any], indent: int | str | None
):
    doc = {k: v for k, v in doc.items() if k != "mcpServers"}
    doc["mcpServers"] = {k: v for k, v in servers.items() if k != "memory-lifecycle"}
    before = json.dumps(doc, indent=indent) + "\n"

    after = json_text.insert(before, ("mcpServers",), "memory-lifecycle", SERVER, STRICT)

    expected = json.loads(before)
    expected["mcpServers"]["memory-lifecycle"] = SERVER
    assert json.loads(after) == expected
    removed, _ = changed_lines(before, after)
    if indent is not None and doc["mcpServers"]:
        assert removed == []  # an object with members: lines only added
