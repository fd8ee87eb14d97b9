"""The words for a message the server cannot read (shared by stdio and HTTP): one short
line, and a lone surrogate or a batch said plainly."""

from __future__ import annotations

import mcp_types as types

from server.jsonrpc_input import BATCH, read_message


def answer(raw: bytes) -> types.JSONRPCError:
    read = read_message(raw)
    assert isinstance(read, types.JSONRPCError), read
    return read


def test_a_batch_is_one_short_invalid_request() -> None:
    error = answer(b' [{"jsonrpc": "2.0", "id": 1, "method": "ping"}, 5]')
    assert error.id is None
    assert error.error.code == types.INVALID_REQUEST
    assert error.error.message == f"Invalid request: {BATCH}"


def test_a_lone_surrogate_is_named_with_where_it_is() -> None:
    error = answer(b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"q": "\\ud800"}}')
    assert error.error.code == types.PARSE_ERROR
    message = error.error.message
    assert message.startswith("Parse error: a lone surrogate (\\ud800) at line 1 column ")
    assert "valid Unicode" in message and "hex escape" not in message


def test_a_lone_low_surrogate_is_named_too() -> None:
    error = answer(b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"q": "a\\udc80"}}')
    assert "a lone surrogate (\\udc80)" in error.error.message


def test_a_broken_escape_keeps_the_parsers_reason() -> None:
    error = answer(b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"q": "\\u12"}}')
    assert error.error.code == types.PARSE_ERROR
    assert "surrogate" not in error.error.message


def test_a_valid_message_and_a_blank_line_are_not_errors() -> None:
    assert isinstance(
        read_message(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}'), types.JSONRPCRequest
    )
    assert read_message(b"  \n") is None
