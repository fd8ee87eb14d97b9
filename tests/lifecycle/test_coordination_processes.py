"""Coordination across real processes, on SQLite and PostgreSQL: compare-and-set loops
that lose nothing, a lock taken one holder after another, a holder killed mid-lease, a
long-poll woken by another process's write, and a feed reader beside concurrent writer processes.

The children are ``tests/support/coord_worker.py``; every wait is bounded.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lifecycle import MemoryLifecycleManager
from tests.support.env import REPO, child_env
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    UrlFactory,
    backend_fixture,
    store_url_factory_fixture,
    store_url_fixture,
)

pytestmark = pytest.mark.slow

WORKER = str(REPO / "tests" / "support" / "coord_worker.py")
TIMEOUT = 120


@contextmanager
def workers(*commands: list[str]) -> Iterator[list[subprocess.Popen[str]]]:
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, *cmd],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cmd in commands
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    return out


def read_line(proc: subprocess.Popen[str]) -> str:
    """One line of the child's output (read before ``finish``, which reads the pipe's file
    descriptor directly: lines this buffered ahead would be lost to it)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the child prints before it waits; EOF means it died
    assert line, proc.stderr.read() if proc.stderr else "child exited"
    return line.strip()


def test_compare_and_set_loops_in_five_processes_lose_no_increment(store_url: str) -> None:
    MemoryLifecycleManager(store=store_url).close()  # the schema exists before the race
    with workers(
        *(["cas", store_url, f"agent-{i}", "task/counter", "40"] for i in range(5))
    ) as procs:
        for proc in procs:
            assert "conflicts" in json.loads(finish(proc))
    with MemoryLifecycleManager(store=store_url) as m:
        entry = m.retrieve_entry("task/counter")
        assert entry is not None and entry.value == 200
        changes = m.changes(since=0, limit=1000)["changes"]
    assert len(changes) == 200  # one revision per successful increment, none for conflicts


def test_four_processes_take_one_lock_one_after_another_with_growing_tokens(
    store_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "rounds.log"
    MemoryLifecycleManager(store=store_url).close()
    commands = [["rounds", store_url, f"agent-{i}", "job", "5", str(log)] for i in range(4)]
    with workers(*commands) as procs:
        for proc in procs:
            assert finish(proc).strip() == "done"
    events = [line.split() for line in log.read_text().splitlines()]
    assert len(events) == 40
    starts = sorted(
        (float(t), int(token), who) for kind, token, t, who in events if kind == "start"
    )
    ends = {int(token): float(t) for kind, token, t, _ in events if kind == "end"}
    tokens = [token for _, token, _ in starts]
    assert tokens == sorted(tokens) and len(set(tokens)) == 20  # granted in token order
    for (_, token, _), (next_start, _, _) in itertools.pairwise(starts):
        assert ends[token] <= next_start  # a hold ends before the next one starts
    assert len({who for _, _, who in starts}) == 4


def test_a_killed_holder_loses_the_lock_after_its_ttl_and_its_late_write_is_refused(
    store_url: str,
) -> None:
    with (
        MemoryLifecycleManager(store=store_url, agent_id="successor") as m,
        workers(["hold", store_url, "holder", "job", "2.0"]) as (holder,),
    ):
        token = int(read_line(holder))
        holder.kill()  # SIGKILL: no unlock, no cleanup
        holder.wait(timeout=30)
        assert not m.lock("job")["acquired"]  # still leased
        started = time.monotonic()
        taken = m.lock("job", wait_seconds=10)
        waited = time.monotonic() - started
        assert taken["acquired"] and taken["token"] > token
        assert waited < 5  # freed by the 2 s TTL, not the 10 s wait
        late = m.put("task/held", "stale", lock="job", lock_token=token)
        assert (late.applied, late.conflict) == (False, "lock")
        assert m.retrieve("task/held") == "by the holder"


def test_a_long_poll_in_one_process_wakes_on_a_write_from_another(store_url: str) -> None:
    with MemoryLifecycleManager(store=store_url) as m:
        since = m.changes()["next"]
        with workers(["follow", store_url, "reader", "task/", str(since), "1"]) as (reader,):
            assert read_line(reader) == "waiting"
            time.sleep(0.3)  # the reader is in its long-poll now
            written = m.put("task/ping", 1)
            started = time.monotonic()
            change = json.loads(read_line(reader))
            latency = time.monotonic() - started
            finish(reader)
    assert change == {
        "key": "task/ping",
        "revision": written.revision,
        "op": "put",
        "policy": "default",
    }
    assert latency < 5  # woken by the write, not by the 20 s deadline


def test_a_feed_reader_sees_every_change_of_concurrent_writer_processes_once(
    store_url: str,
) -> None:
    with MemoryLifecycleManager(store=store_url) as m:
        since = m.changes()["next"]
    commands = [["follow", store_url, "reader", "feed/", str(since), "150"]]
    commands += [["write", store_url, f"w{i}", "feed/", "50"] for i in range(3)]
    with workers(*commands) as (reader, *writers):
        for writer in writers:
            finish(writer)
        lines = finish(reader).splitlines()
    assert lines[0] == "waiting"
    seen = [json.loads(line) for line in lines[1:]]
    revisions = [c["revision"] for c in seen]
    assert len(revisions) == 150 and revisions == sorted(set(revisions))
    assert {c["key"] for c in seen} == {f"feed/w{w}/{i}" for w in range(3) for i in range(50)}
