"""MCP round trips over real stdio, ours against the SDK's bare ``MCPServer`` in one run.

Two servers run as editors run them, subprocesses spoken to by the SDK's client over
stdin/stdout, on the same interpreter:

- the floor, ``bench/mcp_floor_server.py``: the SDK's ``MCPServer`` with one no-op tool
  and nothing of ours;
- ours, ``python -m server`` with ``MEMORY_LIFECYCLE_BENCH_NOOP=1``, which adds the same
  no-op tool (``bench_noop``: a sync tool returning a one-field model) beside the real ones.

Calls go in blocks of ``BLOCK`` calls of one tool on one server, the blocks interleaved
(floor, ours, floor, ours ...) round after round, so the load of this shared machine hits
both alike. Reported per tool: the median wall time per call, the median CPU time per
call of the server process (all its threads, from ``/proc/PID/task/*/schedstat``, in
nanoseconds, so a busy machine's waiting is left out) and of this client
(``time.process_time``), and the ratio to the floor's no-op. ``--baseline DIR`` adds a
third server from another source tree (the code before a change) to the same rounds.

Aims (issue 24): our ``bench_noop`` within 1.15x of the floor's, ``memory_store`` within
1.6x of the floor's no-op.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

VALUE = {"task_id": "task-123", "status": "running", "step": 3, "notes": "x" * 120}
AIMS = {"bench_noop": 1.15, "memory_store": 1.6}  # ours / the floor's bench_noop
OUR_TOOLS = ("bench_noop", "memory_retrieve", "memory_store")
FLOOR = "floor"
OURS = "ours"
BLOCK = 25  # calls of one tool on one server before the next block
ROOT = Path(__file__).resolve().parent.parent
FLOOR_SERVER = Path(__file__).resolve().parent / "mcp_floor_server.py"


def _clean_env(root: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MEMORY_LIFECYCLE_") and k != "CLAUDE_PROJECT_DIR"
    }
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _ours(memory_dir: Path, root: Path) -> StdioServerParameters:
    env = _clean_env(root)
    env.update(MEMORY_LIFECYCLE_BENCH_NOOP="1", MEMORY_LIFECYCLE_LOG_LEVEL="WARNING")
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "server", "--memory-dir", str(memory_dir), "--maintenance-interval", "3600"],
        env=env,
        cwd=str(root),  # `python -m` puts the working directory first on sys.path
    )


def _floor() -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=[str(FLOOR_SERVER)], env=_clean_env(ROOT), cwd=str(ROOT)
    )


def _children() -> set[int]:
    """The pids of this process's children (the servers the SDK's client started)."""
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2 :].split()[1] == me:
            found.add(int(entry))
    return found


def _thread_cpu(pid: int) -> dict[str, int]:
    """Nanoseconds on a CPU so far, per thread of ``pid``."""
    out = {}
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/schedstat") as f:
                out[tid] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return out


def _cpu_since(pid: int, before: dict[str, int]) -> float:
    """Seconds of CPU the process's threads used since ``before`` (threads that ended
    meanwhile are missed; the SDK's worker threads live as long as calls keep coming)."""
    now = _thread_cpu(pid)
    return sum(ns - before.get(tid, 0) for tid, ns in now.items()) / 1e9


@dataclass
class Series:
    """One tool on one server: wall seconds per call, and CPU seconds per call per block."""

    wall: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)
    round_medians: list[float] = field(default_factory=list)


@dataclass
class Server:
    label: str
    client: Any
    pid: int
    tools: tuple[str, ...]
    series: dict[str, Series] = field(default_factory=dict)


def _arguments(tool: str, i: int) -> dict[str, Any]:
    key = f"coordination/k{i % 50}"
    if tool == "memory_store":
        return {"key": key, "value": VALUE}
    if tool == "memory_retrieve":
        return {"key": key}
    return {}


async def _block(server: Server, tool: str, start: int, calls: int, walls: list[float]) -> None:
    series = server.series[tool]
    cpu_before = _thread_cpu(server.pid)
    client_before = time.process_time()
    for i in range(start, start + calls):
        arguments = _arguments(tool, i)
        t0 = time.perf_counter()
        result = await server.client.call_tool(tool, arguments)
        walls.append(time.perf_counter() - t0)
        if result.is_error:
            raise RuntimeError(f"{server.label} {tool} failed: {result.content}")
    series.client_cpu.append((time.process_time() - client_before) / calls)
    series.server_cpu.append(_cpu_since(server.pid, cpu_before) / calls)


async def run(calls: int, rounds: int, mode: str, baseline: Path | None) -> list[Server]:
    """Start the servers, warm them up, then time ``calls`` calls of each tool on each
    server in ``rounds`` rounds of interleaved blocks."""
    specs: list[tuple[str, Any, tuple[str, ...]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        specs.append((FLOOR, _floor(), ("bench_noop",)))
        if baseline is not None:
            specs.append(("baseline", _ours(Path(tmp) / "baseline", baseline), OUR_TOOLS))
        specs.append((OURS, _ours(Path(tmp) / "ours", ROOT), OUR_TOOLS))
        async with AsyncExitStack() as stack:
            servers = []
            for label, params, tools in specs:
                known = _children()
                client = await stack.enter_async_context(Client(params, mode=mode))  # type: ignore[arg-type]
                (pid,) = _children() - known
                servers.append(Server(label, client, pid, tools, {t: Series() for t in tools}))
            for server in servers:  # warm up: imports, worker threads, SQLite's page cache
                for i in range(60):
                    for tool in server.tools:
                        await server.client.call_tool(tool, _arguments(tool, i))
            per_round = max(1, calls // rounds)
            for _ in range(rounds):
                walls: dict[tuple[str, str], list[float]] = {}
                for start in range(0, per_round, BLOCK):
                    n = min(BLOCK, per_round - start)
                    for tool in OUR_TOOLS:
                        for server in servers:
                            if tool in server.tools:
                                got = walls.setdefault((server.label, tool), [])
                                await _block(server, tool, start, n, got)
                for (label, tool), got in walls.items():
                    series = next(s for s in servers if s.label == label).series[tool]
                    series.wall.extend(got)
                    series.round_medians.append(statistics.median(got))
    return servers


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def report(servers: list[Server]) -> dict[str, float]:
    """Print the table; return ours / the floor's no-op per aimed tool (wall medians)."""
    floor = next(s for s in servers if s.label == FLOOR).series["bench_noop"]
    floor_wall = statistics.median(floor.wall)
    floor_cpu = statistics.median(floor.server_cpu)
    print(
        f"  {'server':<10}{'tool':<17}{'calls':>6}{'wall ms':>9}{'p90':>8}{'x floor':>8}"
        f"{'rounds':>12}{'srv cpu ms':>11}{'x floor':>8}{'cli cpu ms':>11}"
    )
    ratios: dict[str, float] = {}
    for server in servers:
        for tool, series in server.series.items():
            wall = statistics.median(series.wall)
            p90 = statistics.quantiles(series.wall, n=10)[-1]
            cpu = statistics.median(series.server_cpu)
            per_round = [
                m / f for m, f in zip(series.round_medians, floor.round_medians, strict=True)
            ]
            print(
                f"  {server.label:<10}{tool:<17}{len(series.wall):>6}{_ms(wall):>9}"
                f"{_ms(p90):>8}{wall / floor_wall:>7.2f}x"
                f"{min(per_round):>6.2f}-{max(per_round):.2f}x"
                f"{_ms(cpu):>11}{cpu / floor_cpu:>7.2f}x"
                f"{_ms(statistics.median(series.client_cpu)):>11}"
            )
            if server.label == OURS and tool in AIMS:
                ratios[tool] = wall / floor_wall
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few dozen calls: checks it runs")
    parser.add_argument(
        "--mode", default="legacy", choices=("legacy", "auto"), help="client handshake mode"
    )
    parser.add_argument("--calls", type=int, help="calls per tool per server (default 1500)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also run our server from this source tree (e.g. `git archive` of the base "
        "commit), in the same rounds: before/after in one run",
    )
    args = parser.parse_args(argv)
    calls, rounds = (50, 2) if args.quick else (args.calls or 1500, args.rounds)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    servers = anyio.run(run, calls, rounds, args.mode, args.baseline)
    print(
        f"MCP over stdio ({args.mode} handshake), Python {sys.version.split()[0]}; "
        f"{calls} calls per tool per server in {rounds} rounds of {BLOCK}-call blocks, "
        f"{time.perf_counter() - started:.0f} s; 1-minute load {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    ratios = report(servers)
    for tool, aim in AIMS.items():
        verdict = "met" if ratios[tool] <= aim else "missed"
        print(f"aim: ours {tool} within {aim}x of the floor's no-op: {ratios[tool]:.2f}x {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
