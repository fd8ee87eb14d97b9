"""The storage contract: what every backend must provide.

Backends know rows (bytes, keys, timestamps, ``expires_at``) and
transactions; policies, CRDT merges and compression live once, above them,
in the manager. A new backend passes the same contract suite as SQLite
(``tests/lifecycle/store/test_contract.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from lifecycle.basics.dataclass_lite import Record
from lifecycle.basics.typing_lite import NamedTuple, Protocol
from lifecycle.store.text_index import Query, SearchDoc

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from lifecycle.store.vectors import VectorStore

# Above every other character (in byte order too): a key range ``[prefix, prefix +
# PREFIX_END)`` holds every key under ``prefix``, on both backends.
PREFIX_END = "\U0010ffff"


class Row(Record):
    """One stored entry (or tombstone) exactly as a backend keeps it.

    ``search`` is the entry's indexed text, written with the row in the same
    transaction. Rows read back carry ``None`` (the text is not read), and
    ``put`` of a row whose ``search`` is ``None`` leaves the indexed text as it
    is, so a row re-put unchanged (a policy change) keeps its index entry. A
    tombstone is never indexed.
    """

    __slots__ = (
        "actor",
        "cleanup",
        "codec",
        "created_at",
        "expires_at",
        "key",
        "payload",
        "policy",
        "revision",
        "search",
        "size_bytes",
        "strategy",
        "tags",
        "tombstone",
        "ttl_seconds",
        "updated_at",
    )
    key: str
    policy: str  # the matched policy pattern, for stats and recomputation
    strategy: str  # conflict strategy the payload's CRDT state is typed as
    cleanup: str  # cleanup strategy, denormalized so expiry is one indexed DELETE
    codec: str  # how to read ``payload`` (see lifecycle.entries.codec)
    payload: bytes
    size_bytes: int  # serialized size of the value(s) before compression
    created_at: float
    updated_at: float
    expires_at: float | None
    ttl_seconds: float | None  # a per-call TTL override, kept so expiry can be recomputed
    actor: str
    tombstone: bool
    tags: tuple[str, ...]  # the entry's tags, sorted (none on a tombstone)
    search: SearchDoc | None
    # the store revision of the row's last applied change (0: written before revisions);
    # assigned by the transaction that writes the row, not by the caller
    revision: int

    def __init__(
        self,
        key: str,
        policy: str,
        strategy: str,
        cleanup: str,
        codec: str,
        payload: bytes,
        size_bytes: int,
        created_at: float,
        updated_at: float,
        expires_at: float | None,
        ttl_seconds: float | None,
        actor: str,
        tombstone: bool = False,
        tags: tuple[str, ...] = (),
        search: SearchDoc | None = None,
        revision: int = 0,
    ) -> None:
        self.key = key
        self.policy = policy
        self.strategy = strategy
        self.cleanup = cleanup
        self.codec = codec
        self.payload = payload
        self.size_bytes = size_bytes
        self.created_at = created_at
        self.updated_at = updated_at
        self.expires_at = expires_at
        self.ttl_seconds = ttl_seconds
        self.actor = actor
        self.tombstone = tombstone
        self.tags = tags
        self.search = search
        self.revision = revision


class SearchHit(Record):
    """A matching row with the backend's relevance score (higher is better); ``cut_off``
    when the backend ranked it within a window of recent matches, not among them all
    (a query found in too many entries to score them every time)."""

    __slots__ = ("cut_off", "row", "score")
    row: Row
    score: float
    cut_off: bool

    def __init__(self, row: Row, score: float, cut_off: bool = False) -> None:
        self.row = row
        self.score = score
        self.cut_off = cut_off


class SweepResult(Record):
    """What one expiry sweep deleted: counts per policy, not the rows themselves,
    so a sweep of 100,000 entries stays one indexed DELETE."""

    __slots__ = ("by_policy", "sample_keys", "tombstones")
    by_policy: dict[str, int]
    tombstones: int
    sample_keys: list[str]  # up to ``sample`` deleted live keys, for hook reports

    def __init__(self, by_policy: dict[str, int], tombstones: int, sample_keys: list[str]) -> None:
        self.by_policy = by_policy
        self.tombstones = tombstones
        self.sample_keys = sample_keys


# one transaction of a sweep: (sample keys wanted, rows at most) -> what it deleted, and
# how many rows that was (live entries and tombstones)
SweepBatch = Callable[[int, int], tuple[SweepResult, int]]


def sweep_in_batches(
    sweep_batch: SweepBatch, sample: int, limit: int | None, size: int
) -> SweepResult:
    """A sweep as transactions of at most ``size`` rows each, until one deletes fewer
    than it was allowed (nothing expired is left) or ``limit`` rows in all are gone:
    each transaction holds its locks briefly, and a hook's bounded sweep stops early."""
    by_policy: dict[str, int] = {}
    tombstones = 0
    keys: list[str] = []
    left = limit
    while left is None or left > 0:
        batch = size if left is None else min(left, size)
        swept, deleted = sweep_batch(max(sample - len(keys), 0), batch)
        for policy, count in swept.by_policy.items():
            by_policy[policy] = by_policy.get(policy, 0) + count
        tombstones += swept.tombstones
        keys += swept.sample_keys
        if deleted < batch:
            break
        if left is not None:
            left -= deleted
    return SweepResult(by_policy, tombstones, keys)


# (NamedTuples rather than dataclasses: a hook imports this module, and creating a
# frozen slotted dataclass costs ~0.5 ms at import against ~0.07 ms for a NamedTuple)


class Change(NamedTuple):
    """One entry of the change log: ``key`` changed at ``revision``."""

    revision: int
    key: str
    op: str  # put | delete | expire
    policy: str


class ChangePage(NamedTuple):
    """What one read of the change log saw, from one consistent snapshot."""

    changes: list[Change]  # after the asked revision, under the prefix, in revision order
    head: int  # the store's revision: every change up to it is committed and visible
    compacted: int  # changes up to this revision are no longer kept
    complete: bool  # False when ``limit`` cut the page short (more changes after the last)


class LockState(NamedTuple):
    """A lock as the store holds it; ``token`` is None when the caller did not get it."""

    name: str
    owner: str
    token: int | None
    expires_at: float
    acquired: bool = True


class ExpiryBucket(NamedTuple):
    """How many live entries of ``policy`` expire in time bucket ``bucket`` (see
    ``Store.expiry_buckets``)."""

    bucket: int
    policy: str
    entries: int


class PolicyStats(Record):
    __slots__ = (
        "compressed",
        "entries",
        "expired_pending",
        "next_expiry",
        "policy",
        "stored_bytes",
        "total_bytes",
    )
    policy: str
    entries: int
    total_bytes: int
    stored_bytes: int
    compressed: int
    expired_pending: int
    next_expiry: float | None

    def __init__(
        self,
        policy: str,
        entries: int = 0,
        total_bytes: int = 0,
        stored_bytes: int = 0,
        compressed: int = 0,
        expired_pending: int = 0,
        next_expiry: float | None = None,
    ) -> None:
        self.policy = policy
        self.entries = entries
        self.total_bytes = total_bytes
        self.stored_bytes = stored_bytes
        self.compressed = compressed
        self.expired_pending = expired_pending
        self.next_expiry = next_expiry


class Transaction(Protocol):
    """A write transaction holding the store's write lock (SQLite) or per-key locks
    (PostgreSQL: taken for the announced keys up front, for any other key on first
    touch, and held until commit, absent keys included). ``get`` sees the
    transaction's own ``put`` / ``remove``; an exception rolls every write back.

    Every ``put`` and ``remove`` is a change: it gets the store's next revision and an
    entry in the change log, committed with it (several changes of one key in one
    transaction are one change). ``revisions`` maps each changed key to its revision
    once the transaction has committed (PostgreSQL assigns them just before COMMIT).
    """

    revisions: dict[str, int]

    def get(self, key: str) -> Row | None: ...

    def put(self, row: Row, *, change: bool = True) -> None:
        """Write ``row``; ``change=False`` rewrites metadata only (a policy re-applied):
        the row keeps its revision and nothing is logged."""

    def remove(self, key: str, op: str = "delete") -> bool:
        """Delete the row physically; ``op`` is what the change log says (delete/expire)."""

    def held_lock(self, name: str, now: float) -> int | None:
        """The token of the unexpired holder of lock ``name``, else None. On PostgreSQL
        the lock row stays share-locked until commit, so the lock cannot change hands
        before this transaction's writes are committed."""

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

    def list_rows(
        self, prefix: str, after: str | None, limit: int, now: float, tags: Sequence[str] = ()
    ) -> list[Row]:
        """Live, unexpired rows whose keys start with ``prefix``, in key order after ``after``,
        carrying every one of ``tags``."""

    def newest_rows(self, prefix: str, limit: int, now: float) -> list[Row]:
        """Up to ``limit`` live, unexpired rows whose keys start with ``prefix``, the most
        recently written (highest revision) first; through an index for the prefixes of
        ``store.newest.INDEXED`` (O(limit)), by sorting the key range for any other."""

    def search(
        self,
        query: Query,
        *,
        prefix: str,
        tags: Sequence[str],
        now: float,
        after: tuple[float, str] | None,
        limit: int,
    ) -> list[SearchHit]:
        """Live, unexpired rows matching every term of ``query``, under ``prefix``, carrying
        every one of ``tags``: best score first, ties in key order, strictly after the
        ``(score, key)`` of ``after``. A score depends only on the row's indexed text,
        the query and (SQLite's bm25) index-wide word statistics."""

    def index_pending(self, compute: Callable[[Row], SearchDoc], limit: int) -> int | None:
        """Index up to ``limit`` live rows that have no index entry (written before search
        existed, or by an older version), ``compute`` giving each its text; return how
        many (0 when another indexer took them first), or ``None`` when none was
        pending. Safe beside writers and other indexers: each row is indexed under the
        same lock its writers take, so none is indexed from a stale read or twice."""

    def clear_search_index(self) -> None:
        """Forget every index entry (``reindex``; ``index_pending`` then rebuilds them)."""

    def vectors(self) -> VectorStore:
        """The table of embeddings for semantic search (``store.vectors``)."""

    def keys_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Keys of live (non-tombstone) rows under ``prefix``, expired ones included."""

    def iter_rows(self, include_tombstones: bool = True) -> Iterator[Row]:
        """Every row, for export and recomputation."""

    def delete_expired(
        self,
        now: float,
        strategies: Sequence[str],
        prefix: str = "",
        sample: int = 100,
        limit: int | None = None,
    ) -> SweepResult:
        """Delete expired rows under ``prefix`` whose cleanup is in ``strategies``, plus
        expired tombstones, those that expired first first (the expiry index's order), in
        transactions of at most ``SWEEP_BATCH`` rows, so each holds its locks briefly;
        at most ``limit`` rows in all (a hook's bounded sweep), else all of them."""

    def find_expired(
        self,
        now: float,
        strategies: Sequence[str],
        prefix: str = "",
        sample: int = 100,
        limit: int | None = None,
    ) -> SweepResult:
        """What ``delete_expired`` with the same arguments would delete now, deleting
        nothing (a cleanup's dry run; with ``limit``, a bounded count of what is left):
        counts per policy, tombstones, the first keys in key order. A read: it works on
        a read-only store."""

    def delete_expired_key(self, key: str, now: float) -> bool:
        """Lazy deletion of one key, only if it is still expired."""

    def stats(self, now: float) -> list[PolicyStats]:
        """Per-policy aggregates over live rows."""

    def count_tombstones(self) -> int: ...

    def expiry_buckets(self, start: float, width: float, count: int) -> list[ExpiryBucket]:
        """Live rows expiring in ``[start, start + width * count)``, counted per bucket
        (bucket ``i`` holds ``[start + i * width, start + (i + 1) * width)``) and policy,
        in (bucket, policy) order; empty buckets are left out. One indexed range scan."""

    def applied_ops(self, keys: Sequence[str]) -> dict[str, dict[str, float]]:
        """The op ids remembered for each of ``keys`` (for export)."""

    def purge_ops(self, before: float, limit: int | None = None) -> int:
        """Forget op ids applied before ``before`` (with ``limit``, at most that many, those
        applied first); return how many."""

    def reset(self) -> int:
        """Delete every row (and every remembered op id); return how many rows."""

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...

    def take_turn(self, name: str, holder: str, now: float, duration: float) -> bool:
        """Take or renew the named turn (one maintenance run or indexer per store at a time)
        unless another holder has it unexpired. Turns live in the ``leases`` table, a name
        kept for stores made before turns were called turns; a lock's lease is ``locks``."""

    def end_turn(self, name: str, holder: str) -> None: ...

    def size_bytes(self) -> int | None:
        """The store's size on disk, where the backend can tell (SQLite: the file plus its
        write-ahead log; PostgreSQL: the schema's tables with their indexes and TOAST)."""

    def read_only(self) -> str | None:
        """Why writes cannot work now, in a few words (SQLite: "its folder is on a
        read-only file system", "the disk is full (0 bytes free)"), or None. Reads work
        either way; a write is refused with one line saying this."""

    def give_back_space(self) -> None:
        """After a cleanup's deletes (its last step): return what they freed, best effort,
        quickly when there is nothing to return (hooks run a cleanup on every task).
        SQLite: rebuilds the search index when sweeps removed much of it, returns free
        pages, empties the WAL after a large sweep; PostgreSQL: nothing (autovacuum)."""

    def compact(self) -> None:
        """Give space freed by deletes back where the backend needs asking (SQLite:
        converts a store made before incremental auto-vacuum, once, and empties the WAL;
        PostgreSQL: nothing, its autovacuum does it). Run by maintenance, one at a time."""

    # ------------------------------------------------------------ revisions and changes

    def current_revision(self) -> int:
        """The revision of the last committed change (0 for a new store)."""

    def read_changes(self, after: int, prefix: str, limit: int) -> ChangePage:
        """Logged changes after revision ``after`` under ``prefix``, from one snapshot."""

    def compact_changes(self, keep: int, limit: int | None = None) -> int:
        """Forget all but the newest ``keep`` changes (with ``limit``, at most the oldest
        ``limit`` revisions of those); return how many were dropped."""

    def trim_backlog(self, before: float, keep: int, limit: int) -> int:
        """What ``purge_ops(before)`` and ``compact_changes(keep)`` would still remove (op
        ids, changes), counted up to ``limit``: what a bounded trim left."""

    def change_token(self) -> int:
        """An opaque value that moves when another process or thread commits (call it
        from the thread that then waits)."""

    def wait_for_change(self, token: int, timeout: float) -> bool:
        """Block until something may have been committed since ``token`` was taken (a
        spurious wakeup is allowed), the store closes, or ``timeout`` seconds pass."""

    # ------------------------------------------------------------ locks

    def acquire_lock(self, name: str, owner: str, now: float, ttl: float) -> LockState:
        """Take lock ``name`` (a new, greater token), renew it (same owner, unexpired:
        same token), or report its current holder (``acquired=False``, no token)."""

    def release_lock(self, name: str, token: int, now: float) -> bool:
        """Release the lock held with ``token``; False unless it was held and unexpired."""

    def list_locks(self, now: float) -> list[LockState]:
        """Unexpired locks in name order."""

    def last_lock_token(self) -> int:
        """The greatest token ever issued (0 before the first)."""

    def close(self) -> None: ...
