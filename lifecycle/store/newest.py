"""The newest entries under a prefix, by revision: what the hooks read of the activity
records (tasks, edits, commands, notifications) and of the saved sessions.

A hook that reads "the first 1,000 records" in key order misses the newest once a
prefix holds more, and the newest is what a session needs (its own tasks, the open
ones). Ordering by revision (the store's commit order) needs an index whose order is
the revision and whose rows are those under the prefix: one partial index on
``revision`` per prefix below, so the read walks that index backwards and stops after
``limit`` rows, whatever else the store holds, and writes elsewhere in the store pay
nothing for it. Both stores create the same indexes (migration 7), with the prefix's
key range spelled as literals, which is what lets either planner prove a query's
range is the index's: the queries spell it the same way (``range_condition``).

A prefix missing here is still read right (the key range, sorted): only slower.
Adding one needs a new migration in both stores.
"""

from __future__ import annotations

# Each ends with "/": its key range is [prefix, prefix with the last "/" as "0").
INDEXED: tuple[str, ...] = (
    "swarm/shared/tasks/",
    "swarm/shared/edits/",
    "swarm/shared/commands/",
    "swarm/shared/notifications/",
    "swarm/agent/state/sessions/",
)


def index_name(prefix: str) -> str:
    """``entries_newest_<last segment>``: ``entries_newest_tasks`` and so on."""
    return "entries_newest_" + prefix.rstrip("/").rsplit("/", 1)[-1]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def range_condition(prefix: str) -> str:
    """The key range of an indexed ``prefix`` as SQL with literals (both stores' syntax):
    ``key >= 'swarm/shared/tasks/' AND key < 'swarm/shared/tasks0'``. Every key under
    the prefix is in it ('0' follows '/'), and only those."""
    if not prefix.endswith("/"):
        raise ValueError(f"an indexed prefix ends with '/': {prefix!r}")
    return f"key >= {_literal(prefix)} AND key < {_literal(prefix[:-1] + '0')}"


def migration() -> str:
    """The indexes, one statement each (``;``-separated), for both stores."""
    return ";\n".join(
        f"CREATE INDEX {index_name(p)} ON entries (revision) WHERE {range_condition(p)}"
        for p in INDEXED
    )
