"""What keeps the suite correct on several pytest-xdist workers: a module whose tests
share a fixture stays on one worker, a port handed to a test is held against every other
test, and an exit time counts the server's own waits, not a busy machine's."""

from __future__ import annotations

import ast
import errno
import signal
import socket
import subprocess
import sys

import pytest

from tests.support.env import REPO
from tests.support.parallel import ONE_WORKER_MODULES, unit_of
from tests.support.ports import free_port, release_ports
from tests.support.server import timed_exit

SHARED_SCOPES = {"class", "module", "package", "session"}


def shared_fixture_modules() -> set[str]:
    """Test modules defining a fixture with a scope wider than one test."""
    found = set()
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.keyword) or node.arg != "scope":
                continue
            if isinstance(node.value, ast.Constant) and node.value.value in SHARED_SCOPES:
                found.add(path.relative_to(REPO).as_posix())
    return found


def test_every_module_sharing_a_fixture_goes_to_one_worker_whole() -> None:
    assert shared_fixture_modules() == ONE_WORKER_MODULES
    browser = "tests/server/ui/test_browser.py"
    assert unit_of(f"{browser}::test_delete_removes_an_entry") == browser
    other = "tests/server/test_http.py::test_http_server_exits_cleanly_on_a_signal[2]"
    assert unit_of(other) == other


def test_a_free_port_is_held_for_the_test_yet_a_server_can_listen_on_it() -> None:
    port = free_port()
    with socket.socket() as plain:  # what another test's bind would meet
        with pytest.raises(OSError) as taken:
            plain.bind(("127.0.0.1", port))
        assert taken.value.errno == errno.EADDRINUSE
    with socket.socket() as server:  # as server.http.runner.listen binds
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
    release_ports()
    with socket.socket() as plain:
        plain.bind(("127.0.0.1", port))  # given back


def test_an_exit_held_up_by_a_wait_is_timed_in_full() -> None:
    held = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(0.6), sys.exit(3)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", held], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        code, seconds = timed_exit(proc, lambda: proc.send_signal(signal.SIGTERM))
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert code == 3
    assert 0.6 <= seconds < 10
