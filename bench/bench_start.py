"""The stdio server's start: exec to the ``initialize`` answer, ours against a bare
``MCPServer``, in one run (issue 24).

An editor starts the server at every session (Claude Code, from every subfolder too) and
Gemini CLI's ``gemini mcp list`` gives it 5 s to start and answer; so what counts is the
time from ``exec`` until the answer to the first request. Two servers, on the same
interpreter, started as editors start them:

- the floor, ``bench/mcp_floor_server.py``: the SDK's ``MCPServer`` with one no-op tool over
  the SDK's own stdio (every SDK import it needs, nothing of ours);
- ours, ``python -m server --memory-dir FRESH serve``: a new, empty SQLite store each start.

Each start writes ``initialize`` at once (a client's pipe holds it until the server reads),
reads the answer, then sends ``notifications/initialized`` and ``tools/list`` and reads
that answer, then closes stdin and waits for the exit. Starts alternate (floor, ours, floor,
ours ...), so the load of this shared machine hits both alike; medians are reported of:
wall time to each answer, the child's CPU time up to each answer (``utime + stime`` of
``/proc/PID/stat``, every thread, in clock ticks), and its CPU over its whole life, to the
exit after stdin closes (``resource.getrusage(RUSAGE_CHILDREN)`` deltas).
``--baseline DIR`` adds our server from another source tree (the code before a change).

Unless ``--quick`` or ``--no-callgrind``, one start of each also runs under
``valgrind --tool=callgrind``, fed ``initialize`` and then the end of stdin, so it exits
right after answering: its instruction count (all threads, exec to exit) does not move with
the load. That takes a minute or two per server.

Aim: our start within 1.2x of the floor's (CPU to the ``initialize`` answer).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.bench_mcp import FLOOR_SERVER, ROOT, _clean_env

AIM = 1.2  # ours / the floor's CPU to the initialize answer
FLOOR = "floor"
OURS = "ours"
TICK = 1.0 / os.sysconf("SC_CLK_TCK")
HANDSHAKE_VERSION = "2025-11-25"  # what today's editors send

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": HANDSHAKE_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "bench-start", "version": "0"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def _line(message: dict[str, object]) -> bytes:
    return (json.dumps(message) + "\n").encode()


@dataclass
class Subject:
    """A server to start: its command line (``{dir}`` becomes a fresh folder) and tree."""

    label: str
    args: list[str]
    root: Path
    init_wall: list[float] = field(default_factory=list)
    init_cpu: list[float] = field(default_factory=list)
    list_wall: list[float] = field(default_factory=list)
    list_cpu: list[float] = field(default_factory=list)
    life_cpu: list[float] = field(default_factory=list)
    instructions: int | None = None


def _floor() -> Subject:
    return Subject(FLOOR, [str(FLOOR_SERVER)], ROOT)


def _ours(label: str, root: Path) -> Subject:
    return Subject(label, ["-m", "server", "--memory-dir", "{dir}", "serve"], root)


def _cpu(pid: int) -> float:
    """Seconds of CPU the process has used so far, every thread (ended ones too)."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * TICK  # utime, stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _answer(out: IO[bytes], request_id: int) -> dict[str, object]:
    while True:
        raw = out.readline()
        if not raw:
            raise RuntimeError(f"the server closed stdout before answering request {request_id}")
        message = json.loads(raw)
        if message.get("id") == request_id:
            if "result" not in message:
                raise RuntimeError(f"request {request_id} failed: {message}")
            return dict(message)


def start_once(subject: Subject, folder: Path) -> None:
    """One start, timed; appends to ``subject``'s series."""
    args = [a.replace("{dir}", str(folder)) for a in subject.args]
    cpu_before = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=subject.root,
        env=_clean_env(subject.root),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_line(INITIALIZE))
        proc.stdin.flush()
        _answer(proc.stdout, 1)
        subject.init_wall.append(time.perf_counter() - t0)
        subject.init_cpu.append(_cpu(proc.pid))
        proc.stdin.write(_line(INITIALIZED) + _line(TOOLS_LIST))
        proc.stdin.flush()
        tools = _answer(proc.stdout, 2)["result"]
        subject.list_wall.append(time.perf_counter() - t0)
        subject.list_cpu.append(_cpu(proc.pid))
        if not tools or not tools.get("tools"):  # type: ignore[attr-defined]
            raise RuntimeError(f"{subject.label}: tools/list answered no tools")
        proc.stdin.close()
        proc.stdout.read()
        if proc.wait(timeout=60) != 0:
            raise RuntimeError(f"{subject.label} exited {proc.returncode}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    subject.life_cpu.append(_children_cpu() - cpu_before)


def count_instructions(subject: Subject, folder: Path) -> int:
    """Instructions of one start under callgrind: exec, ``initialize`` answered, exit at
    the end of stdin (every thread)."""
    args = [a.replace("{dir}", str(folder)) for a in subject.args]
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    done = subprocess.run(
        [*command, *args],
        input=_line(INITIALIZE),
        capture_output=True,
        cwd=subject.root,
        env=_clean_env(subject.root),
        timeout=900,
        check=False,
    )
    if b'"id":1' not in done.stdout.replace(b" ", b""):
        raise RuntimeError(
            f"{subject.label} under callgrind did not answer: {done.stderr[-500:]!r}"
        )
    found = re.findall(rb"Collected\s*:\s*(\d+)", done.stderr)
    if not found:
        raise RuntimeError(f"no instruction count from callgrind: {done.stderr[-500:]!r}")
    return int(found[-1])


def run(subjects: list[Subject], rounds: int, callgrind: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for subject in subjects:  # warm up: the page cache, .pyc files
            start_once(subject, Path(tmp) / f"warm-{subject.label}")
            for series in (subject.init_wall, subject.init_cpu, subject.list_wall):
                series.clear()
            subject.list_cpu.clear()
            subject.life_cpu.clear()
        for i in range(rounds):
            for subject in subjects:
                start_once(subject, Path(tmp) / f"{subject.label}-{i}")
        if callgrind:
            for subject in subjects:
                subject.instructions = count_instructions(
                    subject, Path(tmp) / f"cg-{subject.label}"
                )


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def report(subjects: list[Subject]) -> float:
    """Print the table; return ours / the floor's median CPU to the initialize answer."""
    floor = next(s for s in subjects if s.label == FLOOR)
    print(
        f"  {'server':<10}{'starts':>7}{'init wall':>11}{'init cpu':>10}{'x floor':>9}"
        f"{'list wall':>11}{'list cpu':>10}{'life cpu':>10}{'x floor':>9}{'instructions':>15}"
    )
    ratio = 0.0
    for s in subjects:
        init_ratio = _ms(s.init_cpu) / _ms(floor.init_cpu)
        count = "" if s.instructions is None else f"{s.instructions / 1e6:,.0f} M"
        if s.instructions is not None and floor.instructions:
            count += f" {s.instructions / floor.instructions:.2f}x"
        print(
            f"  {s.label:<10}{len(s.init_wall):>7}{_ms(s.init_wall):>9.0f}ms"
            f"{_ms(s.init_cpu):>8.0f}ms{init_ratio:>8.2f}x"
            f"{_ms(s.list_wall):>9.0f}ms{_ms(s.list_cpu):>8.0f}ms"
            f"{_ms(s.life_cpu):>8.0f}ms{_ms(s.life_cpu) / _ms(floor.life_cpu):>8.2f}x{count:>15}"
        )
        if s.label == OURS:
            ratio = init_ratio
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one start each: checks it runs")
    parser.add_argument("--rounds", type=int, default=9, help="starts per server (default 9)")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction count")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also start our server from this source tree (e.g. `git archive` of the base "
        "commit), in the same rounds: before/after in one run",
    )
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    callgrind = not (args.quick or args.no_callgrind)
    if callgrind and shutil.which("valgrind") is None:
        print("valgrind is not installed: no instruction counts", file=sys.stderr)
        callgrind = False
    subjects = [_floor()]
    if args.baseline is not None:
        subjects.append(_ours("baseline", args.baseline.resolve()))
    subjects.append(_ours(OURS, ROOT))
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    run(subjects, rounds, callgrind)
    print(
        f"stdio server start (exec -> initialize, then tools/list), Python "
        f"{sys.version.split()[0]}; {rounds} interleaved starts per server, "
        f"{time.perf_counter() - started:.0f} s; 1-minute load {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    ratio = report(subjects)
    verdict = "met" if ratio <= AIM else "missed"
    print(
        f"aim: our CPU to the initialize answer within {AIM}x of the floor's: "
        f"{ratio:.2f}x {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
