"""The write path: requests in, one store transaction, results out.

Every write (and delete) is a read-modify-write inside one transaction: read the
row, check the write's preconditions (``entries.preconditions``), apply the entry
rules (``entries.transitions``), write the row. A batch is all or nothing twice
over: a bad entry is refused before anything is written (``prepare``), and a
failed precondition rolls back what the batch already wrote, so the results say
which entry conflicted and the store is as it was.

Revisions come from the store when the transaction commits (PostgreSQL assigns
them in its last round trip), so results are completed after the commit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from operator import itemgetter

from lifecycle.basics.clock import Clock
from lifecycle.basics.dataclass_lite import replace
from lifecycle.entries import batch_write, preconditions, transitions
from lifecycle.entries.entry import DeleteResult, StoreResult
from lifecycle.entries.preconditions import NO_GUARD, Guard
from lifecycle.entries.write_request import MAX_BATCH, PreparedWrite, prepare_many
from lifecycle.errors import InvalidValueError
from lifecycle.policies.retention import RetentionPolicy
from lifecycle.policy_watch import PolicyWatcher
from lifecycle.store.base import Row, Store, Transaction

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Literal

    from lifecycle.entries.write_request import Request

_KEY = itemgetter(0)  # a PreparedWrite's key ...
_GUARD = itemgetter(11)  # ... and guard (the fields of ``PreparedWrite``, in order)


class _Rejected(Exception):
    """Raised inside a transaction to roll it back: a precondition failed."""

    def __init__(self, results: list[StoreResult]) -> None:
        super().__init__("precondition failed")
        self.results = results


class Writer:
    """Applies writes and deletes for one manager (its store, clock and policies)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        policies: PolicyWatcher,
        component_id: Callable[[str | None], str],
        agent_id: str,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policies = policies
        self._component_id = component_id
        self._agent_id = agent_id
        # the batch path for new last-write-wins keys (``entries.batch_write``); off, every
        # write takes the general rules (the differential tests compare the two)
        self.batch_path = True

    def _terms(self, policy: RetentionPolicy, now: float) -> transitions.WriteTerms:
        settings = self._policies.policies.settings
        return transitions.WriteTerms(policy, settings, now, self._agent_id)

    # ------------------------------------------------------------ writes

    def write_many(self, requests: Sequence[Request]) -> list[StoreResult]:
        """Apply write requests in one transaction, all checked before any is written."""
        if len(requests) > MAX_BATCH:
            raise InvalidValueError(
                f"batch of {len(requests)} entries is over the limit of {MAX_BATCH}; split it"
            )
        if len(requests) < 2 or not gc.isenabled():
            return self._write_many(requests)
        # A batch makes a dozen short-lived containers per entry, each counted towards a
        # young-generation collection that finds them still referenced by the batch (~5k
        # instructions an entry of a bulk load): no cyclic collection until the batch is
        # done. (Off only if it was on, and on again whatever happens.)
        gc.disable()
        try:
            return self._write_many(requests)
        finally:
            gc.enable()

    def write_one(self, request: Request) -> StoreResult:
        """``write_many([request])[0]``: the lone write every ``store`` makes, without a
        batch's bookkeeping when it has no precondition (the same transaction, reads and
        rows: ``_apply_all`` of one unguarded write is ``_apply`` of it)."""
        self._policies.maybe_reload()
        prepared = prepare_many(
            (request,), self._policies.policies, self._clock.now(), self._component_id
        )
        w = prepared[0]
        if w.guard is not NO_GUARD:  # (preconditions: the general rules)
            return self._write_prepared(prepared)[0]
        key = w.key
        with self._store.transaction([key]) as tx:
            result = self._apply(tx, w, tx.get(key), self._clock.now())
        return (
            _stamped(result, tx.revisions[key])
            if result.applied and not result.revision
            else result
        )

    def _write_many(self, requests: Sequence[Request]) -> list[StoreResult]:
        self._policies.maybe_reload()
        now = self._clock.now()
        policies = self._policies.policies
        prepared = prepare_many(requests, policies, now, self._component_id)
        if not prepared:
            return []
        return self._write_prepared(prepared)

    def _write_prepared(self, prepared: list[PreparedWrite]) -> list[StoreResult]:
        # (by position, not by name: a bulk load's thousand entries, each field read once)
        guards = list(map(_GUARD, prepared))
        unguarded = guards.count(NO_GUARD) == len(guards)
        if not unguarded:
            preconditions.check_issued(self._store, [g.lock_token for g in guards if g.lock_token])
        try:
            with self._store.transaction(list(map(_KEY, prepared))) as tx:
                results = self._apply_all(tx, prepared, unguarded)
        except _Rejected as rejected:
            return rejected.results
        done = tx.revisions
        # (a result of the batch path has its revision: nothing else writes one before now)
        return [_stamped(r, done[r.key]) if r.applied and not r.revision else r for r in results]

    def _apply_all(
        self, tx: Transaction, prepared: list[PreparedWrite], unguarded: bool
    ) -> list[StoreResult]:
        if self.batch_path and unguarded and len(prepared) > 1 and hasattr(tx, "take_absent"):
            # nothing can be refused: new last-write-wins keys in one loop, the rest as below
            return batch_write.write_batch(
                tx,  # type: ignore[arg-type]
                prepared,
                self._clock,
                self._agent_id,
                lambda w, now: self._apply(tx, w, tx.get(w.key), now),
            )
        results: list[StoreResult] = []
        before: dict[str, Row | None] = {}  # each key as it was before this batch
        changed: set[str] = set()
        failed = False
        for w in prepared:
            now = self._clock.now()
            row = tx.get(w.key)
            before.setdefault(w.key, row)
            why = (
                None
                if w.guard is preconditions.NO_GUARD
                else preconditions.conflict(tx, row, w.guard, now, changed=w.key in changed)
            )
            if why is not None or failed:
                failed = failed or why is not None
                results.append(_refused(w, before[w.key], now, why))
                continue
            result = self._apply(tx, w, row, now)
            if result.applied:
                changed.add(w.key)
            results.append(result)
        if failed:  # roll back what was written; report every entry as not written
            now = self._clock.now()
            raise _Rejected(
                [
                    r if r.conflict else _refused(w, before[w.key], now, None)
                    for w, r in zip(prepared, results, strict=True)
                ]
            )
        return results

    def _apply(self, tx: Transaction, w: PreparedWrite, row: Row | None, now: float) -> StoreResult:
        # (``_terms``, spelled out: every write makes one)
        terms = transitions.WriteTerms(
            w.policy, self._policies.policies.settings, now, self._agent_id
        )
        applied = w.op_id is not None and tx.op_applied(w.key, w.op_id)
        effect = transitions.write(row, w, self._clock, terms, op_applied=applied)
        if effect.row is not None:
            tx.put(effect.row)
        if effect.ops:
            tx.record_ops(w.key, effect.ops)
        result = effect.result
        if not result.applied:  # (an applied write gets its revision at commit)
            result = replace(result, revision=preconditions.current_revision(row, now))
        return result

    # ------------------------------------------------------------ deletes

    def delete(self, key: str, guard: Guard) -> DeleteResult:
        """Delete one key if its preconditions hold."""
        preconditions.check_issued(self._store, [guard.lock_token] if guard.lock_token else [])
        with self._store.transaction([key]) as tx:
            now = self._clock.now()
            row = tx.get(key)
            why = preconditions.conflict(tx, row, guard, now)
            if why is not None:
                return DeleteResult(key, False, preconditions.current_revision(row, now), why)
            kind = self._forget(tx, key, row, now)
        deleted = kind == "tombstoned"
        return DeleteResult(key, deleted, tx.revisions[key] if deleted else 0)

    def delete_keys(self, keys: list[str], *, tombstoned: bool = True) -> list[str]:
        """Delete ``keys`` in one transaction; return those tombstoned (or, when
        ``tombstoned`` is false, those that held anything, expired ones included)."""
        done: list[str] = []
        with self._store.transaction(keys) as tx:
            for key in keys:
                kind = self._forget(tx, key, tx.get(key), self._clock.now())
                if kind == "tombstoned" or (kind == "removed" and not tombstoned):
                    done.append(key)
        return done

    def _forget(
        self, tx: Transaction, key: str, row: Row | None, now: float
    ) -> Literal["absent", "removed", "tombstoned"]:
        terms = self._terms(self._policies.policies.match(key), now)
        kind, tombstone = transitions.forget(row, self._clock, terms, self._component_id(None))
        if kind == "removed":
            tx.remove(key, "expire")  # it had expired: for the change feed, an expiry
        elif tombstone is not None:
            tx.put(tombstone)
        return kind


def _stamped(result: StoreResult, revision: int) -> StoreResult:
    """``replace(result, revision=revision)`` without its cost (this is every write's hot
    path): the result was made by this call and nobody has seen it yet."""
    object.__setattr__(result, "revision", revision)
    return result


def _refused(w: PreparedWrite, row: Row | None, now: float, why: str | None) -> StoreResult:
    return replace(
        transitions.unchanged(row, w, now),
        revision=preconditions.current_revision(row, now),
        conflict=why,
    )
