"""Reading a SQLite store that cannot be written: a read-only mount, a full disk.

Reading must never need a write (DESIGN, "Edges that must hold"), but a store in WAL
mode is opened through its ``-shm`` index, which SQLite creates and sizes on first
use: where the store was closed cleanly (no ``-wal`` or ``-shm`` left) and nothing
can be written, even a read fails ("unable to open database file" on a read-only
mount, "disk I/O error" on a full disk). So when opening for writing fails that
way, the store is opened read-only instead:

- ``immutable=1`` when there is no write-ahead log with content: nobody has the
  store open for writing (that would have created ``-shm``), so the file alone is
  the whole store, read with no locks and no ``-shm``;
- ``mode=ro`` when a ``-wal`` holds content (another process writes, or crashed):
  that log must be read too, through the ``-shm`` index it left.

Writes through such a connection are refused before they start, with one line
saying why the store is read-only and what to do; the connection is given up for a
writable one as soon as one can be opened again (the store checks once a second,
``SQLiteStore._conn``), so a freed disk or a remount is picked up by a running
server.
"""

from __future__ import annotations

import os

from lifecycle.store.sqlite.driver import sqlite3

# what SQLite says when a write (or the -shm it needs to read a WAL store) is impossible
_CANNOT_WRITE = (
    "readonly database",
    "unable to open database file",
    "disk I/O error",
    "database or disk is full",
)


def cannot_write(error: sqlite3.Error) -> bool:
    return any(text in str(error) for text in _CANNOT_WRITE)


def open_read_only(path: str, timeout: float) -> sqlite3.Connection:
    """A read-only connection to the store at ``path`` (see the module docstring)."""
    from urllib.parse import quote  # here: a store opens read-only rarely, a hook never

    try:
        logged = os.stat(f"{path}-wal").st_size > 0
    except OSError:
        logged = False
    mode = "mode=ro" if logged else "immutable=1"
    uri = f"file:{quote(os.path.abspath(path))}?{mode}"
    conn = sqlite3.connect(
        uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # readable at all?
    except BaseException:
        conn.close()
        raise
    return conn


def fix_for(why: str) -> str:
    """What to do about a store that is read-only for the reason ``why``."""
    if "full" in why:
        return "free disk space and retry"
    if "read-only file system" in why:
        return "remount it read-write, or point --memory-dir (or --store) at a writable folder"
    return "give this user write access to the store's folder and files, or use another store"
