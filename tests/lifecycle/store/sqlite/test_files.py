"""The files behind the SQLite store: private, watched while open, given back after
cleanup, and failing loudly when the disk does. Real files, real processes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager, StoreError
from lifecycle.maintenance import run_maintenance
from lifecycle.store.sqlite.store import SQLiteStore
from tests.support.cli import run_cli
from tests.support.env import PYTHON, REPO, child_env
from tests.support.server import raw_stdio_server

NOW = 1_800_000_000.0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def store_files(directory: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in directory.iterdir() if p.name.startswith("memory.db")}


def run_python(code: str, *, umask: int | None = None, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (a real second process); its stdout."""

    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)

    done = subprocess.run(
        [PYTHON, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=child_env(**env),
        cwd=REPO,
        timeout=60,
        preexec_fn=set_umask,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---------------------------------------------------------------- private files


def test_a_new_store_is_private_whatever_the_umask(tmp_path: Path) -> None:
    directory = tmp_path / "memory"
    run_python(
        f"""
        from lifecycle import MemoryLifecycleManager
        with MemoryLifecycleManager(memory_dir={str(directory)!r}) as m:
            m.store("knowledge/secret", "agents write anything here")
            import os; print(sorted(os.listdir({str(directory)!r})))
        """,
        umask=0,
    )
    assert mode(directory) == 0o700
    assert store_files(directory)["memory.db"] == 0o600


def test_wal_shm_and_gate_files_are_private_while_the_store_is_open(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        with MemoryLifecycleManager(memory_dir=tmp_path / "memory") as m:
            m.store("knowledge/secret", 1)
            files = store_files(tmp_path / "memory")
    finally:
        os.umask(old)
    assert files == {
        "memory.db": 0o600,
        "memory.db-wal": 0o600,
        "memory.db-shm": 0o600,
        "memory.db-writer": 0o600,  # the writers' gate (sqlite_gate)
    }


def test_an_existing_world_readable_store_is_tightened_on_open_with_a_warning(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "memory"
    with MemoryLifecycleManager(memory_dir=directory) as m:
        m.store("knowledge/a", 1)
    (directory / "memory.db").chmod(0o644)  # as stores were created before
    done = run_cli("--memory-dir", str(directory), "stats", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert mode(directory / "memory.db") == 0o600
    assert "was readable by group or others (mode 644); now 600" in done.stderr
    assert json.loads(done.stdout)["total_entries"] == 1


def test_a_symlinked_store_file_is_not_changed_through_the_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("not ours")
    target.chmod(0o644)
    directory = tmp_path / "memory"
    with MemoryLifecycleManager(memory_dir=directory):
        pass
    (directory / "memory.db-shm").unlink(missing_ok=True)
    (directory / "memory.db-shm").symlink_to(target)
    from lifecycle.store.sqlite import files

    files.tighten(directory / "memory.db")
    assert mode(target) == 0o644


# ---------------------------------------------------------------- deleted under a server


def test_a_store_deleted_under_a_running_server_is_reopened_and_writes_survive(
    tmp_path: Path,
) -> None:
    memory = tmp_path / "memory"
    with raw_stdio_server(memory) as server:
        server.initialize()
        server.call_tool("memory_store", {"key": "knowledge/before", "value": 1})
        for name in os.listdir(memory):  # rm memory.db*
            (memory / name).unlink()
        after = server.call_tool("memory_store", {"key": "knowledge/after", "value": 2})
        code, _ = server.stop_with("eof")
        stderr = server.stderr_text()
    assert after["structuredContent"]["stored"] is True
    assert code == 0
    assert f"{memory / 'memory.db'} was deleted while this process had the store open" in stderr
    with MemoryLifecycleManager(memory_dir=memory) as m:  # the "restart"
        assert m.retrieve("knowledge/after") == 2  # acknowledged, so it is there
        assert m.retrieve("knowledge/before") is None  # deleted with the file, as asked
    assert mode(memory) == 0o700 and mode(memory / "memory.db") == 0o600


def test_a_replaced_store_file_is_reopened_and_seen_by_other_processes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    with MemoryLifecycleManager(memory_dir=b) as other:
        other.store("knowledge/from_b", "b")
    with MemoryLifecycleManager(memory_dir=a) as m:
        m.store("knowledge/from_a", "a")
        for suffix in ("-wal", "-shm"):
            (a / f"memory.db{suffix}").unlink(missing_ok=True)
        os.replace(b / "memory.db", a / "memory.db")  # a restore from backup, say
        m.store("knowledge/written", "after the swap")
        assert m.retrieve("knowledge/from_b") == "b"
    seen = run_python(
        f"""
        from lifecycle import MemoryLifecycleManager
        with MemoryLifecycleManager(memory_dir={str(a)!r}) as m:
            print(m.retrieve("knowledge/written"), m.retrieve("knowledge/from_b"))
        """
    )
    assert seen.split() == ["after", "the", "swap", "b"]


def test_a_write_into_a_deleted_wal_is_reported_lost_and_the_retry_lands(
    tmp_path: Path,
) -> None:
    with MemoryLifecycleManager(memory_dir=tmp_path / "m") as m:
        m.store("knowledge/a", 1)
        (tmp_path / "m" / "memory.db-wal").unlink()
        with pytest.raises(StoreError, match=r"memory.db-wal was deleted .* lost; retry it"):
            m.store("knowledge/b", 2)
        m.store("knowledge/b", 2)
        seen = run_python(
            f"""
            from lifecycle import MemoryLifecycleManager
            with MemoryLifecycleManager(memory_dir={str(tmp_path / "m")!r}) as m:
                print(m.retrieve("knowledge/b"))
            """
        )
    assert seen.strip() == "2"


def test_a_file_deleted_while_a_write_commits_is_reported_lost_not_stored(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "m" / "memory.db")
    try:
        lost = pytest.raises(StoreError, match="was deleted while this write committed")
        with lost, store.transaction() as tx:
            tx.remove("nothing")
            for name in os.listdir(tmp_path / "m"):
                (tmp_path / "m" / name).unlink()
        store.set_meta("after", "1")  # the next write goes to the new file
        assert store.get_meta("after") == "1"
    finally:
        store.close()


# ---------------------------------------------------------------- space given back


def fill(m: MemoryLifecycleManager, count: int, prefix: str = "coordination/k") -> None:
    for start in range(0, count, 500):
        m.store_many(
            [
                {"key": f"{prefix}{i}", "value": os.urandom(1000).hex()}
                for i in range(start, min(count, start + 500))
            ]
        )


def on_disk(directory: Path) -> int:
    files = (directory / f"memory.db{suffix}" for suffix in ("", "-wal"))
    return sum(f.stat().st_size for f in files if f.exists())


def test_cleanup_gives_the_space_back_and_the_size_reported_is_the_size_on_disk(
    tmp_path: Path,
) -> None:
    clock = ManualClock(NOW)
    directory = tmp_path / "m"
    with MemoryLifecycleManager(memory_dir=directory, clock=clock) as m:
        fill(m, 5000)
        full = m.get_stats()["db_size_bytes"]
        assert full == on_disk(directory) and full > 5_000_000
        clock.tick(7200)  # past coordination/*'s hour
        assert m.cleanup()["deleted_count"] == 5000
        emptied = m.get_stats()["db_size_bytes"]
        assert emptied == on_disk(directory)
    assert emptied < 1_000_000


def make_old_style(directory: Path) -> None:
    """What stores created before incremental auto-vacuum look like: auto_vacuum=NONE."""
    conn = sqlite3.connect(directory / "memory.db", isolation_level=None)
    try:
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("VACUUM")
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    finally:
        conn.close()


def test_maintenance_converts_an_old_store_once_and_gives_its_space_back(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "m"
    with MemoryLifecycleManager(memory_dir=directory):
        pass
    make_old_style(directory)
    with MemoryLifecycleManager(memory_dir=directory) as m:
        fill(m, 3000, "knowledge/k")  # manual policy: only a forced cleanup deletes
        m.reset()
        assert on_disk(directory) > 3_000_000  # an old store keeps its free pages
    done = run_cli("--memory-dir", str(directory), "daemon", "--once")
    assert done.returncode == 0, done.stderr
    assert "converting to incremental auto-vacuum" in done.stderr
    assert on_disk(directory) < 1_000_000
    conn = sqlite3.connect(directory / "memory.db")
    try:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    finally:
        conn.close()
    again = run_cli("--memory-dir", str(directory), "daemon", "--once")
    assert "converting" not in again.stderr  # once


def test_a_maintenance_run_with_nothing_to_give_back_changes_nothing(tmp_path: Path) -> None:
    with MemoryLifecycleManager(memory_dir=tmp_path / "m", clock=ManualClock(NOW)) as m:
        m.store("knowledge/a", 1)
        assert run_maintenance(m, "test").ran
        assert m.retrieve("knowledge/a") == 1


# ---------------------------------------------------------------- a full disk


def test_a_write_the_disk_cannot_take_fails_with_what_sqlite_said_and_stores_nothing(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "m"
    with MemoryLifecycleManager(memory_dir=directory) as m:
        m.store("knowledge/small", 1)
    # a file size limit makes the WAL append at COMMIT fail, as a full disk does
    out = run_python(
        f"""
        import os, resource, signal
        from lifecycle import MemoryLifecycleManager, StoreError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        with MemoryLifecycleManager(memory_dir={str(directory)!r}) as m:
            m.store("knowledge/warm", 1)
            limit = max(os.path.getsize(os.path.join({str(directory)!r}, f))
                        for f in os.listdir({str(directory)!r})) + 20_007
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            try:
                m.store("knowledge/big", os.urandom(200_000).hex())
            except StoreError as exc:
                print(exc)
        """
    )
    assert "disk I/O error; the write was not stored" in out
    assert "cannot commit" not in out
    with MemoryLifecycleManager(memory_dir=directory) as m:
        assert m.retrieve("knowledge/big") is None
        m.store("knowledge/after", 2)  # the store is intact
        assert m.retrieve("knowledge/after") == 2


def test_a_full_database_says_so(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m" / "memory.db")
    try:
        store._conn().execute("PRAGMA max_page_count = 20")  # SQLite's own "disk full"
        with pytest.raises(StoreError, match="database or disk is full; the write was not"):
            store.set_meta("big", "x" * 200_000)
        assert store.get_meta("big") is None
    finally:
        store.close()


@pytest.mark.skipif(sys.platform != "linux", reason="inode semantics checked on Linux")
def test_reads_notice_a_replaced_file_within_a_second_without_a_write(tmp_path: Path) -> None:
    import lifecycle.store.sqlite.connections as sqlite_module

    a, b = tmp_path / "a", tmp_path / "b"
    with MemoryLifecycleManager(memory_dir=b) as other:
        other.store("knowledge/x", "new")
    store = SQLiteStore(a / "memory.db")
    try:
        store.set_meta("x", "old")
        for suffix in ("-wal", "-shm"):
            (a / f"memory.db{suffix}").unlink(missing_ok=True)
        os.replace(b / "memory.db", a / "memory.db")
        store._local.next_check = 0.0  # as if FILE_CHECK_SECONDS had passed
        assert sqlite_module.FILE_CHECK_SECONDS <= 1.0
        assert store.get_meta("x") is None and store.get("knowledge/x") is not None
    finally:
        store.close()
