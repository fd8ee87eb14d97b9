"""The writers' gate of a SQLite store (``lifecycle/store/sqlite/gate.py``), with a real
second process holding it: writers wait in line (bounded), readers never wait for it,
and without ``fcntl`` the store works as before, without the gate."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lifecycle import MemoryLifecycleManager, StoreBusyError
from lifecycle.store.sqlite import gate
from lifecycle.store.sqlite.store import SQLiteStore

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


@contextmanager
def gate_held_elsewhere(store: Path) -> Iterator[None]:
    """Another process holds the store's gate until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, f"{store}-writer"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the holder exits, and the kernel lets go of its lock
        holder.wait(timeout=30)


def manager(path: Path, busy_timeout: float) -> MemoryLifecycleManager:
    return MemoryLifecycleManager(store=SQLiteStore(path, busy_timeout=busy_timeout))


def test_a_writer_waits_at_most_the_busy_timeout_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    with manager(path, busy_timeout=0.3) as m:
        m.store("knowledge/before", 1)
        with gate_held_elsewhere(path):
            with pytest.raises(StoreBusyError, match=r"writers' gate .*memory\.db-writer"):
                m.store("knowledge/blocked", 1)
            assert m.retrieve("knowledge/before") == 1  # a reader does not wait for it
        assert m.retrieve("knowledge/blocked") is None
        m.store("knowledge/after", 2)  # the gate is free again: writes go through
        assert m.retrieve("knowledge/after") == 2


def test_a_waiting_writer_goes_through_when_the_gate_is_let_go(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    with manager(path, busy_timeout=60) as m:
        m.store("metrics/n", 1)
        done = threading.Event()
        outcome: list[object] = []

        def write() -> None:
            try:
                outcome.append(m.store("metrics/n", 1))
            except Exception as exc:  # reported below
                outcome.append(exc)
            done.set()

        with gate_held_elsewhere(path):
            writer = threading.Thread(target=write)
            writer.start()
            assert not done.wait(0.5)  # queued behind the holder
            assert m.retrieve("metrics/n") == 1
        writer.join(timeout=30)
        assert outcome == [True]
        assert m.retrieve("metrics/n") == 2


def test_without_fcntl_the_store_writes_without_a_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate, "fcntl", None)
    path = tmp_path / "memory.db"
    with manager(path, busy_timeout=5) as m:
        m.store_many([("metrics/n", 1), ("metrics/n", 2)])
        assert m.retrieve("metrics/n") == 3
    assert not Path(f"{path}-writer").exists()


def test_stores_opened_and_closed_do_not_leak_gate_descriptors(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    gate = Path(f"{path}-writer").resolve()

    def gate_descriptors() -> int:
        """Descriptors of this process open on the gate file (other tests' threads may
        open and close other descriptors meanwhile: only these count)."""
        count = 0
        for fd in Path("/proc/self/fd").iterdir():
            with contextlib.suppress(OSError):  # closed since it was listed
                if Path(os.readlink(fd)) == gate:
                    count += 1
        return count

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to count descriptors")
    for _ in range(40):
        with manager(path, busy_timeout=5) as m:
            m.store("metrics/n", 1)
            assert gate_descriptors() >= 1  # (the gate is what is counted)
    assert gate_descriptors() == 0
    with manager(path, busy_timeout=5) as m:
        assert m.retrieve("metrics/n") == 40
