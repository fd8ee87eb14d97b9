"""Writer fairness on SQLite: 8 real processes writing one store at once.

Each process opens the store, waits for the common start, then does N increments of one
shared counter (``metrics/*`` is a counter: every increment is a read-modify-write of
the same row), timing each ``store`` call. Reported over all calls of all processes:
the slowest single call, p99, p50, and total throughput (calls per second of wall time
from the start to the last process's end). The counter is checked at the end: N x 8,
no increment lost. N = 500 (50 with --quick).

Aim (issue 15): the slowest single call under 500 ms.

    python -m bench.bench_fairness [--quick] [--processes 8] [--n N] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lifecycle import MemoryLifecycleManager

KEY = "metrics/fairness"


def worker(path: str, n: int, agent: str) -> None:
    """One writing process: ready, wait for go, write, report the latencies as JSON."""
    with MemoryLifecycleManager(store=path, agent_id=agent) as m:
        m.retrieve(KEY)  # connection open before the start
        print("ready", flush=True)
        sys.stdin.readline()
        times = []
        for _ in range(n):
            started = time.perf_counter()
            m.store(KEY, 1)
            times.append(time.perf_counter() - started)
        print(json.dumps(times), flush=True)


def run(processes: int, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "memory.db")
        MemoryLifecycleManager(store=path).close()  # created once, not raced
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.bench_fairness", "--worker", path, str(n), f"w{i}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(processes)
        ]
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        latencies: list[float] = []
        for p in procs:
            out, _ = p.communicate(timeout=600)
            assert p.returncode == 0, f"worker failed with {p.returncode}"
            latencies += json.loads(out)
        wall = time.perf_counter() - started
        with MemoryLifecycleManager(store=path) as m:
            total = m.retrieve(KEY)
        assert total == processes * n, f"lost increments: {total} != {processes * n}"
    latencies.sort()
    return {
        "processes": processes,
        "n": n,
        "max_ms": latencies[-1] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "throughput_per_s": len(latencies) / wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 increments per process")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--n", type=int, help="increments per process (default 500)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--worker", nargs=3, metavar=("PATH", "N", "AGENT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.worker[2])
        return 0
    n = args.n or (50 if args.quick else 500)
    r = run(args.processes, n)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"bench_fairness ({r['processes']} processes x {n} increments of one counter)")
    print(
        f"per store: max {r['max_ms']:.1f} ms, p99 {r['p99_ms']:.2f} ms, p50 {r['p50_ms']:.2f} ms;"
        f" throughput {r['throughput_per_s']:,.0f} stores/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
