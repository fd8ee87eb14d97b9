"""Giving a SQLite store's free space back to the filesystem.

SQLite keeps the pages of deleted rows as free pages inside the file, and a WAL
file keeps its high-water size: a store that held a million entries stayed at
272 MB (plus a 274 MB WAL) after all of them were cleaned up. So:

- the full-text index keeps a deleted entry's postings until its segment is
  merged, so after sweeps that removed at least ``OPTIMIZE_MIN_ROWS`` entries and
  at least one for every ``OPTIMIZE_LIVE_PER_SWEPT`` entries left, the index is
  merged into one segment (``sqlite_search.optimize``): its old pages become free;
- new stores use ``auto_vacuum = INCREMENTAL`` (it can only be set before the
  first table exists), and after a sweep that freed at least
  ``VACUUM_MIN_FREE_PAGES`` pages, ``incremental_vacuum`` returns them;
- a sweep that freed ``TRUNCATE_WAL_FREED_PAGES`` or more also checkpoints and
  truncates the WAL, and ``journal_size_limit`` caps what a WAL keeps after any
  checkpoint;
- a store created before this (``auto_vacuum = NONE``) is converted once, by
  maintenance in its turn: ``VACUUM`` rewrites the file holding the write
  lock (writers wait, within their busy timeout); afterwards the mode says it is
  done, so it never runs again.

All of it runs at the end of a cleanup, after its last write (the change log's trim
included: run before it, the WAL would be filled again at once). Everything here
runs after the deletes committed, so a failure (a reader that
keeps the WAL busy, a disk too full for the VACUUM's copy) loses nothing: it is
logged and tried again next time.
"""

from __future__ import annotations

from lifecycle.basics.lazy_logging import get_logger
from lifecycle.basics.suppress import suppress
from lifecycle.store.sqlite.driver import sqlite3
from lifecycle.store.sqlite.files import size_on_disk

AUTO_VACUUM_INCREMENTAL = 2
JOURNAL_SIZE_LIMIT = 64 << 20
VACUUM_MIN_FREE_PAGES = 32  # a little free space is reused by later writes
TRUNCATE_WAL_FREED_PAGES = 1024  # 4 MiB of 4 KiB pages
CHECKPOINT_BUSY_MS = 1000  # a checkpoint waits this long for readers, then tries next time
OPTIMIZE_MIN_ROWS = 1000  # index entries swept before the index is worth merging
OPTIMIZE_LIVE_PER_SWEPT = 4  # ... and at most this many entries left per entry swept

log = get_logger("memory_lifecycle.store")


def worth_optimizing(conn: sqlite3.Connection, swept: int) -> bool:
    """Whether ``swept`` deleted index entries make merging the index pay: its cost is
    a pass over what is left, so it runs when the sweeps removed a good share of it."""
    if swept < OPTIMIZE_MIN_ROWS:
        return False
    # counted only as far as the answer needs: a hook's bounded sweep of 1,000 must not
    # count a million entries (25 ms here) to learn that it does not pay
    most = swept * OPTIMIZE_LIVE_PER_SWEPT
    left = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM entries LIMIT ?)", (most + 1,))
    return int(left.fetchone()[0]) <= most


def give_back(conn: sqlite3.Connection, busy_ms: int) -> None:
    """Return free pages (incremental vacuum); empty the WAL when that freed a lot."""
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    if free < VACUUM_MIN_FREE_PAGES:
        return
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == AUTO_VACUUM_INCREMENTAL:
        incremental_vacuum(conn)
    if free >= TRUNCATE_WAL_FREED_PAGES:
        truncate_wal(conn, busy_ms)


def incremental_vacuum(conn: sqlite3.Connection) -> None:
    # executescript steps the pragma to completion; execute() would free a single page
    try:
        conn.executescript("BEGIN IMMEDIATE; PRAGMA incremental_vacuum; COMMIT;")
    finally:
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")


def truncate_wal(conn: sqlite3.Connection, busy_ms: int) -> None:
    """Checkpoint and truncate the WAL, waiting at most ``CHECKPOINT_BUSY_MS`` for readers
    (a busy checkpoint leaves the WAL to the next one), then restore ``busy_ms``."""
    conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_BUSY_MS}")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")


def needs_conversion(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute("PRAGMA auto_vacuum").fetchone()[0] != AUTO_VACUUM_INCREMENTAL)


def convert(conn: sqlite3.Connection, path: str, busy_ms: int) -> None:
    """The one-time conversion of a store made before incremental auto-vacuum."""
    log.warning(
        "store %s: converting to incremental auto-vacuum so cleanup gives space back "
        "(a one-time VACUUM of %d bytes; writers wait meanwhile)",
        path,
        size_on_disk(path),
    )
    conn.execute(f"PRAGMA auto_vacuum = {AUTO_VACUUM_INCREMENTAL}")
    conn.execute("VACUUM")  # waits for the write lock, rewrites the file
    truncate_wal(conn, busy_ms)
    log.warning("store %s: converted; %d bytes on disk now", path, size_on_disk(path))
