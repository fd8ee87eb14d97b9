"""The backends against the storage contract, checked statically (``make lint`` runs mypy).

``Store`` and ``Transaction`` are Protocols: nothing at run time makes a
backend implement them. These functions type-check only if every backend (and
its transaction) has every method of the contract with a compatible signature.
The contract suite (``tests/lifecycle/store/test_contract.py``) checks the
behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.store.base import Store, Transaction
    from lifecycle.store.postgres.store import PostgresStore, PostgresTransaction
    from lifecycle.store.sqlite.store import SQLiteStore
    from lifecycle.store.sqlite.transaction import SQLiteTransaction

    def _sqlite_conforms(store: SQLiteStore, tx: SQLiteTransaction) -> tuple[Store, Transaction]:
        return store, tx

    def _postgres_conforms(
        store: PostgresStore, tx: PostgresTransaction
    ) -> tuple[Store, Transaction]:
        return store, tx
