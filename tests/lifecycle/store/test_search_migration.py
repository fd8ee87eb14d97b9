"""The search index over time, on every backend: a store written before search existed
becomes searchable with no manual step (also when several processes open it at once),
sweeps, lazy expiry and deletes take entries out of the index itself, and ``reindex``
rebuilds it."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.store.backend import open_store
from lifecycle.store.base import Row
from lifecycle.store.postgres import schema as postgres_schema
from lifecycle.store.sqlite import schema as sqlite_schema
from lifecycle.store.sqlite.rows import COLUMNS as SQLITE_COLUMNS
from tests.support.env import PYTHON, child_env
from tests.support.store import (  # noqa: F401  (fixtures register under their pytest names)
    ManagerFactory,
    UrlFactory,
    backend_fixture,
    make_backend_manager_fixture,
    store_url_factory_fixture,
)

POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "keep/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: lww}
"""
OLD_COLUMNS = ", ".join(SQLITE_COLUMNS.split(", ")[:13])  # before tags and revisions


def _pg_parts(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema")
    return urlunsplit(parts._replace(query="")), schema


def pre_search_store(backend: str, url: str, rows: list[Row]) -> None:
    """A store as the version before search left it: migrations 1-2, these rows."""
    fields = OLD_COLUMNS.split(", ")
    values = [tuple(getattr(r, f) for f in fields) for r in rows]
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True)
        with sqlite3.connect(path) as conn:
            conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)"
            )
            for version, script in enumerate(sqlite_schema.MIGRATIONS[:2], start=1):
                conn.executescript(script)
                conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (version,))
            marks = ",".join("?" * 13)
            conn.executemany(f"INSERT INTO entries ({OLD_COLUMNS}) VALUES ({marks})", values)
        return
    import psycopg

    dsn, schema = _pg_parts(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
            "applied_at DOUBLE PRECISION NOT NULL)"
        )
        for version, script in enumerate(postgres_schema.MIGRATIONS[:2], start=1):
            conn.execute(script)
            conn.execute("INSERT INTO schema_migrations VALUES (%s, 0)", (version,))
        marks = ",".join(["%s"] * 13)
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO entries ({OLD_COLUMNS}) VALUES ({marks})", values)


def written_rows(make: ManagerFactory, count: int) -> list[Row]:
    """Rows as the engine writes them (compressed ones included), tombstones too."""
    m = make("source", policies=POLICIES)
    for start in range(0, count, 1000):
        m.store_many(
            {"key": f"notes/{i:03d}", "value": {"text": f"legacy note {i}", "pad": "x " * 600}}
            for i in range(start, min(count, start + 1000))
        )
    m.store("notes/deleted", "legacy but deleted")
    m.delete("notes/deleted")
    return list(m.backend.iter_rows())


def index_hits(backend: str, url: str, word: str) -> set[str]:
    """Keys the index itself holds for ``word``: no expiry filter, no join on liveness."""
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(
                "SELECT key FROM entries WHERE id IN "
                "(SELECT rowid FROM search WHERE search MATCH ?)",
                (f'"{word}"',),
            ).fetchall()
        return {k for (k,) in rows}
    import psycopg

    dsn, schema = _pg_parts(url)
    with psycopg.connect(dsn) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        rows = conn.execute(
            "SELECT key FROM entries WHERE search @@ %s::tsquery", (f"'{word}'",)
        ).fetchall()
    return {k for (k,) in rows}


def test_a_store_written_before_search_is_searchable_after_the_upgrade(
    backend: str, make_backend_manager: ManagerFactory, store_url_factory: UrlFactory
) -> None:
    rows = written_rows(make_backend_manager, 1200)  # more than one backfill batch
    assert any(r.codec == "json+gzip" for r in rows)
    url = store_url_factory(backend, "old")
    pre_search_store(backend, url, rows)
    with MemoryLifecycleManager(store=url, clock=ManualClock(1_800_000_000.0)) as m:
        assert len(m.search("legacy", limit=100)["results"]) == 100
        assert [r["key"] for r in m.search("note 1199")["results"]] == ["notes/1199"]
        assert m.search("deleted")["results"] == []
        assert m.retrieve("notes/007") == {"text": "legacy note 7", "pad": "x " * 600}
    with MemoryLifecycleManager(store=url) as again:  # the second open does no work
        assert again.backend.index_pending(lambda row: pytest.fail("indexed twice"), 10) is None


@pytest.mark.slow
def test_processes_that_open_an_old_store_at_once_all_find_every_entry(
    backend: str, make_backend_manager: ManagerFactory, store_url_factory: UrlFactory
) -> None:
    rows = written_rows(make_backend_manager, 3000)
    url = store_url_factory(backend, "old")
    pre_search_store(backend, url, rows)
    script = (
        "import sys\n"
        "from lifecycle import MemoryLifecycleManager\n"
        "with MemoryLifecycleManager(store=sys.argv[1]) as m:\n"
        "    total, cursor = 0, None\n"
        "    while True:\n"
        "        page = m.search('legacy', limit=100, cursor=cursor)\n"
        "        total += len(page['results'])\n"
        "        cursor = page['next_cursor']\n"
        "        if cursor is None:\n"
        "            break\n"
        "    print(total)\n"
    )
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", script, url],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "3000", err


def test_sweeps_lazy_expiry_and_deletes_take_entries_out_of_the_index(
    backend: str, make_backend_manager: ManagerFactory, clock: ManualClock
) -> None:
    m = make_backend_manager(policies=POLICIES)
    m.store("tmp/lazy", "marker")
    m.store("keep/manual", "marker")
    m.store("notes/deleted", "marker")
    m.store("notes/updated", "marker")
    location = m.store_url
    assert index_hits(backend, location, "marker") == {
        "tmp/lazy",
        "keep/manual",
        "notes/deleted",
        "notes/updated",
    }
    m.delete("notes/deleted")
    m.store("notes/updated", "changed")
    clock.tick(61)
    assert m.retrieve("tmp/lazy") is None  # a lazy entry is deleted on read
    assert index_hits(backend, location, "marker") == {"keep/manual"}
    m.cleanup(force=True)
    assert index_hits(backend, location, "marker") == set()
    assert index_hits(backend, location, "changed") == {"notes/updated"}
    assert m.backend.index_pending(lambda row: pytest.fail("nothing is pending"), 10) is None


def test_reindex_rebuilds_the_index_of_every_entry(
    backend: str, make_backend_manager: ManagerFactory
) -> None:
    m = make_backend_manager()
    m.store_many({"key": f"notes/{i}", "value": f"rebuild me {i}"} for i in range(700))
    m.store("notes/tomb", "rebuild me")
    m.delete("notes/tomb")
    m.backend.clear_search_index()
    location = m.store_url
    assert index_hits(backend, location, "rebuild") == set()
    report = m.reindex()
    assert report["indexed"] == 700
    assert len(index_hits(backend, location, "rebuild")) == 700
    assert [r["key"] for r in m.search("rebuild me 699")["results"]] == ["notes/699"]


def test_a_migration_numbered_below_one_already_applied_still_runs(
    backend: str, store_url_factory: UrlFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Branches merge in any order: a store that has migration 4 gets 3 when 3 arrives
    (as it happened here: search's 4 and the change log's 3 landed on separate branches)."""
    url = store_url_factory(backend)
    module = sqlite_schema if backend == "sqlite" else postgres_schema
    # (7 and PostgreSQL's 8 index 3's column: they land with 3)
    without_3 = {n: m for n, m in module.NUMBERED.items() if n not in (3, 7, 8)}
    monkeypatch.setattr(module, "NUMBERED", without_3)
    open_store(url).close()  # a store with migrations 1, 2 and 4
    monkeypatch.undo()
    with MemoryLifecycleManager(store=url) as m:
        put = m.put("notes/a", "still searchable")
        assert put.revision > 0  # migration 3 (revisions) ran after 4
        assert [r["key"] for r in m.search("searchable")["results"]] == ["notes/a"]
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations")]
    else:
        import psycopg

        dsn, schema = _pg_parts(url)
        with psycopg.connect(dsn) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations")]
    assert sorted(versions) == sorted(module.NUMBERED)  # 1, 2, 3, 4 and any later one
