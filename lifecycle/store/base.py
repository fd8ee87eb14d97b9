"""The storage contract: what every backend must provide.

Backends know rows (bytes, keys, timestamps, ``expires_at``) and
transactions; policies, CRDT merges and compression live once, above them,
in the manager. A new backend passes the same contract suite as SQLite
(``tests/lifecycle/store/test_contract.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class Row:
    """One stored entry (or tombstone) exactly as a backend keeps it."""

    key: str
    policy: str  # the matched policy pattern, for stats and recomputation
    strategy: str  # conflict strategy the payload's CRDT state is typed as
    cleanup: str  # cleanup strategy, denormalized so expiry is one indexed DELETE
    codec: str  # how to read ``payload`` (see lifecycle.codec)
    payload: bytes
    size_bytes: int  # serialized size of the value(s) before compression
    created_at: float
    updated_at: float
    expires_at: float | None
    ttl_seconds: float | None  # a per-call TTL override, kept so expiry can be recomputed
    actor: str
    tombstone: bool = False


@dataclass(slots=True)
class SweepResult:
    """What one expiry sweep deleted: counts per policy, not the rows themselves,
    so a sweep of 100,000 entries stays one indexed DELETE."""

    by_policy: dict[str, int]
    tombstones: int
    sample_keys: list[str]  # up to ``sample`` deleted live keys, for hook reports


@dataclass(slots=True)
class PolicyStats:
    policy: str
    entries: int = 0
    total_bytes: int = 0
    stored_bytes: int = 0
    compressed: int = 0
    expired_pending: int = 0
    next_expiry: float | None = None


class Transaction(Protocol):
    """A write transaction holding the store's write lock (SQLite) or per-key locks
    (PostgreSQL: taken for the announced keys up front, for any other key on first
    touch, and held until commit, absent keys included). ``get`` sees the
    transaction's own ``put`` / ``remove``; an exception rolls every write back."""

    def get(self, key: str) -> Row | None: ...

    def put(self, row: Row) -> None: ...

    def remove(self, key: str) -> bool: ...

    def op_applied(self, key: str, op_id: str) -> bool:
        """Whether ``op_id`` was applied to ``key`` (and not yet purged by age)."""

    def record_ops(self, key: str, ops: Mapping[str, float]) -> None:
        """Remember op ids as applied to ``key`` at the given times (a later time wins)."""


class Store(Protocol):
    """The primitive contract. All methods are safe to call from several threads."""

    url: str

    def transaction(self, keys: Sequence[str] = ()) -> AbstractContextManager[Transaction]:
        """A read-modify-write transaction; ``keys`` are the rows it will touch (lock hints)."""

    def get(self, key: str) -> Row | None:
        """A committed read, outside any transaction."""

    def list_rows(self, prefix: str, after: str | None, limit: int, now: float) -> list[Row]:
        """Live, unexpired rows whose keys start with ``prefix``, in key order after ``after``."""

    def keys_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Keys of live (non-tombstone) rows under ``prefix``, expired ones included."""

    def iter_rows(self, include_tombstones: bool = True) -> Iterator[Row]:
        """Every row, for export and recomputation."""

    def delete_expired(
        self, now: float, strategies: Sequence[str], prefix: str = "", sample: int = 100
    ) -> SweepResult:
        """Delete, in one transaction, expired rows under ``prefix`` whose cleanup is in
        ``strategies``, plus expired tombstones."""

    def delete_expired_key(self, key: str, now: float) -> bool:
        """Lazy deletion of one key, only if it is still expired."""

    def stats(self, now: float) -> list[PolicyStats]:
        """Per-policy aggregates over live rows."""

    def count_tombstones(self) -> int: ...

    def applied_ops(self, keys: Sequence[str]) -> dict[str, dict[str, float]]:
        """The op ids remembered for each of ``keys`` (for export)."""

    def purge_ops(self, before: float) -> int:
        """Forget op ids applied before ``before``; return how many."""

    def reset(self) -> int:
        """Delete every row (and every remembered op id); return how many rows."""

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...

    def acquire_lease(self, name: str, holder: str, now: float, duration: float) -> bool:
        """Take or renew the named lease unless another holder has it unexpired."""

    def release_lease(self, name: str, holder: str) -> None: ...

    def size_bytes(self) -> int | None:
        """The store's size on disk, where the backend can tell (SQLite: the file plus its
        write-ahead log; PostgreSQL: the schema's tables with their indexes and TOAST)."""

    def compact(self) -> None:
        """Give space freed by deletes back where the backend needs asking (SQLite:
        converts a store made before incremental auto-vacuum, once, and empties the WAL;
        PostgreSQL: nothing, its autovacuum does it). Run by maintenance, one at a time."""

    def close(self) -> None: ...
