"""SQLite's FTS5 index, from the inside: a contentless table forgets an entry only when
given back exactly the text it indexed, so after any mix of writes, tag changes, deletes,
sweeps and lazy expiry, every word's postings must be exactly the rows whose stored text
holds it (an index entry left behind would match text the row no longer has)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.store.text_index import tag_token

POLICIES = """
namespaces:
  - {namespace: "tmp/*", ttl_seconds: 60, cleanup_strategy: lazy, conflict_strategy: lww}
  - {namespace: "mv/*", ttl_seconds: 90, cleanup_strategy: manual, conflict_strategy: multi_value}
"""


def postings(conn: sqlite3.Connection, column: str, token: str) -> set[int]:
    query = f'{column} : "{token}"'
    return {r for (r,) in conn.execute("SELECT rowid FROM search WHERE search MATCH ?", (query,))}


def test_the_index_holds_exactly_the_stored_text_after_any_mix_of_changes(
    make_manager: Callable[..., MemoryLifecycleManager], clock: ManualClock
) -> None:
    m = make_manager(policies=POLICIES)
    rng = random.Random(11)
    words = [f"w{i}" for i in range(10)]
    keys = [f"{ns}/k{i}" for ns in ("tmp", "mv", "notes") for i in range(5)]
    for _ in range(400):
        key, roll = rng.choice(keys), rng.random()
        if roll < 0.55:
            text = " ".join(rng.sample(words, 2))
            m.store(key, {"t": text}, tags=rng.choice([None, [], ["a"], ["a", "b"], ["b"]]))
        elif roll < 0.7:
            m.delete(key)
        elif roll < 0.8:
            clock.tick(rng.choice([5, 40]))
        elif roll < 0.9:
            m.retrieve(key)
        else:
            m.cleanup(force=rng.random() < 0.5)
    conn = sqlite3.connect(m.memory_dir / "memory.db")
    rows = conn.execute("SELECT id, search_body, tags FROM entries").fetchall()
    assert any(body for _, body, _ in rows)
    for word in words:
        holding = {i for i, body, _ in rows if body and word in body.split()}
        assert postings(conn, "body", word) == holding, word
    for tag in ("a", "b"):
        tagged = {i for i, body, tags in rows if body is not None and tags and f'"{tag}"' in tags}
        assert postings(conn, "tags", tag_token(tag)) == tagged, tag
    conn.close()


def test_the_best_scored_shortcut_pages_like_the_full_query(
    make_manager: Callable[..., MemoryLifecycleManager], clock: ManualClock
) -> None:
    """Without a prefix SQLite first looks at the best-scored few matches only; ties at
    that cut, or expired entries among them, must send it to the full query."""
    m = make_manager(policies=POLICIES)
    m.store_many([{"key": f"tmp/short{i:02d}", "value": "kafka"} for i in range(40)])
    m.store_many([{"key": f"notes/tie{i:02d}", "value": "kafka topic"} for i in range(60)])
    m.store_many([{"key": f"notes/long{i:02d}", "value": "kafka " + "pad " * i} for i in range(30)])
    clock.tick(61)  # the 40 best-scored entries expire, uncollected
    whole = [r["key"] for r in m.search("kafka", limit=100)["results"]]  # one page: all
    paged: list[str] = []
    cursor = None
    while True:
        page = m.search("kafka", limit=5, cursor=cursor)
        paged += [r["key"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(paged) == len(set(paged)) == 90
    assert paged == whole
    assert not any(k.startswith("tmp/") for k in paged)
