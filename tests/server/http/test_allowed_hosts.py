"""DNS-rebinding protection for every HTTP bind, token-free only on real loopback, and
binding failures as one line. Each test runs a real ``serve --transport http``
subprocess and speaks raw HTTP to it."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx2
import pytest

from tests.support.env import child_env
from tests.support.server import free_port, http_server, server_command

pytestmark = pytest.mark.slow

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
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def post(
    address: str, port: int, host_header: str | None = None, **headers: str
) -> httpx2.Response:
    sent = {**HEADERS, **headers}
    if host_header is not None:
        sent["Host"] = host_header
    with httpx2.Client(timeout=30) as http:
        return http.post(f"http://{address}:{port}/mcp", json=INIT, headers=sent)


def start_fails(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server_command(tmp_path / "memory", "--transport", "http", *args),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 1
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("memory-lifecycle: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_a_loopback_server_refuses_a_rebound_host_and_a_foreign_origin(tmp_path: Path) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", port=port):
        plain = post("127.0.0.1", port)
        by_name = post("127.0.0.1", port, f"localhost:{port}", Origin=f"http://localhost:{port}")
        rebound = post("127.0.0.1", port, f"evil.example:{port}")
        foreign = post("127.0.0.1", port, Origin="http://evil.example")
    assert plain.status_code == 200
    assert by_name.status_code == 200
    assert rebound.status_code == 421
    assert "--allowed-host" in rebound.json()["error_description"]
    assert foreign.status_code == 403


def test_127_0_0_2_is_not_token_free(tmp_path: Path) -> None:
    done = start_fails(tmp_path, "--host", "127.0.0.2", "--port", str(free_port()))
    assert_one_line(done, "refusing to serve HTTP on 127.0.0.2 without authentication")


def test_a_127_0_0_2_server_with_a_token_still_checks_host_and_origin(tmp_path: Path) -> None:
    port = free_port()
    serve = ("--host", "127.0.0.2")
    env = {"MEMORY_LIFECYCLE_AUTH_TOKEN": TOKEN}
    with http_server(tmp_path / "memory", *serve, port=port, connect_host="127.0.0.2", **env):
        no_token = post("127.0.0.2", port)
        right = post("127.0.0.2", port, **BEARER)
        rebound = post("127.0.0.2", port, f"evil.example:{port}", **BEARER)
        foreign = post("127.0.0.2", port, Origin="https://evil.example", **BEARER)
    assert no_token.status_code == 401
    assert right.status_code == 200
    assert rebound.status_code == 421
    assert foreign.status_code == 403


def test_a_wildcard_bind_accepts_only_the_hosts_it_is_told(tmp_path: Path) -> None:
    port = free_port()
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    serve = ("--host", "0.0.0.0", "--auth-token-file", str(token_file))
    with http_server(
        tmp_path / "memory",
        *serve,
        "--allowed-host",
        "mcp.internal",
        port=port,
        MEMORY_LIFECYCLE_ALLOWED_HOSTS="ignored.example",  # the flag wins over the variable
    ) as proc:
        listed = post("127.0.0.1", port, f"MCP.internal:{port}", **BEARER)
        machine = post("127.0.0.1", port, f"{socket.gethostname()}:{port}", **BEARER)
        other = post("127.0.0.1", port, f"ignored.example:{port}", **BEARER)
        proc.terminate()
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    assert listed.status_code == 200
    assert machine.status_code == 200
    assert other.status_code == 421
    assert "readable by" not in stderr  # a 0600 token file is not warned about


def test_allowed_hosts_come_from_the_environment_and_star_turns_the_check_off(
    tmp_path: Path,
) -> None:
    port = free_port()
    with http_server(
        tmp_path / "memory", port=port, MEMORY_LIFECYCLE_ALLOWED_HOSTS="a.example, b.example"
    ):
        a = post("127.0.0.1", port, f"b.example:{port}")
        c = post("127.0.0.1", port, f"c.example:{port}")
    port = free_port()
    with http_server(tmp_path / "memory", "--allowed-host", "*", port=port):
        anything = post("127.0.0.1", port, f"c.example:{port}")
    assert (a.status_code, c.status_code, anything.status_code) == (200, 421, 200)


def test_a_token_file_others_can_read_is_warned_about(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o644)
    port = free_port()
    with http_server(tmp_path / "memory", "--auth-token-file", str(token_file), port=port) as proc:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    assert f"the auth token file {token_file} is readable by its group and others" in stderr
    assert "chmod 600" in stderr


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = start_fails(tmp_path, "--port", str(taken.getsockname()[1]))
    assert_one_line(done, "port is already in use", "choose another --port")
    assert not (tmp_path / "memory" / "memory.db").exists()  # refused before opening the store


def test_an_unresolvable_host_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env_token = {"MEMORY_LIFECYCLE_AUTH_TOKEN": TOKEN}
    done = subprocess.run(
        server_command(tmp_path / "memory", "--transport", "http", "--host", "no-such.invalid"),
        capture_output=True,
        text=True,
        env=child_env(**env_token),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert_one_line(done, "cannot serve HTTP on --host 'no-such.invalid'")


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_a_bracketed_ipv6_host_is_served_without_a_token(tmp_path: Path) -> None:
    port = free_port()
    with http_server(tmp_path / "memory", "--host", "[::1]", port=port, connect_host="::1"):
        answered = post("[::1]", port)
        rebound = post("[::1]", port, f"evil.example:{port}")
    assert answered.status_code == 200
    assert rebound.status_code == 421


def test_every_http_only_flag_needs_the_http_transport(tmp_path: Path) -> None:
    done = subprocess.run(
        server_command(tmp_path / "memory", "--allowed-host", "x.example"),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert "--allowed-host applies only to HTTP" in done.stderr
