"""The vector table's contract: what semantic search needs from a backend.

Embeddings are derived data, like the full-text index, but made off the write
path: a write never touches them. Each backend keeps one row per live entry
that has been embedded (``sqlite_vectors``, ``postgres_vectors``), in the same
database as the entries, so copying the store copies them, and neither backend
needs a database extension (the search runs in Python, ``lifecycle.search.semantic``).

A row records what it was made from: the ``model``, the entry ``revision`` it
was computed for, and ``text_hash``, a hash of the entry's searchable text.
A vector is *current* when its revision is the entry's; when the entry changed
since, the vector is used again only if the text hash of the entry as it is now
equals the stored one (a TTL refresh or a counter bump leaves the text alone), and
the indexer then stamps the new revision on it without running the model. So a
stale vector is never used, and text that did not change is never embedded twice.

Vectors go with their entry, in the same statement: deleting an entry row (a
delete, an expiry sweep, a reset) or turning it into a tombstone deletes its
vector (a trigger on SQLite, a foreign key and a trigger on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

from lifecycle.basics.typing_lite import NamedTuple, Protocol

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

# ``Row`` (store.base) is written ``Any`` here: base.py imports this module for the Store
# contract, and no module imports itself back through others (tests/test_architecture.py)
if TYPE_CHECKING:
    Row = Any


class VectorState(NamedTuple):
    """A live entry as the in-memory index loads it: its key, expiry and revision, and
    its stored vector for the model asked for (``None`` fields when it has none)."""

    key: str
    expires_at: float | None
    revision: int
    vector_revision: int | None
    text_hash: bytes | None
    scale: float | None
    vector: bytes | None


class PendingRow(NamedTuple):
    """A live entry without a current vector, with what it had (to skip the model when
    its text did not change)."""

    row: Row
    text_hash: bytes | None
    scale: float | None
    vector: bytes | None


class NewVector(NamedTuple):
    """A vector to save for ``key``, made from the entry at ``revision``."""

    key: str
    revision: int
    text_hash: bytes
    scale: float
    vector: bytes


class VectorCounts(NamedTuple):
    live: int  # live (unexpired, not deleted) entries
    embedded: int  # of those, with a current vector of the model


class VectorStore(Protocol):
    """One backend's vector table. Every method is one short statement or transaction,
    safe beside writers and other indexers."""

    def states(self, model: str, after: str, limit: int) -> list[VectorState]:
        """Live (non-tombstone) entries in key order after ``after``, expired ones
        included (the caller filters by time), each with its vector of ``model``."""

    def states_of(self, model: str, keys: Sequence[str]) -> list[VectorState]:
        """``states`` for these keys (absent and deleted ones are left out)."""

    def pending(self, model: str, now: float, after: str, limit: int) -> list[PendingRow]:
        """Live, unexpired entries in key order after ``after`` whose vector of ``model``
        is missing or was made for another revision."""

    def save(self, model: str, vectors: Sequence[NewVector], now: float) -> int:
        """Store these vectors, each only if its entry is still live at the revision it
        was made from (an entry changed meanwhile stays pending); return how many."""

    def last_saved(self) -> int:
        """The number of the last batch of vectors saved (0 before the first)."""

    def saved_since(self, model: str, after: int, limit: int) -> tuple[list[VectorState], int]:
        """States of live entries whose ``model`` vector was saved in a batch after
        ``after``, in batch order, and the last batch number they reach (``after`` when
        none): how another process's index learns of new vectors, which the change feed
        does not carry. Batches commit in the order of their numbers."""

    def rows(self, keys: Sequence[str]) -> dict[str, Row]:
        """The stored rows of these keys, tombstones included (the caller filters)."""

    def counts(self, model: str | None, now: float) -> VectorCounts:
        """How many live entries there are, and how many have a current ``model`` vector."""

    def forget(self, keep_model: str | None = None) -> int:
        """Delete every vector not made by ``keep_model`` (all when None), and any left
        without a live entry; return how many."""
