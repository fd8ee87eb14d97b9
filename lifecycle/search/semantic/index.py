"""The in-memory copy of the store's vectors: what a query scans.

Reading 100,000 vectors from disk for each query would cost more than the
whole query may take, so each process keeps the current vectors of its model
in one int8 matrix (38 MB per 100,000 entries at 384 dimensions) and brings it
up to date before each query, from two cursors:

* the store's change feed (``read_changes``): every key written, deleted or
  expired since the last look is read again, with its vector;
* the vector table's save counter (``saved_since``): vectors another process
  (or this one's indexer) saved since the last look.

Both cost one indexed query when nothing happened. A vector goes in only when it
is current: made for the entry's revision, or for an older one whose text hash
equals the hash of the entry's text as it is now (``document``); anything else
leaves the entry *pending* (matched by keywords only). When the change feed has
been compacted past this copy's position, the copy is rebuilt from the table.

What the copy cannot see without a change, an expiry time that passed, is kept
per row (``expires``) and checked by the scan; and every result is checked
again against its stored row before it is returned (``ranking``), so a stale
copy can cost a little speed, never a wrong answer.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np

from lifecycle.search.semantic.document import embedding_text, text_hash
from lifecycle.store.base import Row, Store
from lifecycle.store.vectors import VectorState, VectorStore

LOAD_BATCH = 5000
FREE = -math.inf  # the expiry of a free slot: never live


class VectorIndex:
    """The current vectors of one model, one row per live entry that has one."""

    def __init__(self, model_id: str, dims: int) -> None:
        self.model_id = model_id
        self.dims = dims
        self.lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        self.matrix = np.zeros((0, self.dims), dtype=np.int8)
        self.scales = np.zeros(0, dtype=np.float32)
        self.expires = np.zeros(0, dtype=np.float64)
        self.keys: list[str | None] = []
        self._slots: dict[str, int] = {}
        self._free: list[int] = []
        self.pending: dict[str, float] = {}  # live keys without a current vector -> expiry
        self.revision = -1  # change-feed position; -1: never loaded
        self.saved = 0  # vector-table save counter position

    @property
    def size(self) -> int:
        """Slots in use or freed (the scan covers them all; free ones never match)."""
        return len(self.keys)

    def count_pending(self, now: float) -> int:
        return sum(1 for expires in self.pending.values() if expires > now)

    # ------------------------------------------------------------ keeping current

    def refresh(self, store: Store) -> None:
        """Bring the copy up to the store's current state (see the module docstring)."""
        with self.lock:
            vectors = store.vectors()
            if self.revision < 0 or not self._follow(store, vectors):
                self._load(store, vectors)
            self._follow_saves(vectors)

    def _load(self, store: Store, vectors: VectorStore) -> None:
        self._clear()
        revision, saved = store.current_revision(), vectors.last_saved()
        after = ""
        while batch := vectors.states(self.model_id, after, LOAD_BATCH):
            self._apply(vectors, batch, ())
            after = batch[-1].key
        self.revision, self.saved = revision, saved

    def _follow(self, store: Store, vectors: VectorStore) -> bool:
        """Apply the change feed since the last look; False when it no longer reaches
        back that far (compacted, or the store was reset): reload then."""
        while True:
            page = store.read_changes(self.revision, "", LOAD_BATCH)
            if page.compacted > self.revision or page.head < self.revision:
                return False
            if page.changes:
                keys = list(dict.fromkeys(c.key for c in page.changes))
                self._apply(vectors, vectors.states_of(self.model_id, keys), keys)
                self.revision = page.changes[-1].revision
            if page.complete:
                self.revision = max(self.revision, page.head)
                return True

    def _follow_saves(self, vectors: VectorStore) -> None:
        while True:
            states, last = vectors.saved_since(self.model_id, self.saved, LOAD_BATCH)
            if not states:
                self.saved = last
                return
            self._apply(vectors, states, ())
            self.saved = last

    def _apply(
        self, vectors: VectorStore, states: Sequence[VectorState], asked: Sequence[str]
    ) -> None:
        """Take in the current state of some keys; ``asked`` keys absent from ``states``
        are gone (deleted or tombstoned)."""
        seen = {s.key for s in states}
        for key in asked:
            if key not in seen:
                self._drop(key)
                self.pending.pop(key, None)
        unsure = [s for s in states if s.vector is not None and s.vector_revision != s.revision]
        rows = vectors.rows([s.key for s in unsure]) if unsure else {}
        slots: list[int] = []
        chunks: list[bytes] = []
        scales: list[float] = []
        expiries: list[float] = []
        for state in states:
            expires = math.inf if state.expires_at is None else float(state.expires_at)
            if self._current(state, rows):
                assert state.vector is not None and state.scale is not None
                slots.append(self._slot_of(state.key))
                chunks.append(state.vector)
                scales.append(state.scale)
                expiries.append(expires)
                self.pending.pop(state.key, None)
            else:
                self._drop(state.key)
                self.pending[state.key] = expires
        if slots:  # one numpy assignment for the batch (a full load is 5,000 at a time)
            ints = np.frombuffer(b"".join(chunks), dtype=np.int8).reshape(len(slots), self.dims)
            self.matrix[slots] = ints
            self.scales[slots] = scales
            self.expires[slots] = expiries

    def _current(self, state: VectorState, rows: dict[str, Row]) -> bool:
        """Whether the stored vector may be used for the entry as it is now."""
        if state.vector is None or state.scale is None or len(state.vector) != self.dims:
            return False
        if state.vector_revision == state.revision:
            return True
        row = rows.get(state.key)  # changed since: usable only if its text did not
        return row is not None and text_hash(embedding_text(row)) == state.text_hash

    def _slot_of(self, key: str) -> int:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._free.pop() if self._free else self._grow()
            self._slots[key] = slot
            self.keys[slot] = key
        return slot

    def _grow(self) -> int:
        slot = len(self.keys)
        if slot >= len(self.matrix):
            capacity = max(1024, len(self.matrix) * 2)
            self.matrix = _resized(self.matrix, capacity, 0)
            self.scales = _resized(self.scales, capacity, 0)
            self.expires = _resized(self.expires, capacity, FREE)
        self.keys.append(None)
        return slot

    def _drop(self, key: str) -> None:
        slot = self._slots.pop(key, None)
        if slot is None:
            return
        self.keys[slot] = None
        self.scales[slot] = 0
        self.expires[slot] = FREE
        self._free.append(slot)

    # ------------------------------------------------------------ reading

    def slots_under(self, prefix: str) -> np.ndarray | None:
        """The slots of keys under ``prefix`` (None: every slot)."""
        if not prefix:
            return None
        found = [i for i, k in enumerate(self.keys) if k is not None and k.startswith(prefix)]
        return np.array(found, dtype=np.int64)


def _resized(array: np.ndarray, capacity: int, fill: float) -> np.ndarray:
    shape = (capacity, *array.shape[1:])
    out = np.full(shape, fill, dtype=array.dtype)
    out[: len(array)] = array
    return out
