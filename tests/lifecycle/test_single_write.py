"""A lone write (``store``/``put``: ``Writer.write_one``) against the general rules: the
same writes one by one through ``store_many`` of one-entry batches (``_apply_all``), on
two real SQLite files with the same replica id and clocks that agree, and everything
observable compared: every column of every row and how it is stored, the change log,
the op ids, the full-text index term by term, what the caller is handed back.

And the index a sequence of single writes leaves (deletes and inserts by the statements
that bind no NULL: ``SQLiteTransaction.put``) is exactly the index of the rows as they
are: the same terms, documents, columns and offsets as an index built from scratch."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.entries.write_request import WriteRequest
from lifecycle.errors import LifecycleError
from lifecycle.store.sqlite import search
from tests.support.write_pairs import ManagerPair, observed

POLICIES = """
namespaces:
  - {namespace: "reg/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: lww}
  - {namespace: "forever/*", ttl_seconds: 0, cleanup_strategy: manual, conflict_strategy: lww}
  - {namespace: "mv/*", ttl_seconds: 60, cleanup_strategy: manual, conflict_strategy: multi_value}
settings:
  tombstone_grace_seconds: 100
"""
START = 1_800_000_000.0


def rebuilt_index(path: Path) -> list[tuple[Any, ...]]:
    """The index of the rows as they are, built from scratch (one insert per indexed row)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("ATTACH ? AS store", (str(path),))
        conn.execute(
            "CREATE VIRTUAL TABLE fresh USING fts5(k, body, tags, content='', tokenize='ascii')"
        )
        rows = conn.execute(
            "SELECT id, search_key, search_body, tags FROM store.entries "
            "WHERE search_key IS NOT NULL"
        ).fetchall()
        conn.executemany(
            "INSERT INTO fresh(rowid, k, body, tags) VALUES (?, ?, ?, ?)",
            [(i, k, body, search.tag_tokens(tags)) for i, k, body, tags in rows],
        )
        conn.execute("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, fresh, 'instance')")
        return conn.execute("SELECT * FROM temp.terms ORDER BY 1, 2, 3, 4").fetchall()
    finally:
        conn.close()


class Pair(ManagerPair):
    """Lone writes in ``single``, one-entry batches through the general rules in
    ``general``."""

    def __init__(self, tmp: Path) -> None:
        super().__init__(tmp, POLICIES, START, fast="single")

    def write(self, item: dict[str, Any]) -> None:
        outcomes = []
        for side, m in enumerate(self.managers):
            try:
                request = WriteRequest(**item)
                result = m.put(**item) if side == 0 else m.store_many([request])[0]
                outcomes.append(("ok", result.to_dict()))
            except LifecycleError as error:
                outcomes.append(("error", (type(error).__name__, str(error))))
        assert outcomes[0] == outcomes[1]

    def check(self) -> None:
        single, general = (observed(path) for path in self.paths)
        for name in single:
            assert single[name] == general[name], name
        assert single["index"] == rebuilt_index(self.paths[0])


WORDS = st.sampled_from(["alpha", "beta", "gamma beta", "Ünïcode", "x" * 130])
KEYS = st.sampled_from(["notes/a", "notes/b", "reg/a", "forever/a", "mv/a"])


@st.composite
def writes(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"key": draw(KEYS), "value": {"status": draw(WORDS)}}
    if draw(st.booleans()):
        item["tags"] = draw(st.lists(st.sampled_from(["t1", "t2", "x y"]), max_size=2))
    if draw(st.integers(0, 3)) == 0:
        item["ttl_seconds"] = draw(st.sampled_from([1, 1000]))
    if draw(st.integers(0, 3)) == 0:
        item["provenance_type"] = "user"
    if draw(st.integers(0, 4)) == 0:
        item["op_id"] = draw(st.sampled_from(["op-1", "op-2"]))
    if draw(st.integers(0, 4)) == 0:  # older than what is stored (loses), or recent
        item["timestamp"] = START + draw(st.sampled_from([-1000.0, 5.0]))
    if draw(st.integers(0, 8)) == 0:
        item["if_revision"] = draw(st.integers(0, 3))
    return item


STEPS = st.lists(
    st.one_of(
        writes().map(lambda w: ("write", w)),
        st.sampled_from([1.0, 2000.0]).map(lambda s: ("tick", s)),
        KEYS.map(lambda k: ("delete", k)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_a_lone_write_writes_what_the_general_rules_write(
    tmp_path_factory: Any, steps: list[Any]
) -> None:
    """New keys and existing ones, text that changes and text that does not, tags added
    and dropped, TTLs, provenance, op ids, older timestamps that lose, preconditions,
    expiry and deletes: one write at a time, the same rows, log, op ids and index."""
    p = Pair(tmp_path_factory.mktemp("single"))
    try:
        for kind, arg in steps:
            if kind == "write":
                p.write(arg)
            elif kind == "tick":
                for clock in p.clocks:
                    clock.tick(arg)
            else:
                assert p.managers[0].delete(arg) == p.managers[1].delete(arg)
            p.check()
    finally:
        p.close()


def keys(found: dict[str, Any]) -> list[str]:
    return [hit["key"] for hit in found["results"]]


def test_a_re_stored_text_replaces_its_index_entry(tmp_path: Path) -> None:
    """The hot case of issue 24, spelled out: the old text's terms leave the index, the
    new text's come in, with tags and without, and the row binds no NULL it need not."""
    with MemoryLifecycleManager(memory_dir=tmp_path, clock=ManualClock(START)) as m:
        m.store("notes/a", {"note": "first words"})
        m.store("notes/a", {"note": "second words"})
        assert keys(m.search("second")) == ["notes/a"]
        assert not keys(m.search("first"))
        m.store("notes/a", {"note": "third words"}, tags=["red"])
        m.store("notes/a", {"note": "fourth words"})
        assert not keys(m.search("third")) and keys(m.search("fourth")) == ["notes/a"]
        path = Path(m.backend.path)  # type: ignore[attr-defined]
        assert observed(path)["index"] == rebuilt_index(path)
