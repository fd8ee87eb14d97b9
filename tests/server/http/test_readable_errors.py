"""Over real HTTP (``serve --transport http``), a body the SDK cannot read gets the same
one short line as over stdio: a batch is ``-32600``, not a 1.4 KB pydantic dump."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from server.jsonrpc_input import BATCH
from tests.support.server import free_port, http_server

pytestmark = pytest.mark.slow

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "tests", "version": "0"},
    },
}


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    with http_server(tmp_path_factory.mktemp("http") / "memory", port=port):
        yield f"http://127.0.0.1:{port}/mcp"


def post(url: str, body: bytes, **headers: str) -> httpx2.Response:
    return httpx2.post(url, content=body, headers={**HEADERS, **headers}, timeout=30)


def error_of(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    answer: dict[str, Any] = response.json()
    assert answer["jsonrpc"] == "2.0"
    return answer


@pytest.mark.parametrize("protocol", [None, "2025-06-18", "2026-07-28"])
def test_a_batch_gets_one_short_invalid_request(mcp_url: str, protocol: str | None) -> None:
    batch = json.dumps([INIT, {"jsonrpc": "2.0", "id": 2, "method": "ping"}]).encode()
    headers = {"mcp-protocol-version": protocol} if protocol else {}
    response = post(mcp_url, batch, **headers)
    answer = error_of(response)
    assert answer["id"] is None
    assert answer["error"] == {"code": -32600, "message": f"Invalid request: {BATCH}"}
    assert len(response.content) < 250
    assert int(response.headers["content-length"]) == len(response.content)


def test_json_that_is_not_a_message_is_an_invalid_request_with_its_id(mcp_url: str) -> None:
    answer = error_of(post(mcp_url, b'{"id": 7, "hello": 1}'))
    assert answer["id"] == 7
    assert answer["error"]["code"] == -32600
    assert answer["error"]["message"] == (
        "Invalid request: not a JSON-RPC 2.0 request, notification or response"
    )


def test_a_lone_surrogate_is_a_parse_error_that_says_so(mcp_url: str) -> None:
    body = json.dumps(INIT).replace('"0"}', '"\\ud800"}').encode()
    answer = error_of(post(mcp_url, body))
    assert answer["error"]["code"] == -32700
    assert answer["error"]["message"].startswith("Parse error: a lone surrogate (\\ud800)")


def test_readable_requests_and_other_refusals_pass_untouched(mcp_url: str) -> None:
    ok = post(mcp_url, json.dumps(INIT).encode())
    assert ok.status_code == 200 and ok.headers.get("mcp-session-id")
    unknown_session = post(
        mcp_url,
        json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping"}).encode(),
        **{"mcp-session-id": "no-such-session"},
    )
    assert unknown_session.status_code == 404  # the SDK's own answer, kept
