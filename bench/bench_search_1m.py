"""A word found in every entry, at 1,000,000 entries (issue 24): search and 5 pages.

Keys ``knowledge/topicN/noteM`` (1,000 topics), each value two short strings, so the
namespace segment ``knowledge`` is in every entry: the worst query for a ranking that
scores every match. The store is built once with ``store_many`` and cached under
``~/.cache/memory-lifecycle/bench`` (``--rebuild`` makes it again); ``--quick`` builds
30,000 entries in a temporary folder (still above the cut-off, so the same path runs).

Timed in one run, interleaved (ours, floors, ours, ...), medians of wall and CPU time
(``time.process_time``; the machine is shared, the 1-minute load is recorded):

page 1          ``search("knowledge", mode="keyword")``: 10 results
5 pages         the same, then 4 more pages through ``next_cursor``
full window     a page starting in the second-newest window, which is full (the newest
                may hold a few matches only): the most one window costs to score
count floor     ``SELECT count(*) ... MATCH 'knowledge'``: reading every match once
newest floor    FTS5's newest 10 matches by rowid, joined, values decoded
rank floor      FTS5's ``ORDER BY rank LIMIT 10`` (bm25 over every match; a few rounds)
uncut           ours with the cut-off disabled (the exact ranking of before; a few rounds)

Aim: page 1 under ~100 ms. The 5 pages are checked for duplicates and order.

``--postgres URL`` measures PostgreSQL too (``--postgres-only``: only it), the same rows
built the same way in a schema of their own (``ml_bench_search_every_word_N_v1``, kept
for the next run; ``--drop-postgres`` drops it after measuring; with ``--quick``, a
temporary schema of 30,000 entries), then ``VACUUM ANALYZE``. Its floors: ``count(*)`` of
``search @@ 'knowledge'``, the newest 10 matches by revision with their values, and every
match ranked by ``ts_rank`` in SQL (``ORDER BY ts_rank(...) LIMIT 10``); "uncut" is ours
with the cut-off disabled. CPU time there is the client's plus its server backends' (read
from ``/proc/PID/schedstat``: the server must run on this machine), with parallel query
off so that every statement's work is in the backend measured (the exact ranking before
the cut-off, with its two parallel workers, took about half the wall time for about
three times the CPU). Without a URL the PostgreSQL part is skipped.

    python -m bench.bench_search_1m [--quick] [--entries N] [--rebuild] [--rounds N] [--json]
                                    [--postgres URL] [--postgres-only] [--drop-postgres]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bench.common import _drop_schema, _with_schema, fresh_schema
from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.search.keyword import encode_cursor
from lifecycle.search.syntax import fingerprint, parse
from lifecycle.store.sqlite import search_window

CACHE = Path.home() / ".cache" / "memory-lifecycle" / "bench"
BATCH = 1000
TOPICS = 1000
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def _value(i: int) -> dict[str, str]:
    w = WORDS
    return {
        "title": f"{w[i % 8]} note {i % 97}",
        "text": f"{w[i // 8 % 8]} {w[i // 64 % 8]} finding {i % 1013}",
    }


def build(path: Path | str, entries: int) -> float:
    """Store ``entries`` entries through the store's bulk API (``path``: a SQLite file or
    a PostgreSQL URL); return seconds taken."""
    started = time.perf_counter()
    with MemoryLifecycleManager(store=str(path), clock=ManualClock(1.7e9)) as m:
        for start in range(0, entries, BATCH):
            m.store_many(
                [
                    {"key": f"knowledge/topic{i % TOPICS}/note{i}", "value": _value(i)}
                    for i in range(start, min(entries, start + BATCH))
                ]
            )
    return time.perf_counter() - started


def cached_store(entries: int, rebuild: bool) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"search-every-word-{entries}-v1.db"
    done = path.with_suffix(".built")
    if rebuild or not done.exists():
        for stale in (path, path.with_suffix(".db-wal"), path.with_suffix(".db-shm"), done):
            stale.unlink(missing_ok=True)
        took = build(path, entries)
        done.write_text(f"{took:.1f} s\n")
    return path


def _pages(m: MemoryLifecycleManager, count: int) -> list[dict[str, Any]]:
    pages = []
    cursor = None
    for _ in range(count):
        page = m.search("knowledge", mode="keyword", cursor=cursor)
        pages.append(page)
        cursor = page["next_cursor"]
    return pages


def check_pages(pages: list[dict[str, Any]]) -> None:
    """Five full pages, no key twice, scores never rising."""
    keys = [r["key"] for p in pages for r in p["results"]]
    scores = [r["score"] for p in pages for r in p["results"]]
    assert len(keys) == 10 * len(pages), len(keys)
    assert len(set(keys)) == len(keys), "a key repeated across pages"
    assert all(a >= b for a, b in itertools.pairwise(scores)), "order broken"


_NEWEST = (
    "SELECT e.key, e.payload FROM search CROSS JOIN entries AS e ON e.id = search.rowid "
    "WHERE search MATCH ? ORDER BY search.rowid DESC LIMIT 10"
)
_RANK = (
    "SELECT e.key, e.payload FROM search JOIN entries AS e ON e.id = search.rowid "
    "WHERE search MATCH ? ORDER BY rank LIMIT 10"
)


def _values(rows: list[tuple[str, bytes]]) -> list[Any]:
    return [json.loads(p) for _, p in rows]


def measure(path: Path, rounds: int, slow_rounds: int) -> dict[str, float]:
    out: dict[str, float] = {"load_1min": os.getloadavg()[0]}
    with MemoryLifecycleManager(store=str(path), clock=ManualClock(1.7e9)) as m:
        conn = sqlite3.connect(path)
        out["entries"] = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        m.search("warm up", mode="keyword")
        first = _pages(m, 5)
        check_pages(first)
        out["cut_off"] = float(bool(first[0].get("cut_off")))
        full = _full_window_cursor(first[0]["results"][0]["score"])
        kinds: dict[str, Callable[[], object]] = {
            "page1": lambda: m.search("knowledge", mode="keyword"),
            "full_window": lambda: m.search("knowledge", mode="keyword", cursor=full),
            "pages5": lambda: _pages(m, 5),
            "count_floor": lambda: conn.execute(
                "SELECT count(*) FROM search WHERE search MATCH 'knowledge'"
            ).fetchone(),
            "newest_floor": lambda: _values(conn.execute(_NEWEST, ("knowledge",)).fetchall()),
        }
        slow: dict[str, Callable[[], object]] = {
            "rank_floor": lambda: _values(conn.execute(_RANK, ("knowledge",)).fetchall()),
            "uncut": lambda: _uncut(m),
        }
        wall: dict[str, list[float]] = {k: [] for k in (*kinds, *slow)}
        cpu: dict[str, list[float]] = {k: [] for k in wall}
        for i in range(rounds):
            todo = dict(kinds, **(slow if i < slow_rounds else {}))
            for name, run in todo.items():
                c0, w0 = time.process_time(), time.perf_counter()
                run()
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.process_time() - c0)
        conn.close()
    for name in wall:
        out[f"{name}_wall_ms"] = statistics.median(wall[name]) * 1000
        out[f"{name}_cpu_ms"] = statistics.median(cpu[name]) * 1000
    out["load_1min_after"] = os.getloadavg()[0]
    return out


def _full_window_cursor(top_score: float) -> str:
    """A cursor at the top of the second-newest window: the newest may hold a few matches
    only, the second is full (the most a page scores when it ends in one window)."""
    below = math.floor(top_score) - 1e-9
    return encode_cursor(below, "", fingerprint(parse("knowledge"), "", ()))


def _uncut(m: MemoryLifecycleManager) -> object:
    """Ours with the ranking never cut: every match scored, as before issue 24."""
    saved = search_window.CUT_OFF
    search_window.CUT_OFF = 1 << 62
    try:
        return m.search("knowledge", mode="keyword")
    finally:
        search_window.CUT_OFF = saved


# ------------------------------------------------------------------ PostgreSQL

PG_SCHEMA = "ml_bench_search_every_word_{entries}_v1"
_BUILT = "bench_search_1m:built"  # the ``meta`` row a finished build leaves
_TSQUERY = "'knowledge'::tsquery"
_PG_NEWEST = (
    f"SELECT key, payload FROM entries WHERE search @@ {_TSQUERY} AND NOT tombstone "
    "ORDER BY revision DESC LIMIT 10"
)
_PG_RANK = (
    f"SELECT key, payload FROM entries WHERE search @@ {_TSQUERY} AND NOT tombstone "
    f"ORDER BY ts_rank('{{0.5, 0.5, 0.5, 1.0}}'::real[], search, {_TSQUERY}, 1) DESC LIMIT 10"
)
_PG_COUNT = f"SELECT count(*) FROM entries WHERE search @@ {_TSQUERY}"


def _pg_connect(url: str) -> Any:
    """A plain connection to the schema ``url`` names (autocommit)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema")
    conn = psycopg.connect(urlunsplit(parts._replace(query=urlencode(query))), autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


def pg_cached_store(url: str, entries: int, rebuild: bool) -> str:
    """The store of ``entries`` in its own schema, built once (``--drop-postgres`` drops
    it): ``store_many`` as on SQLite, then ``VACUUM ANALYZE`` (what autovacuum would do
    after such a load, done at once so every run sees the same statistics)."""
    schema = PG_SCHEMA.format(entries=entries)
    schema_url = _with_schema(url, schema)
    if not rebuild:
        with _pg_connect(_with_schema(url, "public")) as conn:
            found = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}".meta',)
            ).fetchone()
            if found and found[0]:
                conn.execute(f'SET search_path TO "{schema}"')
                if conn.execute("SELECT 1 FROM meta WHERE name = %s", (_BUILT,)).fetchone():
                    return schema_url
    _drop_schema(url, schema)
    took = build(schema_url, entries)
    with _pg_connect(schema_url) as conn:
        conn.execute("VACUUM ANALYZE entries")
        conn.execute("INSERT INTO meta VALUES (%s, %s)", (_BUILT, f"{took:.1f} s"))
    return schema_url


_NO_WORKERS = 0


def _serial(url: str) -> str:
    """``url`` with parallel query off: a statement's work stays in its backend, whose CPU
    is counted (a parallel worker's is not, and the uncut ranking and the floors would
    take two of this machine's two cores)."""
    parts = urlsplit(url)
    option = ("options", f"-cmax_parallel_workers_per_gather={_NO_WORKERS}")
    query = [*parse_qsl(parts.query), option]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _server_cpu(pids: list[int]) -> float:
    """Seconds the server's backends ``pids`` ran on a CPU (``/proc/PID/schedstat``, the
    server is local): a search's CPU is the client's and its backend's."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e9


def _pg_values(rows: list[tuple[str, bytes]]) -> list[Any]:
    return [json.loads(bytes(p)) for _, p in rows]


def measure_postgres(url: str, rounds: int, slow_rounds: int) -> dict[str, float]:
    """As ``measure``, on PostgreSQL: ours against its floors, interleaved, wall and CPU
    (the client's ``process_time`` plus the backends' run time, both summed)."""
    from lifecycle.store.postgres import search_window as pg_window

    out: dict[str, float] = {"load_1min": os.getloadavg()[0]}
    with MemoryLifecycleManager(store=_serial(url), clock=ManualClock(1.7e9)) as m:
        conn = _pg_connect(url)
        conn.execute(f"SET max_parallel_workers_per_gather = {_NO_WORKERS}")
        out["entries"] = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        m.search("warm up", mode="keyword")
        first = _pages(m, 5)
        check_pages(first)
        out["cut_off"] = float(bool(first[0].get("cut_off")))
        full = _full_window_cursor(first[0]["results"][0]["score"])
        pool = m.backend._pool  # type: ignore[attr-defined]
        pids = [c.info.backend_pid for c in pool._idle] + [conn.info.backend_pid]
        opened = pool._size

        def uncut() -> object:
            saved = pg_window.CUT_OFF
            pg_window.CUT_OFF = 1 << 62
            try:
                return m.search("knowledge", mode="keyword")
            finally:
                pg_window.CUT_OFF = saved

        kinds: dict[str, Callable[[], object]] = {
            "page1": lambda: m.search("knowledge", mode="keyword"),
            "full_window": lambda: m.search("knowledge", mode="keyword", cursor=full),
            "pages5": lambda: _pages(m, 5),
            "count_floor": lambda: conn.execute(_PG_COUNT).fetchone(),
            "newest_floor": lambda: _pg_values(conn.execute(_PG_NEWEST).fetchall()),
        }
        slow: dict[str, Callable[[], object]] = {
            "rank_floor": lambda: _pg_values(conn.execute(_PG_RANK).fetchall()),
            "uncut": uncut,
        }
        wall: dict[str, list[float]] = {k: [] for k in (*kinds, *slow)}
        cpu: dict[str, list[float]] = {k: [] for k in wall}
        for i in range(rounds):
            todo = dict(kinds, **(slow if i < slow_rounds else {}))
            for name, run in todo.items():
                c0, s0, w0 = time.process_time(), _server_cpu(pids), time.perf_counter()
                run()
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.process_time() - c0 + _server_cpu(pids) - s0)
        assert pool._size == opened, "the pool opened a connection not measured"
        conn.close()
    for name in wall:
        out[f"{name}_wall_ms"] = statistics.median(wall[name]) * 1000
        out[f"{name}_cpu_ms"] = statistics.median(cpu[name]) * 1000
    out["load_1min_after"] = os.getloadavg()[0]
    return out


_ROWS = (
    ("page1", "ours, page 1"),
    ("pages5", "ours, 5 pages"),
    ("full_window", "ours, a full window's page"),
    ("count_floor", "floor: count the matches"),
    ("newest_floor", "floor: newest 10 + values"),
    ("rank_floor", "floor: rank all, 10 + values"),
    ("uncut", "ours uncut (before)"),
)


def _table(result: dict[str, float], backend: str, rounds: int) -> str:
    lines = [
        f"bench_search_1m: 'knowledge' in each of {result['entries']:,.0f} entries "
        f"({backend}, medians of {rounds} interleaved rounds, load {result['load_1min']:.1f}"
        f"-{result['load_1min_after']:.1f}; cut_off={bool(result['cut_off'])})",
        f"{'':30}{'wall ms':>10}{'CPU ms':>10}",
    ]
    for name, label in _ROWS:
        lines.append(
            f"{label:30}{result[f'{name}_wall_ms']:>10.1f}{result[f'{name}_cpu_ms']:>10.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30,000 entries, a few seconds")
    parser.add_argument("--entries", type=int, help="entries (default 1,000,000)")
    parser.add_argument("--rebuild", action="store_true", help="build the cached store again")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 30)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--postgres", metavar="URL", help="also measure this PostgreSQL server")
    parser.add_argument("--postgres-only", action="store_true", help="skip SQLite")
    parser.add_argument(
        "--drop-postgres", action="store_true", help="drop the cached PostgreSQL schema after"
    )
    args = parser.parse_args(argv)
    entries = args.entries or (30_000 if args.quick else 1_000_000)
    rounds = args.rounds or (5 if args.quick else 30)
    slow_rounds = 2 if args.quick else 3
    results: dict[str, dict[str, float]] = {}
    if not args.postgres_only:
        if args.quick:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "memory.db"
                build(path, entries)
                results["sqlite"] = measure(path, rounds, slow_rounds)
        else:
            store = cached_store(entries, args.rebuild)
            results["sqlite"] = measure(store, rounds, slow_rounds)
    if args.postgres:
        if args.quick:  # a schema of its own, dropped after
            with fresh_schema(args.postgres) as url:
                build(url, entries)
                results["postgresql"] = measure_postgres(url, rounds, slow_rounds)
        else:
            url = pg_cached_store(args.postgres, entries, args.rebuild)
            try:
                results["postgresql"] = measure_postgres(url, rounds, slow_rounds)
            finally:
                if args.drop_postgres:
                    _drop_schema(args.postgres, PG_SCHEMA.format(entries=entries))
    if args.json:
        flat: dict[str, Any] = dict(results.get("sqlite", {}))
        if "postgresql" in results:
            flat["postgresql"] = results["postgresql"]
        print(json.dumps(flat, indent=2))
        return 0
    for backend, result in results.items():
        print(_table(result, "SQLite" if backend == "sqlite" else "PostgreSQL", rounds))
    if not args.postgres:
        print("(PostgreSQL skipped: pass --postgres URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
