"""Reading never needs to write (DESIGN "Edges that must hold"): on a store whose folder
is read-only or whose disk is full, ``get``, ``list``, ``search``, ``stats``, ``export``
and a server answering reads work; writes fail with one clear line; ``stats`` says the
store is read-only. For real: the commands run in a private mount namespace where the
store's folder is a read-only bind mount, or a full tmpfs (``tests.support.mounts``).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from tests.support.cli import command
from tests.support.env import PYTHON, REPO, child_env
from tests.support.mounts import read_only, require_mounts, tiny_disk
from tests.support.server import RawStdioServer, server_command

pytestmark = pytest.mark.slow

NOW = 1_800_000_000.0


def seed(directory: Path) -> None:
    with MemoryLifecycleManager(memory_dir=directory, clock=ManualClock(NOW)) as m:
        m.store("knowledge/auth", {"decision": "We use JWT for auth"}, tags=["adr"])
        m.store("knowledge/db", "Postgres for prod")


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=child_env(),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli(directory: Path, *args: str) -> list[str]:
    return [*command(), "--memory-dir", str(directory), *args]


READS: dict[str, tuple[str, ...]] = {
    "get": ("get", "knowledge/db"),
    "list": ("list", "--output", "json"),
    "search": ("search", "jwt", "--output", "json"),
    "stats": ("stats", "--output", "json"),
    "export": ("export", "-"),
}


def check_reads(done: dict[str, subprocess.CompletedProcess[str]]) -> None:
    for name, result in done.items():
        assert result.returncode == 0, (name, result.stderr)
        assert "gate" not in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr, (name, result.stderr)
    assert json.loads(done["get"].stdout) == "Postgres for prod"
    assert "knowledge/auth" in done["list"].stdout
    assert "knowledge/auth" in done["search"].stdout
    assert len(done["export"].stdout.splitlines()) == 2


def check_refused_write(result: subprocess.CompletedProcess[str], why: str) -> None:
    assert result.returncode not in (0, 2), result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "read-only" in lines[0] and why in lines[0], lines[0]
    assert "not stored" in lines[0], lines[0]
    assert "gate" not in lines[0] and "Traceback" not in result.stderr


def contents(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if not p.name.endswith("-shm")}


@pytest.mark.parametrize("held_open", [False, True], ids=["closed", "held-open-elsewhere"])
def test_a_store_on_a_read_only_mount_answers_reads_and_refuses_writes_in_one_line(
    tmp_path: Path, held_open: bool
) -> None:
    """Closed, the store has no ``-wal``/``-shm`` and SQLite cannot make them; held open
    by a writer outside the mount, they exist and the store opens read-only as is."""
    require_mounts()
    directory = tmp_path / "m"
    seed(directory)
    holder = sqlite3.connect(directory / "memory.db") if held_open else None
    if holder is not None:
        holder.execute("SELECT COUNT(*) FROM entries").fetchone()
        assert (directory / "memory.db-shm").exists()
    before = contents(directory)
    done = {name: run(read_only(directory, cli(directory, *args))) for name, args in READS.items()}
    check_reads(done)
    stats = json.loads(done["stats"].stdout)
    assert stats["total_entries"] == 2
    assert "read-only" in (stats["read_only"] or ""), stats
    text = run(read_only(directory, cli(directory, "stats")))
    assert "read-only: its folder is on a read-only file system" in text.stdout, text
    check_refused_write(
        run(read_only(directory, cli(directory, "put", "knowledge/new", "x"))), "read-only file"
    )
    cleanup = run(read_only(directory, cli(directory, "cleanup")))
    check_refused_write(cleanup, "read-only file")
    assert contents(directory) == before
    if holder is not None:
        holder.close()


def test_a_server_on_a_read_only_mount_answers_reads_and_refuses_writes(tmp_path: Path) -> None:
    require_mounts()
    directory = tmp_path / "m"
    seed(directory)
    server = RawStdioServer(read_only(directory, server_command(directory)), child_env())
    try:
        server.initialize()
        got = server.call_tool("memory_retrieve", {"key": "knowledge/db"})
        found = server.call_tool("memory_search", {"query": "jwt"})
        refused = server.call_tool("memory_store", {"key": "knowledge/new", "value": "x"})
        code, _ = server.stop_with("eof")
        stderr = server.stderr_text()
    finally:
        server.kill()
    assert code == 0, stderr
    assert got.get("isError") is not True and "Postgres for prod" in json.dumps(got), got
    assert found.get("isError") is not True and "knowledge/auth" in json.dumps(found), found
    assert refused["isError"] is True, refused
    text = refused["content"][0]["text"]
    assert "read-only" in text and "not stored" in text and "\n" not in text, text
    assert "gate" not in stderr and "Traceback" not in stderr, stderr


# The whole scenario runs inside the namespace, where the tmpfs exists: make the store,
# fill the disk to the last byte, then run the commands and report what they did.
FULL_DISK = """
import json, os, subprocess, sys
from lifecycle import ManualClock, MemoryLifecycleManager
directory, argv_json = sys.argv[1], sys.argv[2]
with MemoryLifecycleManager(memory_dir=directory, clock=ManualClock({now})) as m:
    m.store("knowledge/auth", {{"decision": "We use JWT for auth"}}, tags=["adr"])
    m.store("knowledge/db", "Postgres for prod")
filler = os.open(os.path.join(directory, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
for size in (65536, 4096, 1):  # to the last byte
    try:
        while True:
            os.write(filler, b"x" * size)
    except OSError:
        pass
os.close(filler)
out = {{}}
for name, argv in json.loads(argv_json).items():
    done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    out[name] = [done.returncode, done.stdout, done.stderr]
print(json.dumps(out))
"""


def test_a_store_on_a_full_disk_answers_reads_and_refuses_writes_in_one_line(
    tmp_path: Path,
) -> None:
    require_mounts()
    directory = tmp_path / "full"
    directory.mkdir()
    commands = {name: cli(directory, *args) for name, args in READS.items()}
    commands["put"] = cli(directory, "put", "knowledge/new", "x" * 20_000)
    script = textwrap.dedent(FULL_DISK.format(now=NOW))
    argv = [PYTHON, "-c", script, str(directory), json.dumps(commands)]
    done = run(tiny_disk(directory, 1024, argv))
    assert done.returncode == 0, done.stderr
    results = {
        name: subprocess.CompletedProcess(commands[name], code, out, err)
        for name, (code, out, err) in json.loads(done.stdout).items()
    }
    check_reads({name: results[name] for name in READS})
    stats = json.loads(results["stats"].stdout)
    assert "disk is full" in (stats["read_only"] or ""), stats
    check_refused_write(results["put"], "disk is full")


def test_a_read_only_store_made_before_the_last_migrations_still_answers_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations reads do not need (``READS_WITHOUT``) wait for a process that can write."""
    require_mounts()
    from lifecycle.store.sqlite import schema as sqlite

    directory = tmp_path / "m"
    older = {n: m for n, m in sqlite.NUMBERED.items() if n not in sqlite.READS_WITHOUT}
    monkeypatch.setattr(sqlite, "NUMBERED", older)
    seed(directory)
    monkeypatch.undo()
    done = {name: run(read_only(directory, cli(directory, *args))) for name, args in READS.items()}
    check_reads(done)
    check_refused_write(
        run(read_only(directory, cli(directory, "put", "knowledge/new", "x"))), "read-only file"
    )
