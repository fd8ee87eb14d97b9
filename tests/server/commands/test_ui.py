"""``memory-lifecycle ui`` as a real subprocess: it serves the page and its data from the
project's store, stops with exit code 0 on SIGTERM/SIGINT even while a page holds a
long-poll open, refuses what cannot work in one line (exit 1), needs the token beyond
loopback, and ``--open`` hands the page's address to the user's browser."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from lifecycle import MemoryLifecycleManager
from tests.support.dashboard import ui_server
from tests.support.env import PYTHON, REPO, child_env
from tests.support.server import EXIT_TIMEOUT, free_port, timed_exit, wait_for_port

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token-for-tests"


def ui_command(memory_dir: Path, *args: str) -> list[str]:
    return [PYTHON, "-m", "server", "--memory-dir", str(memory_dir), "ui", *args]


def fails(memory_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ui_command(memory_dir, *args),
        capture_output=True,
        text=True,
        env=child_env(**env),
        cwd=REPO,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 1, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("memory-lifecycle: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_ui_serves_the_page_and_the_project_store(tmp_path: Path) -> None:
    memory = tmp_path / "memory"
    with MemoryLifecycleManager(memory_dir=memory) as m:
        m.store("knowledge/seen", {"by": "ui"})
    port = free_port()
    with ui_server(memory, port), httpx2.Client(timeout=30) as http:
        base = f"http://127.0.0.1:{port}"
        root = http.get(f"{base}/", follow_redirects=True)
        entries = http.get(f"{base}/ui/api/entries").json()["entries"]
        stats = http.get(f"{base}/ui/api/stats").json()
    assert root.status_code == 200 and "<title>memory-lifecycle</title>" in root.text
    assert [e["key"] for e in entries] == ["knowledge/seen"]
    assert stats["store"].endswith(str(memory / "memory.db"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_with_exit_0_even_during_a_long_poll(tmp_path: Path, signum: int) -> None:
    port = free_port()
    with ui_server(tmp_path / "memory", port) as proc, httpx2.Client(timeout=40) as http:
        base = f"http://127.0.0.1:{port}/ui/api"
        since = http.get(f"{base}/changes").json()["next"]
        polled: dict[str, object] = {}

        def poll() -> None:
            try:
                polled["status"] = http.get(
                    f"{base}/changes", params={"since": since, "wait_seconds": 30}
                ).status_code
            except httpx2.HTTPError as exc:  # the server went away mid-poll: fine
                polled["error"] = exc

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)  # (let the long-poll reach the server; it is not what is timed)
        code, seconds = timed_exit(proc, lambda: proc.send_signal(signum))
        poller.join(timeout=10)
        assert proc.stderr is not None
        stderr = proc.stderr.read().decode()
    assert code == 0, stderr
    assert seconds < EXIT_TIMEOUT + 1, stderr  # the open long-poll did not hold it up
    assert "Traceback" not in stderr
    assert polled  # the poll ended, one way or the other


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = fails(tmp_path / "memory", "--port", str(port))
    assert_one_line(done, f"cannot serve HTTP on 127.0.0.1 port {port}", "already in use")


def test_an_address_not_of_this_machine_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = fails(
        tmp_path / "memory", "--host", "203.0.113.7", "--port", str(free_port()),
        MEMORY_LIFECYCLE_AUTH_TOKEN=TOKEN,
    )  # fmt: skip
    assert_one_line(done, "not one of this machine's")


def test_beyond_loopback_without_a_token_it_refuses_to_start(tmp_path: Path) -> None:
    done = fails(tmp_path / "memory", "--host", "0.0.0.0", "--port", str(free_port()))
    assert_one_line(done, "refusing to serve HTTP on 0.0.0.0 without authentication")


def test_a_missing_policy_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [PYTHON, "-m", "server", "--policy-file", str(tmp_path / "nope.yaml"), "ui",
         "--port", str(free_port())],
        capture_output=True, text=True, env=child_env(), cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert_one_line(done, "nope.yaml: policy file not found")


def test_beyond_loopback_requests_need_the_token_and_a_host_of_this_server(
    tmp_path: Path,
) -> None:
    port = free_port()
    args = ui_command(tmp_path / "memory", "--host", "127.0.0.2", "--port", str(port))
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(MEMORY_LIFECYCLE_AUTH_TOKEN=TOKEN),
        cwd=REPO,
    )
    try:
        wait_for_port(port, proc, "127.0.0.2")
        with httpx2.Client(timeout=30) as http:
            stats = f"http://127.0.0.2:{port}/ui/api/stats"
            bare = http.get(stats)
            bearer = http.get(stats, headers={"Authorization": f"Bearer {TOKEN}"})
            rebound = http.get(
                stats, headers={"Authorization": f"Bearer {TOKEN}", "Host": "evil.example"}
            )
    finally:
        proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            stream.close()
    assert bare.status_code == 401
    assert bearer.status_code == 200
    assert rebound.status_code == 421


def test_open_hands_the_page_to_the_browser(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(f"import sys\nopen({str(opened)!r}, 'w').write(sys.argv[1])\n")
    port = free_port()
    env = {"BROWSER": f"{sys.executable} {browser} %s", "MEMORY_LIFECYCLE_AUTH_TOKEN": TOKEN}
    with ui_server(tmp_path / "memory", port, "--open", **env):
        deadline = time.monotonic() + 20
        # the fake browser creates the file, then writes: wait for the whole link
        while time.monotonic() < deadline and not (
            opened.exists() and opened.read_text().endswith(TOKEN)
        ):
            time.sleep(0.05)
        link = opened.read_text()
        with httpx2.Client(timeout=30) as http:
            page = http.get(link, follow_redirects=True)  # the link logs the browser in
    assert link == f"http://127.0.0.1:{port}/ui/?token={TOKEN}"
    assert page.status_code == 200 and "<title>memory-lifecycle</title>" in page.text
