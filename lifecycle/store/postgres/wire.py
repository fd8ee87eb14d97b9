"""The store's hot statements sent on psycopg's lower layer (``psycopg.pq``), not its cursors.

A ``get`` and the write transaction's two messages are most of what the store sends, and
a psycopg cursor spends about as much client CPU around each of them as libpq and the
protocol do (``bench.bench_pg_client``: a store's two messages cost ~400k instructions
through ``ClientCursor.execute`` and ~105k as the same bytes on ``pq``). The cursor's
work is general: the query parsed for placeholders on every call, its transformer and
result bookkeeping, the prepared-statement cache, ``nextset``/``fetchall`` per result.
Ours is fixed: a handful of constant statements, each result read once, in order.

What is kept from psycopg, so the bytes on the wire and the values read back are the
ones a cursor would send and read: every parameter is quoted by the connection's
transformer (``Transformer.as_literal``, what ``ClientCursor`` uses), every result is
decoded by its loaders (``load_rows``), a failed statement raises psycopg's own error
for its SQLSTATE (``errors.error_from_result``), and the wait is the connection's
(``Connection.wait``: a socket the deadline's watchdog shuts wakes it with an error).

``execute`` and ``execute_prepared`` are looked up on this module by their callers, so a
benchmark can record what they send (``bench.bench_pg_client``).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import abc as pg_abc
from psycopg import errors as pg_errors
from psycopg import generators
from psycopg.pq import ExecStatus

_TUPLES_OK = ExecStatus.TUPLES_OK
_FINE = frozenset((ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK, ExecStatus.EMPTY_QUERY))


class Template:
    """A statement with ``%s`` placeholders, split once into its text around them (as
    ``ClientCursor`` splits a query, without doing it again on every call)."""

    __slots__ = ("_parts", "sql")

    def __init__(self, sql: str) -> None:
        if "%%" in sql or "%(" in sql:
            raise ValueError(f"only positional %s placeholders: {sql[:60]!r}")
        self.sql = sql
        self._parts = sql.encode().split(b"%s")

    def bind(self, tx: pg_abc.Transformer, args: Any) -> bytes:
        """The statement with ``args`` quoted in, as ``ClientCursor.mogrify`` would."""
        parts = self._parts
        if len(args) != len(parts) - 1:
            raise psycopg.ProgrammingError(
                f"the query has {len(parts) - 1} placeholders but {len(args)} parameters"
            )
        literal = tx.as_literal
        out = [parts[0]]
        for arg, part in zip(args, parts[1:]):  # noqa: B905 (lengths checked above)
            out.append(b"NULL" if arg is None else literal(arg))
            out.append(part)
        return b"".join(out)


_TEMPLATES: dict[str, Template] = {}  # by statement text; the store's statements are constants


def template(sql: str) -> Template:
    found = _TEMPLATES.get(sql)
    if found is None:
        if len(_TEMPLATES) >= 256:  # never in use: the store's statements are constants
            _TEMPLATES.clear()
        found = _TEMPLATES[sql] = Template(sql)
    return found


def execute(
    conn: psycopg.Connection[Any], tx: pg_abc.Transformer, sql: str, args: Any
) -> list[Any]:
    """Send ``sql`` (one or several statements, ``%s`` placeholders) with ``args`` in one
    simple-protocol message; every statement's rows, in order (``[]`` for a command)."""
    query = template(sql).bind(tx, args)
    pgconn = conn.pgconn
    pgconn.send_query(query)
    return _rows(tx, conn.wait(generators.execute(pgconn)))


def execute_prepared(
    conn: psycopg.Connection[Any], tx: pg_abc.Transformer, name: bytes, sql: str, args: Any
) -> list[Any]:
    """Run the statement prepared on ``conn`` as ``name`` (its text: ``sql``, for whoever
    records what is sent) with ``args``, text parameters as text; its rows."""
    del sql  # the prepared statement is the connection's; the text is for the record
    encoding = tx.encoding
    params = [None if a is None else str(a).encode(encoding) for a in args]
    pgconn = conn.pgconn
    pgconn.send_query_prepared(name, params)
    return _rows(tx, conn.wait(generators.execute(pgconn)))[0]


def _rows(tx: pg_abc.Transformer, results: list[Any]) -> list[Any]:
    """Each result's rows, decoded by the connection's loaders; a failed statement raises
    psycopg's error for it (the cursor's check)."""
    if not results:
        raise psycopg.InternalError("got no result from the query")
    out: list[Any] = []
    for res in results:
        status = res.status
        if status == _TUPLES_OK:
            tx.set_pgresult(res)
            out.append(tx.load_rows(0, res.ntuples, tuple))
        elif status in _FINE:
            out.append([])
        elif status == ExecStatus.FATAL_ERROR:
            raise pg_errors.error_from_result(res, encoding=tx.encoding)
        else:
            raise psycopg.InternalError(f"unexpected result status: {ExecStatus(status).name}")
    return out
