"""MCP round trips over real stdio against the SDK's floor: a no-op tool on the same server.

The server runs as editors run it (``python -m server``, a subprocess spoken to by the
SDK's client over stdin/stdout) with ``MEMORY_LIFECYCLE_BENCH_NOOP=1``, which adds the
``bench_noop`` tool: a sync tool returning a one-field model, so it pays everything a real
tool pays (JSON-RPC framing, validation, worker thread, structured output) except the
engine. Calls are interleaved in rounds so drift on a shared machine hits all three alike;
``--baseline DIR`` runs a second server from another source tree (the code before a
change) in the same rounds, call by call, for a before/after that shares the machine's load.

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
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

VALUE = {"task_id": "task-123", "status": "running", "step": 3, "notes": "x" * 120}
AIM = 1.2
TOOLS = ("bench_noop", "memory_retrieve", "memory_store")
BLOCK = 25  # calls of each tool on one server before the next server's turn
ROOT = Path(__file__).resolve().parent.parent


def _params(memory_dir: Path, root: Path) -> StdioServerParameters:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MEMORY_LIFECYCLE_") and k != "CLAUDE_PROJECT_DIR"
    }
    env.update(MEMORY_LIFECYCLE_BENCH_NOOP="1", MEMORY_LIFECYCLE_LOG_LEVEL="WARNING")
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "server", "--memory-dir", str(memory_dir), "--maintenance-interval", "3600"],
        env=env,
        cwd=str(root),  # `python -m` puts the working directory first on sys.path
    )


async def _timed(call: Callable[[], Awaitable[Any]], samples: list[float]) -> None:
    start = time.perf_counter()
    result = await call()
    samples.append(time.perf_counter() - start)
    if result.is_error:
        raise RuntimeError(f"benchmark call failed: {result.content}")


Samples = dict[str, list[list[float]]]  # tool -> one list of seconds per round


async def run(calls: int, rounds: int, mode: str, roots: dict[str, Path]) -> dict[str, Samples]:
    """Every server (one per source tree in ``roots``) gets the same calls, interleaved
    call by call: the floor, the tools and the trees share whatever the machine does."""
    samples = {label: {tool: [[] for _ in range(rounds)] for tool in TOOLS} for label in roots}
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            clients = {}
            for label, root in roots.items():
                memory = Path(tmp) / label / "memory"
                memory.parent.mkdir()
                client = Client(_params(memory, root), mode=mode)  # type: ignore[arg-type]
                clients[label] = await stack.enter_async_context(client)
            for client in clients.values():
                for i in range(50):
                    await client.call_tool(
                        "memory_store", {"key": f"coordination/k{i}", "value": VALUE}
                    )
                for _ in range(20):  # warm up: imports, thread pool, SQLite page cache
                    await client.call_tool("bench_noop", {})
                    await client.call_tool("memory_retrieve", {"key": "coordination/k0"})
            per_round = max(1, calls // rounds)
            for r in range(rounds):
                # blocks of calls per server: within a block each server sees the pattern a
                # lone server sees (the floor right after a store); the first calls after a
                # switch wake an idle process, a cost the medians leave out
                for start in range(0, per_round, BLOCK):
                    for label, client in clients.items():
                        got = samples[label]
                        for i in range(start, min(start + BLOCK, per_round)):
                            key = f"coordination/k{(r * per_round + i) % 50}"
                            await _timed(
                                lambda c=client: c.call_tool("bench_noop", {}),
                                got["bench_noop"][r],
                            )
                            await _timed(
                                lambda c=client, k=key: c.call_tool("memory_retrieve", {"key": k}),
                                got["memory_retrieve"][r],
                            )
                            await _timed(
                                lambda c=client, k=key: c.call_tool(
                                    "memory_store", {"key": k, "value": VALUE}
                                ),
                                got["memory_store"][r],
                            )
    return samples


def report(label: str, samples: Samples) -> float:
    """Print one server's medians and ratios to its floor (the whole run's medians, and
    the range of the per-round ratios); return its worst ratio."""
    every = {tool: [x for part in rounds for x in part] for tool, rounds in samples.items()}
    floor = statistics.median(every["bench_noop"])
    print(
        f"{label}: {len(every['bench_noop'])} calls per tool in {len(samples['bench_noop'])} rounds"
    )
    print(f"  {'tool':<18}{'median':>10}{'p90':>10}{'vs floor':>10}{'per round':>16}")
    worst = 0.0
    for tool, values in every.items():
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        per_round = [
            statistics.median(part) / statistics.median(base)
            for part, base in zip(samples[tool], samples["bench_noop"], strict=True)
        ]
        ratio = median / floor
        worst = max(worst, ratio)
        print(
            f"  {tool:<18}{median * 1000:>8.3f}ms{p90 * 1000:>8.3f}ms{ratio:>9.2f}x"
            f"{min(per_round):>9.2f}-{max(per_round):.2f}x"
        )
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few dozen calls: checks it runs")
    parser.add_argument(
        "--mode", default="legacy", choices=("legacy", "auto"), help="client handshake mode"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also run the server from this source tree (e.g. `git archive` of the base "
        "commit), interleaved call by call with this one: before/after in one run",
    )
    args = parser.parse_args(argv)
    calls, rounds = (30, 3) if args.quick else (1500, 5)
    roots = {"this tree": ROOT}
    if args.baseline is not None:
        roots = {"baseline": args.baseline.resolve(), **roots}
    samples = anyio.run(run, calls, rounds, args.mode, roots)
    print(f"MCP over stdio ({args.mode} handshake); load: {os.getloadavg()[0]:.2f}")
    worst = {label: report(label, got) for label, got in samples.items()}
    mine = worst["this tree"]
    verdict = "met" if mine <= AIM else "missed"
    print(f"aim: within {AIM}x of bench_noop; worst {mine:.2f}x: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
