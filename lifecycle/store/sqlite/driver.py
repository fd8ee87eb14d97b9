"""The SQLite driver: CPython's ``_sqlite3``, the C module the ``sqlite3`` package wraps.

Why not ``import sqlite3``: the package's ``dbapi2`` registers default adapters for
``date`` and ``datetime``, and so imports ``datetime``: ~6M instructions, 4% of a hook's
whole process (bench/RESULTS.md). The store binds no dates (its times are floats), so
those adapters are never used, and every name it needs (``connect``, ``Connection``,
the errors) is the C module's own: the very objects ``sqlite3`` re-exports, so code that
imports ``sqlite3`` itself sees the same classes. An interpreter without ``_sqlite3``
gets the package.
"""

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    import sqlite3 as sqlite3
else:
    try:
        import _sqlite3 as sqlite3
    except ImportError:  # an interpreter whose driver is only the package
        import sqlite3

__all__ = ["sqlite3"]
