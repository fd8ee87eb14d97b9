"""Helpers for the server tests: real server subprocesses, raw stdio sessions, free ports."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import StdioServerParameters

from server.mcp.server import STOPPED_MESSAGE
from tests.support.env import PYTHON, REPO, child_env

CONSOLE_SCRIPT = Path(PYTHON).parent / "memory-lifecycle"
STARTUP_TIMEOUT = 30.0  # a cold start is ~0.8 s; the 2-core VM may be busy with other suites
EXIT_TIMEOUT = 2.0  # the bound for a clean exit after a signal / EOF


def server_command(memory_dir: Path, *serve_args: str) -> list[str]:
    """``python -m server --memory-dir DIR [serve options]`` (the CLI inserts ``serve``)."""
    return [PYTHON, "-m", "server", "--memory-dir", str(memory_dir), *serve_args]


def stdio_params(memory_dir: Path, *serve_args: str, **env: str) -> StdioServerParameters:
    command = server_command(memory_dir, *serve_args)
    return StdioServerParameters(command=command[0], args=command[1:], env=child_env(**env))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RawStdioServer:
    """A server subprocess spoken to with hand-written JSON-RPC lines (to signal it, read
    its stderr and time its exit, which the SDK client hides)."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            list(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=REPO,
        )
        self._next_id = 0

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"server closed stdout; stderr: {self.stderr_text()}"
        message = json.loads(line)
        assert message.get("id") == self._next_id, message
        return message

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "tests", "version": "0"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.request("tools/call", {"name": name, "arguments": arguments})["result"]

    def stop_with(self, how: str) -> tuple[int, float]:
        """Stop by 'eof' or a signal name; return (exit code, seconds until it exited)."""
        started = time.monotonic()
        if how == "eof":
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        else:
            self.proc.send_signal(getattr(signal, how))
        code = self.proc.wait(timeout=EXIT_TIMEOUT + 5)
        return code, time.monotonic() - started

    def stderr_text(self) -> str:
        if self.proc.poll() is None:
            return "<still running>"
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


@contextmanager
def raw_stdio_server(memory_dir: Path, *serve_args: str, **env: str) -> Iterator[RawStdioServer]:
    server = RawStdioServer(server_command(memory_dir, *serve_args), child_env(**env))
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def http_server(
    memory_dir: Path, *serve_args: str, port: int, connect_host: str = "127.0.0.1", **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``serve --transport http`` as a subprocess, once it accepts connections."""
    args = server_command(memory_dir, "--transport", "http", "--port", str(port), *serve_args)
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(**env), cwd=REPO
    )
    try:
        wait_for_port(port, proc, connect_host)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def wait_for_port(port: int, proc: subprocess.Popen[bytes], host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            assert proc.stderr is not None
            raise AssertionError(f"server exited {proc.returncode}: {proc.stderr.read().decode()}")
        with socket.socket(family) as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"server did not listen on port {port} within {STARTUP_TIMEOUT} s")


def structured(result: Any) -> dict[str, Any]:
    """The structured content of a successful SDK ``CallToolResult``."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error_text(result: Any) -> str:
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)


def bounded(seconds: float = STARTUP_TIMEOUT) -> Any:
    return anyio.fail_after(seconds)


__all__ = [
    "CONSOLE_SCRIPT",
    "EXIT_TIMEOUT",
    "STOPPED_MESSAGE",
    "RawStdioServer",
    "bounded",
    "error_text",
    "free_port",
    "http_server",
    "raw_stdio_server",
    "server_command",
    "stdio_params",
    "structured",
    "wait_for_port",
]
