"""Several real processes on one SQLite file: no lost update, no lock error, no torn entry."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from lifecycle import MemoryLifecycleManager
from tests.support.env import REPO, child_env

WORKER = str(REPO / "tests" / "support" / "engine_worker.py")
MakeManager = Callable[..., MemoryLifecycleManager]


def test_processes_writing_one_counter_lose_no_increment(tmp_path: Path) -> None:
    memory_dir = tmp_path / "shared"
    MemoryLifecycleManager(memory_dir=memory_dir).close()  # create the schema once
    writers, count = 4, 150
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "race", str(memory_dir), f"agent-{n}", str(count)],
            env=child_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err  # a "database is locked" would surface here
        assert "locked" not in err
    with MemoryLifecycleManager(memory_dir=memory_dir) as m:
        assert m.retrieve("metrics/shared/count") == writers * count
        assert m.retrieve("metrics/shared/down") == -writers * count
        last = m.retrieve("coordination/shared/last")
        assert last["i"] == count - 1 and last["agent"] in {f"agent-{n}" for n in range(writers)}
        for n in range(writers):
            assert m.retrieve(f"coordination/agent-{n}/progress") == count - 1
        board = m.retrieve_entry("swarm/shared/board")
        assert board is not None and len(board.conflicts) == 15  # capped at max_siblings=16


def test_threads_sharing_one_manager_lose_no_increment(make_manager: MakeManager) -> None:
    m = make_manager(shared_clock=False)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                m.store("metrics/threads", 1)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert m.retrieve("metrics/threads") == 800


def test_sigkilled_writer_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    memory_dir = tmp_path / "crash"
    proc = subprocess.Popen(
        [sys.executable, WORKER, "stream", str(memory_dir), "writer", "1000000"],
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    acked = -1
    for line in proc.stdout:
        acked = int(line)
        if acked >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert acked >= 300
    with MemoryLifecycleManager(memory_dir=memory_dir) as m:
        for i in range(acked + 1):
            assert m.retrieve(f"knowledge/stream/{i:06d}") == {"i": i, "pad": "x" * 200}
        assert m.retrieve("metrics/stream/acked") >= acked + 1
        # the store still works after the crash
        m.store("knowledge/after-crash", "ok")
        assert m.retrieve("knowledge/after-crash") == "ok"
        assert m.cleanup(force=True)["deleted_count"] == 0


def test_op_ids_retried_after_thousands_of_other_ops_count_once_across_processes(
    tmp_path: Path,
) -> None:
    memory_dir = tmp_path / "shared"
    MemoryLifecycleManager(memory_dir=memory_dir).close()
    writers, count = 4, 400  # 1,600 ops on one key: more than any per-key count window
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "retry", str(memory_dir), f"agent-{n}", str(count)],
            env=child_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with MemoryLifecycleManager(memory_dir=memory_dir) as m:
        assert m.retrieve("metrics/shared/retried") == writers * count
