"""Instructions per write, ours against the same-work floor: a count that does not move with
the load of this shared machine (``valgrind --tool=callgrind``).

Each case runs in a fresh process under callgrind, counting only what runs inside
``functools.reduce`` (``--toggle-collect``), after a warm-up outside it:

- ``bulk-status`` / ``bulk-text``: ``store_many`` of 3 batches of 1,000 new keys (the values of
  ``bench_bulk``), against ``bench_bulk``'s floor writing the rows ours wrote
  (``write_floor``: one transaction, one ``executemany`` per kind of row);
- ``store-new-text``: 600 single stores that change an existing key's indexed text (the
  "store, new text" case of ``bench_engine``), against its ``Floor``.

Slow (callgrind runs ~50x slower): not part of ``make bench``; run it by hand, and point
``PYTHONPATH`` at another tree to count that tree's engine with the same harness:

    .venv/bin/python -m bench.write_instructions [CASE ...]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_hooks import instructions

CASES = {"bulk-status": 3000, "bulk-text": 3000, "store-new-text": 600}
KEYS = 500  # existing keys a "new text" store rewrites


def _bulk(kind: str, side: str, tmp: Path) -> None:
    from bench.bench_bulk import BATCH, STATUS, _batch_rows, write_floor
    from bench.corpus import Corpus
    from lifecycle import MemoryLifecycleManager

    corpus = Corpus()
    value: Callable[[int], Any] = (lambda i: STATUS) if kind == "status" else corpus.value
    batches = [
        [
            {"key": f"notes/bulk/{i:07d}", "value": value(i)}
            for i in range(b * BATCH, (b + 1) * BATCH)
        ]
        for b in range(4)
    ]
    m = MemoryLifecycleManager(store=str(tmp / "ours.db"))
    m.store("notes/warm", 1)
    if side == "ours":
        m.store_many(batches[0])
        functools.reduce(lambda _, b: m.store_many(b), batches[1:], None)
    else:  # the rows ours wrote, written again by the floor
        for b in batches:
            m.store_many(b)
        target = tmp / "floor.db"
        MemoryLifecycleManager(store=str(target)).close()  # the same schema
        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        source = sqlite3.connect(tmp / "ours.db")
        rows = [_batch_rows(source, [item["key"] for item in b]) for b in batches]
        write_floor(conn, rows[0])
        functools.reduce(lambda _, r: write_floor(conn, r), rows[1:], None)
        conn.close()
        source.close()
    m.close()


def _store_new_text(side: str, tmp: Path) -> None:
    from bench.bench_engine import Floor, status
    from lifecycle import ManualClock, MemoryLifecycleManager

    now = time.time()
    m = MemoryLifecycleManager(memory_dir=tmp / "engine", clock=ManualClock(now))
    raw = Floor(tmp / "floor.db")
    for i in range(KEYS):
        m.store(f"coordination/k{i}", status(0))
        raw.store(f"coordination/k{i}", status(0), now)

    def ours(i: int) -> None:
        m.store(f"coordination/k{i % KEYS}", status(i, f"note {i}"))

    def floor(i: int) -> None:
        raw.store(f"coordination/k{i % KEYS}", status(i, f"note {i}"), now)

    write = ours if side == "ours" else floor
    for i in range(100):  # warm-up, not counted
        write(i)
    functools.reduce(lambda _, i: write(i), range(100, 100 + CASES["store-new-text"]), None)
    raw.conn.close()
    m.close()


def run_case(case: str, side: str) -> None:
    """The counted work of one side (the child process under callgrind)."""
    with tempfile.TemporaryDirectory() as tmp:
        if case == "store-new-text":
            _store_new_text(side, Path(tmp))
        else:
            _bulk(case.removeprefix("bulk-"), side, Path(tmp))


def count(case: str, side: str) -> float:
    """Instructions (millions) inside ``functools.reduce`` of one side, in a fresh process
    (``bench_hooks.instructions``, with callgrind's toggle before the program)."""
    argv = ["--toggle-collect=functools_reduce", sys.executable, "-m", "bench.write_instructions"]
    return instructions([*argv, "--child", case, side], Path.cwd(), dict(os.environ))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"of {', '.join(CASES)} (default: all)")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_case(*args.child)
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}: choose from {', '.join(CASES)}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    print(f"instructions per write (callgrind); engine from {_engine_tree()}; load {_load()}")
    for case in args.cases or list(CASES):
        n = CASES[case]
        ours, floor = count(case, "ours") * 1e6 / n, count(case, "floor") * 1e6 / n
        print(
            f"  {case:16} ours {ours / 1e3:8.1f}k  floor {floor / 1e3:8.1f}k  {ours / floor:.2f}x"
        )
    return 0


def _engine_tree() -> str:
    import lifecycle

    return str(Path(lifecycle.__file__).parent.parent)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    sys.exit(main())
