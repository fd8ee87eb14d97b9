"""Full-text search latency over 100,000 entries, on SQLite and PostgreSQL.

The store is loaded with ``store_many`` (batches of 1,000) from ``bench.corpus``:
about 40 words per entry in nested strings, Zipf-distributed over 20,000 words,
one of 20 tags each. Then ``search()`` is timed per query kind (a fresh query each
time, 10 results, the first page), median (p50) and p95:

two words      two words of middling frequency (ranks 100-2,000): a typical query
rare word      one word of ranks 2,000-10,000
phrase         two adjacent words of a stored sentence, quoted
prefix         the first four letters of a middling word, then '*'
two words+tag  a two-word query filtered by one tag (1 in 20 entries)
common word    one of the ten most frequent words: every other entry matches (worst case)

Aim (issue 14): SQLite p50 under 5 ms for a two-word query.

Then, on SQLite, one-word search against its floor (issue 24), in one run, interleaved
(ours, floor, ours, floor, ...), medians of wall and CPU time (``time.process_time``: the
machine is shared, and CPU time moves less with the load, which is recorded): ours is
``search(word, mode="keyword")``, the floor is FTS5's ``MATCH ... ORDER BY rank LIMIT 10``
on the same store's index, joined to the entries and the values decoded. Aim: within
~2.5x (``--floor-entries``, default 10,000; 2,000 with --quick).

    python -m bench.bench_search [--quick] [--postgres URL] [--entries N] [--json]
                                 [--floor-entries N] [--floor-only]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import fresh_schema
from bench.corpus import Corpus
from lifecycle import ManualClock, MemoryLifecycleManager

BATCH = 1000
TAGS = [f"topic{i}" for i in range(20)]


def _load(m: MemoryLifecycleManager, corpus: Corpus, n: int) -> tuple[float, list[str]]:
    """Store ``n`` entries; return rows/s and some stored titles (for phrase queries)."""
    titles: list[str] = []
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        batch = []
        for i in range(start, min(n, start + BATCH)):
            value = corpus.value(i)
            if i % 97 == 0:
                titles.append(value["title"])
            batch.append({"key": corpus.key(i), "value": value, "tags": [TAGS[i % len(TAGS)]]})
        m.store_many(batch)
    return n / (time.perf_counter() - started), titles


def _times_ms(run: Callable[[int], object], n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def measure(url: str, entries: int, queries: int) -> dict[str, float]:
    corpus = Corpus(seed=3)
    out: dict[str, float] = {"entries": entries}
    with MemoryLifecycleManager(store=url, clock=ManualClock(time.time())) as m:
        out["load_rows_per_s"], titles = _load(m, corpus, entries)
        m.search("warm up")  # opens connections, checks nothing is left to index
        phrases = [" ".join(t.rstrip(".").lower().split()[1:3]) for t in titles]
        two_words = [corpus.two_word_query() for _ in range(queries)]
        kinds: dict[str, Callable[[int], object]] = {
            "two_words": lambda i: m.search(two_words[i]),
            "rare_word": lambda i: m.search(corpus.rare_word()),
            "phrase": lambda i: m.search(f'"{phrases[i % len(phrases)]}"'),
            "prefix": lambda i: m.search(corpus.words[100 + i * 7 % 1900][:4] + "*"),
            "two_words_tag": lambda i: m.search(two_words[i], tags=[TAGS[i % len(TAGS)]]),
            "common_word": lambda i: m.search(corpus.common_word()),
        }
        for name, run in kinds.items():
            count = queries if name != "common_word" else max(5, queries // 10)
            out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = _times_ms(run, count)
        hits = [len(m.search(q, limit=100)["results"]) for q in two_words[:50]]
        out["two_words_mean_hits_first_100"] = statistics.mean(hits)
    return out


_FLOOR = (
    "SELECT e.key, e.payload FROM search JOIN entries AS e ON e.id = search.rowid "
    "WHERE search MATCH ? ORDER BY rank LIMIT 10"
)


def _floor_search(conn: sqlite3.Connection, word: str) -> list[tuple[str, object]]:
    """FTS5's own top 10 with the values read: what any search of this index must do."""
    return [(k, json.loads(p)) for k, p in conn.execute(_FLOOR, (word,)).fetchall()]


def measure_floor(entries: int, rounds: int) -> dict[str, float]:
    """One-word search vs the FTS5 floor on the same file, interleaved, medians."""
    corpus = Corpus(seed=3)
    out: dict[str, float] = {"entries": entries, "load_1min": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "memory.db")
        with MemoryLifecycleManager(store=path, clock=ManualClock(time.time())) as m:
            _load(m, corpus, entries)
            m.search("warm up", mode="keyword")
            conn = sqlite3.connect(path)
            words = [corpus.words[100 + i % 1900] for i in range(rounds)]
            kinds: dict[str, Callable[[str], object]] = {
                "ours": lambda w: m.search(w, mode="keyword"),
                "floor": lambda w: _floor_search(conn, w),
            }
            wall: dict[str, list[float]] = {k: [] for k in kinds}
            cpu: dict[str, list[float]] = {k: [] for k in kinds}
            for word in words:
                for name, run in kinds.items():
                    c0, w0 = time.process_time(), time.perf_counter()
                    run(word)
                    wall[name].append(time.perf_counter() - w0)
                    cpu[name].append(time.process_time() - c0)
            conn.close()
    for name in kinds:
        out[f"{name}_wall_us"] = statistics.median(wall[name]) * 1e6
        # process_time ticks coarsely on some systems: the mean of many calls, not the median
        out[f"{name}_cpu_us"] = statistics.mean(cpu[name]) * 1e6
    out["ratio_wall"] = out["ours_wall_us"] / out["floor_wall_us"]
    out["ratio_cpu"] = out["ours_cpu_us"] / out["floor_cpu_us"]
    out["load_1min_after"] = os.getloadavg()[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 entries, a few seconds")
    parser.add_argument("--entries", type=int, help="entries to load (default 100,000)")
    parser.add_argument("--postgres", metavar="URL", help="also measure this PostgreSQL server")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--floor-entries", type=int, help="entries for the floor comparison")
    parser.add_argument("--floor-only", action="store_true", help="only the floor comparison")
    args = parser.parse_args(argv)
    floor = measure_floor(
        args.floor_entries or (2000 if args.quick else 10_000), 200 if args.quick else 2000
    )
    if args.floor_only:
        print(json.dumps(floor, indent=2) if args.json else _floor_text(floor))
        return 0
    pg_url = args.postgres or os.environ.get("MEMORY_LIFECYCLE_TEST_POSTGRES")
    entries = args.entries or (5000 if args.quick else 100_000)
    queries = 50 if args.quick else 400

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(str(Path(tmp) / "memory.db"), entries, queries)
    if pg_url:
        with fresh_schema(pg_url) as schema_url:
            results["postgresql"] = measure(schema_url, entries, queries)
    if args.json:
        print(json.dumps({**results, "floor": floor}, indent=2))
        return 0
    names = list(results)
    print(f"bench_search ({entries:,} entries, {queries} queries per kind)")
    print(f"{'p50 / p95 (ms)':24}" + "".join(f"{name:>18}" for name in names))
    for kind in ("two_words", "rare_word", "phrase", "prefix", "two_words_tag", "common_word"):
        cells = "".join(
            f"{results[x][f'{kind}_p50_ms']:>10.2f} /{results[x][f'{kind}_p95_ms']:>6.1f}"
            for x in names
        )
        print(f"{kind:24}{cells}")
    print(
        f"{'load (rows/s)':24}" + "".join(f"{results[x]['load_rows_per_s']:>18,.0f}" for x in names)
    )
    print(_floor_text(floor))
    if not pg_url:
        print("(PostgreSQL skipped: set MEMORY_LIFECYCLE_TEST_POSTGRES or pass --postgres URL)")
    return 0


def _floor_text(f: dict[str, float]) -> str:
    return (
        f"one word at {f['entries']:,.0f} entries (SQLite, medians, load {f['load_1min']:.1f}"
        f"-{f['load_1min_after']:.1f}): ours {f['ours_wall_us']:.0f} us wall / "
        f"{f['ours_cpu_us']:.0f} us CPU, floor (FTS5 rank LIMIT 10 + values) "
        f"{f['floor_wall_us']:.0f} / {f['floor_cpu_us']:.0f}: x{f['ratio_wall']:.2f} wall, "
        f"x{f['ratio_cpu']:.2f} CPU"
    )


if __name__ == "__main__":
    sys.exit(main())
