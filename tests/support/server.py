"""Helpers for the server tests: real server subprocesses, raw stdio sessions, free ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import StdioServerParameters

from server.mcp.server import STOPPED_MESSAGE
from tests.support.env import PYTHON, REPO, child_env
from tests.support.ports import free_port

CONSOLE_SCRIPT = Path(PYTHON).parent / "memory-lifecycle"
STARTUP_TIMEOUT = 30.0  # a cold start is ~0.8 s; the 2-core VM may be busy with other suites
EXIT_TIMEOUT = 2.0  # the bound for a clean exit after a signal / EOF
# how long a test waits for the exit at all: the bound above is checked on the seconds
# ``timed_exit`` returns (run-queue waits taken out); at load 15 on 2 cores a clean exit
# has taken over 7 s of wall time, so the wait itself is generous
EXIT_WAIT = 60.0


def server_command(memory_dir: Path, *serve_args: str) -> list[str]:
    """``python -m server --memory-dir DIR [serve options]`` (the CLI inserts ``serve``)."""
    return [PYTHON, "-m", "server", "--memory-dir", str(memory_dir), *serve_args]


def stdio_params(memory_dir: Path, *serve_args: str, **env: str) -> StdioServerParameters:
    command = server_command(memory_dir, *serve_args)
    return StdioServerParameters(command=command[0], args=command[1:], env=child_env(**env))


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
        """Stop by 'eof' or a signal name; return (exit code, seconds until it exited,
        not counting time spent waiting for a CPU: see ``timed_exit``)."""

        def stop() -> None:
            if how == "eof":
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            else:
                self.proc.send_signal(getattr(signal, how))

        return timed_exit(self.proc, stop)

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


def timed_exit(
    proc: subprocess.Popen[bytes], stop: Callable[[], None], timeout: float = EXIT_WAIT
) -> tuple[int, float]:
    """Call ``stop()`` (send a signal, close stdin) and wait for ``proc`` to exit; return
    its exit code and the seconds it took, less the time its threads spent runnable but
    waiting for a CPU.

    What an exit bound guards against is a server held up by its own waits (a thread that
    is not joined, a long-poll, a timer), which is time spent sleeping. On the shared
    2-core machine, with the suite's workers and other engineers' suites running, a
    server can also sit a second or more in the run queue just to do its fraction of a
    second of teardown; Linux counts that time per thread (``/proc/PID/task/TID/schedstat``, its
    second field) and it is not counted here. Elsewhere the wall time is returned as is.
    """
    before = _queued(proc.pid)
    queued = dict(before)
    started = time.monotonic()
    stop()
    deadline = started + timeout
    while _running(proc.pid) and time.monotonic() < deadline:
        queued.update(_queued(proc.pid))  # threads that end take their counts along
        time.sleep(0.005)
    queued.update(_queued(proc.pid))  # the exited main thread's, until it is reaped
    code = proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    seconds = time.monotonic() - started
    waited = sum(ns - before.get(tid, 0) for tid, ns in queued.items()) / 1e9
    return code, max(seconds - waited, 0.0)


def _running(pid: int) -> bool:
    """Whether ``pid`` (our child) has not exited yet; it is not reaped here."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None


def _queued(pid: int) -> dict[str, int]:
    """Nanoseconds each thread of ``pid`` has waited in a run queue (empty without
    /proc or schedstats)."""
    waits: dict[str, int] = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return waits
    for task in tasks:
        try:
            waits[task.name] = int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return waits


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
    "timed_exit",
    "wait_for_port",
]
