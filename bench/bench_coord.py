"""Coordination on SQLite and PostgreSQL: locks, compare-and-set, change latency.

lock round trip    median / p95 of ``lock()`` + ``unlock()`` in one process
CAS, 1 process     increments/s of a ``retrieve_entry`` + ``put(if_revision=)`` loop
CAS, 4 processes   the same loop on one key from 4 processes (conflicts retried), total
long-poll latency  ``put`` in one process -> seen by ``changes(wait_seconds=)`` in another
MCP latency        ``put`` in one process -> ``notifications/resources/updated`` at a
                   client subscribed through a stdio server (a third process)
idle CPU           CPU a long-poll burns while nothing changes, in % of one core

Latencies are wall-clock (``time.time()``, one machine) from just before the write to
the moment the reader has the change; writes are spaced 5-15 ms apart, so each one is
seen on its own. PostgreSQL runs when ``MEMORY_LIFECYCLE_TEST_POSTGRES`` is set or
``--postgres URL`` is given, in a fresh schema dropped afterwards.

    python -m bench.bench_coord [--quick] [--postgres postgresql://user@host/db] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import anyio

from bench.common import fresh_schema
from lifecycle import MemoryLifecycleManager

KEY = "bench/latency"
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- child processes


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMORY_LIFECYCLE_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MEMORY_LIFECYCLE_LOG_LEVEL"] = "WARNING"
    env.pop("CLAUDE_PROJECT_DIR", None)
    return env


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.bench_coord", "--worker", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_child_env(),
        cwd=ROOT,
    )


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"benchmark worker exited with {proc.wait()}")
    return line.strip()


def _go(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()


def worker(mode: str, url: str, count: str) -> None:
    """One child: open the store, say ready, wait for "go", run, report."""
    n = int(count)
    with MemoryLifecycleManager(store=url) as m:
        cursor = m.changes()["next"]
        print("ready", flush=True)
        sys.stdin.readline()
        if mode == "cas":
            for _ in range(n):
                while True:
                    entry = m.retrieve_entry("bench/counter")
                    revision, value = (entry.revision, entry.value) if entry else (0, 0)
                    if m.put("bench/counter", value + 1, if_revision=revision).applied:
                        break
            print("done", flush=True)
        elif mode == "follow":
            seen = 0
            while seen < n:
                page = m.changes(since=cursor, wait_seconds=30)
                now = time.time()
                for change in page["changes"]:
                    print(json.dumps([change["revision"], now]), flush=True)
                seen += len(page["changes"])
                cursor = page["next"]
        elif mode == "write":
            rng = random.Random(1)
            for i in range(n):
                time.sleep(0.005 + rng.random() * 0.01)
                started = time.time()
                revision = m.put(KEY, i).revision
                print(json.dumps([revision, started]), flush=True)


# ---------------------------------------------------------------- measurements


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1], p99


def lock_round_trip(url: str, n: int) -> dict[str, float]:
    times = []
    with MemoryLifecycleManager(store=url) as m:
        for i in range(n + 20):
            started = time.perf_counter()
            token = m.lock("bench/lock", ttl_seconds=10)["token"]
            m.unlock("bench/lock", token)
            if i >= 20:  # warm-up: connections, statement caches
                times.append((time.perf_counter() - started) * 1e6)
    median, p95, _ = _percentiles(times)
    return {"lock_median_us": median, "lock_p95_us": p95}


def cas_rate(url: str, processes: int, per_process: int) -> float:
    procs = [_spawn("cas", url, str(per_process)) for _ in range(processes)]
    try:
        for proc in procs:
            assert _line(proc) == "ready"
        started = time.perf_counter()
        _go(procs)
        for proc in procs:
            assert _line(proc) == "done"
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.communicate(timeout=60)
    with MemoryLifecycleManager(store=url) as m:
        total = m.retrieve("bench/counter")
        m.delete("bench/counter")
    expected = processes * per_process
    assert total == expected, f"lost increments: {total} of {expected}"
    return expected / elapsed


def long_poll_latency(url: str, n: int) -> list[float]:
    reader, writer = _spawn("follow", url, str(n)), _spawn("write", url, str(n))
    try:
        assert _line(reader) == "ready" and _line(writer) == "ready"
        _go([reader, writer])
        written = dict(json.loads(_line(writer)) for _ in range(n))
        seen = dict(json.loads(_line(reader)) for _ in range(n))
    finally:
        for proc in (reader, writer):
            proc.communicate(timeout=60)
    return [(seen[rev] - written[rev]) * 1000 for rev in written]


def mcp_latency(url: str, n: int) -> list[float]:
    return anyio.run(_mcp_latency, url, n)


async def _mcp_latency(url: str, n: int) -> list[float]:
    import mcp_types as types
    from mcp import Client, StdioServerParameters

    received: list[float] = []
    arrived = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            received.append(time.time())
            if len(received) == n:
                arrived.set()

    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "server", "--store", url, "serve", "--maintenance-interval", "0"],
        env=_child_env(),
    )
    async with Client(server, mode="legacy", message_handler=on_message) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.subscribe_resource(f"memory://{KEY}")
        writer = _spawn("write", url, str(n))
        try:
            assert await anyio.to_thread.run_sync(_line, writer) == "ready"
            _go([writer])
            lines = [await anyio.to_thread.run_sync(_line, writer) for _ in range(n)]
            with anyio.fail_after(30):
                await arrived.wait()
        finally:
            await anyio.to_thread.run_sync(lambda: writer.communicate(timeout=60))
    started = [json.loads(line)[1] for line in lines]
    return [(got - sent) * 1000 for got, sent in zip(received, started, strict=True)]


def idle_cpu(url: str, seconds: float) -> float:
    with MemoryLifecycleManager(store=url) as m:
        since = m.changes()["next"]
        m.changes(since=since, wait_seconds=0.2)  # start the listener (PostgreSQL) first
        cpu = time.process_time()
        m.changes(since=since, wait_seconds=seconds)
        return (time.process_time() - cpu) / seconds * 100


def measure(url: str, quick: bool) -> dict[str, float]:
    n_lock, n_cas, n_lat, idle = (50, 30, 15, 1.0) if quick else (2000, 400, 200, 5.0)
    out = lock_round_trip(url, n_lock)
    out["cas_1_per_s"] = cas_rate(url, 1, n_cas * 4)
    out["cas_4_per_s"] = cas_rate(url, 4, n_cas)
    for name, values in (
        ("poll", long_poll_latency(url, n_lat)),
        ("mcp", mcp_latency(url, n_lat)),
    ):
        median, _, p99 = _percentiles(values)
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = median, p99
    out["idle_cpu_pct"] = idle_cpu(url, idle)
    return out


ROWS = [
    ("lock + unlock median (µs)", "lock_median_us", "{:.0f}"),
    ("lock + unlock p95 (µs)", "lock_p95_us", "{:.0f}"),
    ("CAS increments/s, 1 process", "cas_1_per_s", "{:,.0f}"),
    ("CAS increments/s, 4 processes", "cas_4_per_s", "{:,.0f}"),
    ("long-poll latency p50 (ms)", "poll_p50_ms", "{:.1f}"),
    ("long-poll latency p99 (ms)", "poll_p99_ms", "{:.1f}"),
    ("MCP subscriber latency p50 (ms)", "mcp_p50_ms", "{:.1f}"),
    ("MCP subscriber latency p99 (ms)", "mcp_p99_ms", "{:.1f}"),
    ("idle long-poll CPU (% of a core)", "idle_cpu_pct", "{:.2f}"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server to compare with")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    pg_url = args.postgres or os.environ.get("MEMORY_LIFECYCLE_TEST_POSTGRES")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'memory.db'}", args.quick)
    if pg_url:
        with fresh_schema(pg_url) as schema_url:
            results["postgresql"] = measure(schema_url, args.quick)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    names = list(results)
    print(f"bench_coord ({'quick' if args.quick else 'full'})")
    print(f"{'':34}" + "".join(f"{name:>14}" for name in names))
    for label, field, fmt in ROWS:
        print(f"{label:34}" + "".join(f"{fmt.format(results[x][field]):>14}" for x in names))
    if not pg_url:
        print("(PostgreSQL skipped: set MEMORY_LIFECYCLE_TEST_POSTGRES or pass --postgres URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
