"""Embedding what is pending: live entries without a current vector.

One pass walks the pending entries in key order, ``batch`` at a time (the
store reads them with their old vector, if any): an entry whose text hash
equals its old vector's gets that vector back, stamped with the new revision,
without running the model; the others are embedded together, shortest first.
Each batch is saved in one short transaction, and only for entries still at the
revision that was read, so a write that lands meanwhile leaves its entry
pending for the next pass instead of pairing new text with an old vector. Two
indexers on one store do no harm (the second finds less to do); the server
runs one at a time anyway (the indexer's turn, ``server.background.indexing``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lifecycle.basics.clock import Clock
from lifecycle.search.semantic.document import embedding_text, text_hash
from lifecycle.search.semantic.embedder import Embedder
from lifecycle.search.semantic.quantize import quantize, to_bytes
from lifecycle.store.base import Store
from lifecycle.store.vectors import NewVector, PendingRow

BATCH = 64
Progress = Callable[[int, int], None]  # (done so far, pending when the pass started)


def index_pending(
    store: Store,
    embedder: Embedder,
    clock: Clock,
    *,
    limit: int | None = None,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Embed up to ``limit`` pending entries (all when None); report ``indexed`` (vectors
    saved by this pass), ``embedded`` and ``pending`` (live entries with and without a
    current vector afterwards), ``model``, ``duration_ms``."""
    started = time.perf_counter()
    vectors = store.vectors()
    model = embedder.model_id
    vectors.forget(keep_model=model)  # another model's vectors are of no use any more
    todo = 0
    if progress is not None:
        total = vectors.counts(model, clock.now())
        todo = total.live - total.embedded if limit is None else min(limit, total.live)
    done = embed_some(
        store, embedder, clock, limit=limit, batch=batch, progress=progress, todo=todo
    )
    after_run = vectors.counts(model, clock.now())
    return {
        "indexed": done,
        "embedded": after_run.embedded,
        "pending": after_run.live - after_run.embedded,
        "model": embedder.source.label,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }


def embed_some(
    store: Store,
    embedder: Embedder,
    clock: Clock,
    *,
    limit: int | None,
    batch: int = BATCH,
    progress: Progress | None = None,
    todo: int = 0,
) -> int:
    """The pass itself, without the counts: how many vectors it saved (the server's
    background runs call this, ``limit`` at a time)."""
    vectors = store.vectors()
    done = 0
    after = ""
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        now = clock.now()
        found = vectors.pending(embedder.model_id, now, after, size)
        if not found:
            break
        done += vectors.save(embedder.model_id, _vectors(embedder, found), now)
        after = found[-1].row.key
        if progress is not None:
            progress(min(done, todo), todo)
    return done


def _vectors(embedder: Embedder, found: list[PendingRow]) -> list[NewVector]:
    out: list[NewVector] = []
    texts: list[str] = []
    fresh: list[tuple[PendingRow, bytes]] = []
    for item in found:
        embedded = embedding_text(item.row)
        digest = text_hash(embedded)
        if item.text_hash == digest and item.vector is not None and item.scale is not None:
            out.append(NewVector(item.row.key, item.row.revision, digest, item.scale, item.vector))
        else:
            texts.append(embedded)
            fresh.append((item, digest))
    if texts:
        ints, scales = quantize(embedder.embed(texts))
        for (item, digest), row, scale in zip(fresh, ints, scales, strict=True):
            out.append(
                NewVector(item.row.key, item.row.revision, digest, float(scale), to_bytes(row))
            )
    return out
