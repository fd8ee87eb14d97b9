"""A child process for the coordination tests: compare-and-set loops, lock rounds, a lock
holder to kill, a change-feed reader.

Run as ``python tests/support/coord_worker.py MODE STORE_URL AGENT [ARGS...]``; it
prints one line per event the parent waits for, flushed at once.
"""

from __future__ import annotations

import json
import os
import sys
import time

from lifecycle import MemoryLifecycleManager


def cas(m: MemoryLifecycleManager, key: str, count: str) -> None:
    """Increment ``key`` ``count`` times by read + compare-and-set, retrying conflicts."""
    conflicts = 0
    for _ in range(int(count)):
        while True:
            entry = m.retrieve_entry(key)
            revision, value = (entry.revision, entry.value) if entry else (0, 0)
            if m.put(key, value + 1, if_revision=revision).applied:
                break
            conflicts += 1
    print(json.dumps({"conflicts": conflicts}), flush=True)


def rounds_of_lock(m: MemoryLifecycleManager, name: str, rounds: str, log_path: str) -> None:
    """Take lock ``name`` ``rounds`` times, logging when each hold starts and ends."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        for i in range(int(rounds)):
            with m.locked(name, ttl_seconds=20, wait_seconds=30) as token:
                os.write(fd, f"start {token} {time.monotonic()!r} {m.agent_id}\n".encode())
                written = m.put("task/rounds", i, lock=name, lock_token=token)
                assert written.applied, written
                time.sleep(0.005)
                os.write(fd, f"end {token} {time.monotonic()!r} {m.agent_id}\n".encode())
    finally:
        os.close(fd)
    print("done", flush=True)


def hold(m: MemoryLifecycleManager, name: str, ttl: str) -> None:
    """Take lock ``name``, write under it, report the token, then wait to be killed."""
    token = m.lock(name, ttl_seconds=float(ttl))["token"]
    assert m.put("task/held", "by the holder", lock=name, lock_token=token).applied
    print(token, flush=True)
    time.sleep(3600)


def follow(m: MemoryLifecycleManager, prefix: str, since: str, wanted: str) -> None:
    """Long-poll the feed from ``since`` until ``wanted`` changes arrived; print each
    revision; say "waiting" before the first call."""
    cursor, seen = int(since), 0
    print("waiting", flush=True)
    deadline = time.monotonic() + 60
    while seen < int(wanted) and time.monotonic() < deadline:
        page = m.changes(prefix=prefix, since=cursor, limit=50, wait_seconds=20)
        for change in page["changes"]:
            print(json.dumps(change), flush=True)
        seen += len(page["changes"])
        cursor = page["next"]


def write(m: MemoryLifecycleManager, prefix: str, count: str) -> None:
    for i in range(int(count)):
        m.put(f"{prefix}{m.agent_id}/{i}", i)
    print("done", flush=True)


MODES = {"cas": cas, "rounds": rounds_of_lock, "hold": hold, "follow": follow, "write": write}


def main() -> int:
    mode, url, agent, *args = sys.argv[1:]
    with MemoryLifecycleManager(store=url, agent_id=agent) as m:
        MODES[mode](m, *args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
