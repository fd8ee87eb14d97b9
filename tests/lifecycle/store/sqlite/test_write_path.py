"""What one write and one sweep cost in statements, and what they report, on a real
SQLite file: the hot paths were cut to fewer statements (issue 24), and these check
that what they report did not change with them."""

from __future__ import annotations

from pathlib import Path

from lifecycle import ManualClock, MemoryLifecycleManager

NOW = 1_800_000_000.0


def _statements(m: MemoryLifecycleManager, write: object) -> list[str]:
    """The statements this process ran (FTS5's own internal ones left out)."""
    seen: list[str] = []
    conn = m.backend._conn()  # type: ignore[attr-defined]
    conn.set_trace_callback(seen.append)
    try:
        assert callable(write)
        write()
    finally:
        conn.set_trace_callback(None)
    return [s for s in seen if not s.startswith("--")]


def test_a_lone_write_reads_once_and_gets_the_next_revision_and_id(tmp_path: Path) -> None:
    with MemoryLifecycleManager(memory_dir=tmp_path, clock=ManualClock(NOW)) as m:
        m.store("coordination/a", {"status": "idle"})
        first = m.retrieve_entry("coordination/a")
        assert first is not None
        for key, value in (("coordination/a", {"status": "busy"}), ("coordination/b", 1)):
            ran = _statements(m, lambda k=key, v=value: m.store(k, v))  # type: ignore[misc]
            reads = [s for s in ran if s.startswith("SELECT")]
            assert len(reads) == 1, ran  # the row, the largest id and revision together
            assert ran[0] == "BEGIN IMMEDIATE" and ran[-1] == "COMMIT", ran
        a, b = m.retrieve_entry("coordination/a"), m.retrieve_entry("coordination/b")
        assert a is not None and b is not None
        assert (a.revision, b.revision) == (first.revision + 1, first.revision + 2)
        conn = m.backend._conn()  # type: ignore[attr-defined]
        ids = dict(conn.execute("SELECT key, id FROM entries").fetchall())
        assert ids == {"coordination/a": 1, "coordination/b": 2}
        assert m.search("busy", mode="keyword")["results"][0]["key"] == "coordination/a"
        assert m.search("idle", mode="keyword")["results"] == []


def test_a_sweep_reports_what_it_deleted_as_the_dry_run_said(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    with MemoryLifecycleManager(memory_dir=tmp_path, clock=clock) as m:
        m.store_many(
            [{"key": f"tmp/k{i:02d}", "value": f"note {i}", "ttl_seconds": 10} for i in range(30)]
            + [{"key": f"coordination/k{i}", "value": i, "ttl_seconds": 10} for i in range(4)]
            + [{"key": "keep/k", "value": "kept"}]
        )
        m.delete("tmp/k03")
        m.delete("tmp/k04")  # two tombstones
        head = m.backend.read_changes(0, "", 1000).head  # type: ignore[attr-defined]
        clock.tick(10**9)
        store = m.backend
        strategies = ["lazy", "scheduled", "manual"]
        dry = store.find_expired(clock.now(), strategies, sample=5)
        swept = store.delete_expired(clock.now(), strategies, sample=5)
        assert swept.by_policy == dry.by_policy == {"default": 28, "coordination/*": 4}
        assert swept.tombstones == dry.tombstones == 2
        first_keys = [*(f"coordination/k{i}" for i in range(4)), "tmp/k00"]
        assert swept.sample_keys == dry.sample_keys == first_keys
        logged = store.read_changes(head, "", 1000).changes  # type: ignore[attr-defined]
        assert [c.op for c in logged] == ["expire"] * 32
        assert [c.key for c in logged] == sorted(c.key for c in logged)
        assert m.retrieve("keep/k") == "kept"
        assert m.search("note", mode="keyword")["results"] == []
        again = store.delete_expired(clock.now(), strategies)
        assert (again.by_policy, again.tombstones, again.sample_keys) == ({}, 0, [])
