"""Streamable HTTP: loopback by default, a bearer token for anything else, 401 without it.
Each test runs a real ``serve --transport http`` subprocess on a free localhost port."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from pathlib import Path

import anyio
import anyio.to_thread
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.env import child_env
from tests.support.server import (
    EXIT_TIMEOUT,
    STOPPED_MESSAGE,
    bounded,
    free_port,
    http_server,
    server_command,
    structured,
    timed_exit,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOKEN = "s3cret-token-for-tests"
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
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}/mcp"


async def test_loopback_http_needs_no_token(tmp_path: Path) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", port=port), bounded():
        async with Client(url(port)) as client:
            stored = structured(
                await client.call_tool("memory_store", {"key": "coordination/h", "value": 1})
            )
            got = structured(await client.call_tool("memory_retrieve", {"key": "coordination/h"}))
    assert stored["stored"] is True
    assert got["value"] == 1


def test_a_non_loopback_bind_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    command = server_command(tmp_path / "memory", "--transport", "http", "--host", "0.0.0.0")
    done = subprocess.run(
        [*command, "--port", str(free_port())],
        capture_output=True,
        env=child_env(),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 1
    assert "refusing to serve HTTP on 0.0.0.0 without authentication" in stderr
    assert "--auth-token-file" in stderr and "MEMORY_LIFECYCLE_AUTH_TOKEN" in stderr
    assert "Traceback" not in stderr


async def test_with_a_token_file_requests_need_the_bearer_token(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    with http_server(
        tmp_path / "memory", "--host", "0.0.0.0", "--auth-token-file", str(token_file), port=port
    ):
        async with httpx2.AsyncClient(timeout=30) as http:
            missing = await http.post(url(port), json=INIT, headers=HEADERS)
            wrong = await http.post(
                url(port), json=INIT, headers={**HEADERS, "Authorization": "Bearer nope"}
            )
            right = await http.post(
                url(port), json=INIT, headers={**HEADERS, "Authorization": f"Bearer {TOKEN}"}
            )
        authed = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        with bounded():
            async with authed, Client(streamable_http_client(url(port), http_client=authed)) as c:
                stats = structured(await c.call_tool("memory_stats", {}))
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in missing.json()["error_description"]
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert stats["total_entries"] == 0


async def test_the_token_can_come_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", port=port, MEMORY_LIFECYCLE_AUTH_TOKEN=TOKEN):
        async with httpx2.AsyncClient(timeout=30) as http:
            missing = await http.post(url(port), json=INIT, headers=HEADERS)
            right = await http.post(
                url(port), json=INIT, headers={**HEADERS, "Authorization": f"Bearer {TOKEN}"}
            )
    assert missing.status_code == 401
    assert right.status_code == 200


def test_an_empty_token_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("\n")
    command = server_command(tmp_path / "memory", "--transport", "http")
    done = subprocess.run(
        [*command, "--auth-token-file", str(token_file), "--port", str(free_port())],
        capture_output=True,
        env=child_env(),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert f"the auth token file {token_file} is empty" in done.stderr.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_http_server_exits_cleanly_on_a_signal(tmp_path: Path, signum: int) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", port=port) as proc:
        with bounded():
            async with Client(url(port)) as client:
                await client.call_tool("memory_stats", {})
        code, seconds = timed_exit(proc, lambda: proc.send_signal(signum))
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    assert code == 0, stderr
    assert seconds < EXIT_TIMEOUT, stderr
    assert STOPPED_MESSAGE in stderr


async def test_the_dashboard_is_served_at_ui_beside_mcp(tmp_path: Path) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", port=port):
        with bounded():
            async with Client(url(port)) as client:
                await client.call_tool("memory_store", {"key": "knowledge/x", "value": 1})
        async with httpx2.AsyncClient(timeout=30) as http:
            page = await http.get(f"http://127.0.0.1:{port}/ui/")
            entries = await http.get(f"http://127.0.0.1:{port}/ui/api/entries")
    assert page.status_code == 200 and "<title>memory-lifecycle</title>" in page.text
    assert [e["key"] for e in entries.json()["entries"]] == ["knowledge/x"]


async def test_with_a_token_the_dashboard_needs_it_and_its_cookie_does_not_open_mcp(
    tmp_path: Path,
) -> None:
    from server.http.auth import COOKIE, cookie_value

    port = free_port()
    cookie = {"Cookie": f"{COOKIE}={cookie_value(TOKEN)}"}
    with http_server(tmp_path / "memory", port=port, MEMORY_LIFECYCLE_AUTH_TOKEN=TOKEN):
        base = f"http://127.0.0.1:{port}"
        async with httpx2.AsyncClient(timeout=30) as http:
            bare = await http.get(f"{base}/ui/api/stats")
            login = await http.get(f"{base}/ui/?token={TOKEN}")
            http.cookies.clear()
            with_cookie = await http.get(f"{base}/ui/api/stats", headers=cookie)
            mcp_with_cookie = await http.post(url(port), json=INIT, headers={**HEADERS, **cookie})
    assert bare.status_code == 401
    assert login.status_code == 303 and COOKIE in login.headers["set-cookie"]
    assert with_cookie.status_code == 200
    assert mcp_with_cookie.status_code == 401


async def test_http_server_with_an_open_dashboard_long_poll_exits_cleanly(
    tmp_path: Path,
) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", port=port) as proc:
        base = f"http://127.0.0.1:{port}/ui/api/changes"
        async with httpx2.AsyncClient(timeout=40) as http:
            since = (await http.get(base)).json()["next"]
            async with anyio.create_task_group() as tg:

                async def poll() -> None:
                    with contextlib.suppress(httpx2.HTTPError):
                        await http.get(base, params={"since": since, "wait_seconds": 30})

                tg.start_soon(poll)
                await anyio.sleep(0.3)  # (let the poll reach the server; not what is timed)
                code, seconds = await anyio.to_thread.run_sync(
                    timed_exit, proc, lambda: proc.send_signal(signal.SIGTERM)
                )
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    assert code == 0, stderr
    assert seconds < EXIT_TIMEOUT, stderr
    assert "Traceback" not in stderr


async def test_a_tool_call_still_waiting_at_shutdown_is_one_warning_line_not_a_traceback(
    tmp_path: Path,
) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", port=port) as proc:
        async with Client(url(port)) as client:
            held = {"name": "migration", "owner": "a", "ttl_seconds": 60}
            assert structured(await client.call_tool("memory_lock", held))["acquired"] is True
            async with anyio.create_task_group() as tg:

                async def wait_for_the_lock() -> None:
                    wanted = {**held, "owner": "b", "wait_seconds": 30}
                    with contextlib.suppress(Exception):  # cancelled by the shutdown
                        await client.call_tool("memory_lock", wanted)

                tg.start_soon(wait_for_the_lock)
                await anyio.sleep(0.3)  # (let the call reach the server; not what is timed)
                code, seconds = await anyio.to_thread.run_sync(
                    timed_exit, proc, lambda: proc.send_signal(signal.SIGTERM)
                )
                tg.cancel_scope.cancel()
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    assert code == 0, stderr
    assert seconds < EXIT_TIMEOUT + 3, stderr  # the grace period, then out
    assert "Traceback" not in stderr and " ERROR:" not in stderr, stderr
    assert "shutdown grace was cancelled" in stderr
