"""What the benchmarks share: timing single calls, and a fresh PostgreSQL schema per run
(so a benchmark never touches another's tables, and leaves nothing behind)."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def median_us(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    """Median and 95th percentile of ``n`` single calls ``fn(i)``, in microseconds."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """``url`` pointed at a new schema (the store creates it), dropped afterwards."""
    schema = f"ml_bench_{uuid.uuid4().hex[:10]}"
    try:
        yield _with_schema(url, schema)
    finally:
        _drop_schema(url, schema)


def _with_schema(url: str, schema: str) -> str:
    """``url`` with its ``schema`` parameter set (the store creates the schema)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"] + [("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    base = urlunsplit(
        parts._replace(
            query=urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "schema"])
        )
    )
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
