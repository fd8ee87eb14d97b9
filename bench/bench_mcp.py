"""MCP round trips over real stdio against the SDK's floor: a no-op tool on the same server.

The server runs as editors run it (``python -m server``, a subprocess spoken to by the
SDK's client over stdin/stdout) with ``MEMORY_LIFECYCLE_BENCH_NOOP=1``, which adds the
``bench_noop`` tool: a sync tool returning a one-field model, so it pays everything a real
tool pays (JSON-RPC framing, validation, worker thread, structured output) except the
engine. Calls are interleaved in rounds so drift on a shared machine hits all three alike.

Aim (issue 3): memory_retrieve and memory_store within 1.2x of the no-op's median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

VALUE = {"task_id": "task-123", "status": "running", "step": 3, "notes": "x" * 120}
AIM = 1.2


def _params(memory_dir: Path) -> StdioServerParameters:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MEMORY_LIFECYCLE_") and k != "CLAUDE_PROJECT_DIR"
    }
    env.update(MEMORY_LIFECYCLE_BENCH_NOOP="1", MEMORY_LIFECYCLE_LOG_LEVEL="WARNING")
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "server", "--memory-dir", str(memory_dir), "--maintenance-interval", "3600"],
        env=env,
    )


async def _timed(call: Callable[[], Awaitable[Any]], samples: list[float]) -> None:
    start = time.perf_counter()
    result = await call()
    samples.append(time.perf_counter() - start)
    if result.is_error:
        raise RuntimeError(f"benchmark call failed: {result.content}")


async def run(calls: int, rounds: int, mode: str) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"bench_noop": [], "memory_retrieve": [], "memory_store": []}
    with tempfile.TemporaryDirectory() as tmp:
        async with Client(_params(Path(tmp) / "memory"), mode=mode) as client:  # type: ignore[arg-type]
            for i in range(50):
                await client.call_tool(
                    "memory_store", {"key": f"coordination/k{i}", "value": VALUE}
                )
            for _ in range(20):  # warm up: imports, thread pool, SQLite page cache
                await client.call_tool("bench_noop", {})
                await client.call_tool("memory_retrieve", {"key": "coordination/k0"})
            per_round = max(1, calls // rounds)
            for r in range(rounds):
                for i in range(per_round):
                    key = f"coordination/k{(r * per_round + i) % 50}"
                    await _timed(lambda: client.call_tool("bench_noop", {}), samples["bench_noop"])
                    await _timed(
                        lambda k=key: client.call_tool("memory_retrieve", {"key": k}),
                        samples["memory_retrieve"],
                    )
                    await _timed(
                        lambda k=key: client.call_tool("memory_store", {"key": k, "value": VALUE}),
                        samples["memory_store"],
                    )
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few dozen calls: checks it runs")
    parser.add_argument(
        "--mode", default="legacy", choices=("legacy", "auto"), help="client handshake mode"
    )
    args = parser.parse_args(argv)
    calls, rounds = (30, 3) if args.quick else (1500, 5)
    samples = anyio.run(run, calls, rounds, args.mode)
    floor = statistics.median(samples["bench_noop"]) * 1000
    print(f"MCP over stdio ({args.mode} handshake), {len(samples['bench_noop'])} calls per tool")
    print(f"{'tool':<18}{'median':>10}{'p90':>10}{'vs floor':>10}")
    for name, values in samples.items():
        median = statistics.median(values) * 1000
        p90 = statistics.quantiles(values, n=10)[-1] * 1000
        print(f"{name:<18}{median:>8.3f}ms{p90:>8.3f}ms{median / floor:>9.2f}x")
    worst = max(statistics.median(samples[n]) * 1000 / floor for n in samples)
    print(f"aim: within {AIM}x of bench_noop; worst {worst:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
