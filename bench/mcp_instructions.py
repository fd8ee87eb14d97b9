"""Instructions per MCP call over stdio, ours against the bare ``MCPServer`` floor: a count
that does not move with the load of this shared machine (``valgrind --tool=callgrind``).

Each server runs under callgrind (every thread counted), driven by the SDK's client over
stdio as in ``bench_mcp``. After a warm-up its counters are zeroed (``callgrind_control
--zero``), ``--calls`` calls of one tool follow, and the counters are dumped
(``callgrind_control --dump``): the dump's total over the calls is the server's
instructions per call, start-up and shutdown left out. Our server's background indexer
is off (``MEMORY_LIFECYCLE_INDEX_SECONDS=0``): it wakes every 2 s whatever the calls, and
under callgrind 200 calls take minutes, so it would be counted as if per call. Slow
(callgrind runs the server ~50x slower): not part of ``make bench``; run it by hand:

    .venv/bin/python -m bench.mcp_instructions [--calls 200]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from bench.bench_mcp import FLOOR_SERVER, ROOT, _arguments, _children, _clean_env

CASES = (("floor", "bench_noop"), ("ours", "bench_noop"), ("ours", "memory_store"))


def _params(which: str, memory_dir: Path, out: str) -> StdioServerParameters:
    env = _clean_env(ROOT)
    if which == "floor":
        args = [str(FLOOR_SERVER)]
    else:
        env.update(
            MEMORY_LIFECYCLE_BENCH_NOOP="1",
            MEMORY_LIFECYCLE_LOG_LEVEL="WARNING",
            MEMORY_LIFECYCLE_INDEX_SECONDS="0",
        )
        args = ["-m", "server", "--memory-dir", str(memory_dir), "--maintenance-interval", "3600"]
    valgrind = ["--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, *args]
    return StdioServerParameters(command="valgrind", args=valgrind, env=env, cwd=str(ROOT))


def _control(action: str, pid: int) -> None:
    subprocess.run(["callgrind_control", action, str(pid)], check=True, capture_output=True)


def _total(path: str) -> int:
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise ValueError(f"no totals in {path}")


async def measure(which: str, tool: str, calls: int, keep: Path | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/callgrind.out"
        known = _children()
        params = _params(which, Path(tmp) / "memory", out)
        async with Client(params, mode="legacy", read_timeout_seconds=600) as client:  # type: ignore[arg-type]
            (pid,) = _children() - known
            for i in range(30):  # warm up: imports, worker threads, SQLite's page cache
                await client.call_tool(tool, _arguments(tool, i))
            _control("--zero", pid)
            for i in range(calls):
                result = await client.call_tool(tool, _arguments(tool, i))
                if result.is_error:
                    raise RuntimeError(f"{which} {tool} failed: {result.content}")
            _control("--dump", pid)
            dumps = sorted(glob.glob(out + ".*"), key=os.path.getmtime)
            if keep is not None:  # for callgrind_annotate
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(dumps[-1], keep / f"callgrind.{which}.{tool}")
            return _total(dumps[-1]) / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200, help="timed calls per case")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the dumps in DIR")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind (callgrind) is not installed", file=sys.stderr)
        return 1
    counts = {case: anyio.run(measure, *case, args.calls, args.keep) for case in CASES}
    floor = counts[("floor", "bench_noop")]
    print(f"server instructions per call over stdio ({args.calls} calls each, callgrind)")
    for (which, tool), count in counts.items():
        print(f"  {which:<7}{tool:<15}{count / 1e6:>8.3f} M  {count / floor:>5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
