"""``MemoryLifecycleManager``: the friendly API over one store.

The manager orchestrates: it opens the store, keeps the policies in force
(``policy_watch``), runs each call in one store transaction and applies the
entry rules (``entries.transitions``) inside it. Every write is a read-modify-write inside
one transaction, so concurrent writers (threads, processes, hosts) never lose
an update; every read is a single committed read, so there is no cache to go
stale between processes.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Iterator, Mapping

from lifecycle import expiries, reads
from lifecycle.basics.arguments import check_actor
from lifecycle.basics.clock import Clock, HybridLogicalClock
from lifecycle.basics.keys import full_key, namespace_prefix
from lifecycle.coordination.api import Coordination
from lifecycle.entries import transitions
from lifecycle.entries.actors import component_id, default_agent_id, replica_id
from lifecycle.entries.entry import DeleteResult, MemoryEntry, StoreResult
from lifecycle.entries.preconditions import check_guard
from lifecycle.entries.write_request import WriteRequest, requests_from
from lifecycle.errors import PolicyError
from lifecycle.gc import CleanupReport, MemoryGarbageCollector
from lifecycle.paths import resolve
from lifecycle.policies.retention import PolicySet, RetentionPolicy
from lifecycle.policy_watch import PolicyWatcher
from lifecycle.search.limits import DEFAULT_LIMIT as SEARCH_LIMIT
from lifecycle.store.backend import open_store
from lifecycle.store.base import Store
from lifecycle.writes import Writer

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:  # the declaration costs an import the hooks need not pay
    from typing import Any

    from typing_extensions import Unpack

    from lifecycle.entries.write_fields import WriteOptions

if TYPE_CHECKING:
    from pathlib import Path

    from lifecycle.search.semantic.engine import SemanticEngine
    from lifecycle.search.semantic.source import ModelSource

SESSION_BATCH = 500


class MemoryLifecycleManager(Coordination):
    """A lifecycle-managed memory: TTL policies, CRDT conflicts, compression, GC."""

    def __init__(
        self,
        memory_dir: str | os.PathLike[str] | None = None,
        policy_file: str | os.PathLike[str] | None = None,
        store: str | os.PathLike[str] | Store | None = None,
        *,
        clock: Clock | None = None,
        agent_id: str | None = None,
    ) -> None:
        # ``store`` is a URL or path to open, or an already open backend
        backend = None if store is None or isinstance(store, (str, os.PathLike)) else store
        location = store if isinstance(store, (str, os.PathLike)) else None
        paths = resolve(memory_dir, policy_file, location)
        self._paths = paths
        if paths.policy_explicit and not os.path.exists(paths.policy_path):
            raise PolicyError(
                f"{paths.policy_path}: policy file not found; create it or drop "
                "--policy-file / MEMORY_LIFECYCLE_POLICY_FILE to use the built-in policies",
                path=paths.policy_path,
            )
        self.clock: Clock = clock or HybridLogicalClock()
        self.agent_id = check_actor(agent_id) if agent_id else default_agent_id()
        self._store: Store = backend if backend is not None else open_store(paths.store_url)
        self.gc = MemoryGarbageCollector(self._store, self.clock)
        try:
            self._policies = PolicyWatcher(self._store, paths.policy_path)
            self.replica_id = replica_id(self._store)
        except BaseException:
            self._store.close()
            raise
        self._writes = Writer(
            self._store, self.clock, self._policies, self._component_id, self.agent_id
        )
        self._semantic: SemanticEngine | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def policy_file(self) -> Path:
        """The policy file in force (it may not exist: then the built-in policies)."""
        return self._paths.policy_file

    @property
    def memory_dir(self) -> Path | None:
        """The SQLite store's folder, when the store was found by folder."""
        return self._paths.memory_dir

    @property
    def store_url(self) -> str:
        return self._store.url

    @property
    def backend(self) -> Store:
        return self._store

    @property
    def policies(self) -> PolicySet:
        return self._policies.policies

    @property
    def policy_error(self) -> str | None:
        """Why an edited policy file was not applied (the previous policies stay)."""
        return self._policies.error

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> MemoryLifecycleManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ policies

    def get_policy(self, key: str, namespace: str | None = None) -> RetentionPolicy:
        """The policy that governs ``key`` (the default policy when nothing matches)."""
        self._policies.maybe_reload()
        return self.policies.match(full_key(key, namespace))

    _get_policy = get_policy  # the seed's troubleshooting section calls it this way

    def reload_policies(self, only_if_changed: bool = False) -> bool:
        """Re-read the policy file; a changed policy re-applies to stored entries."""
        return self._policies.reload(only_if_changed)

    def _component_id(self, agent_id: str | None) -> str:
        return component_id(agent_id or self.agent_id, self.replica_id)

    def _terms(self, key: str, now: float) -> transitions.WriteTerms:
        return transitions.WriteTerms(
            self.policies.match(key), self.policies.settings, now, self.agent_id
        )

    # ------------------------------------------------------------ writes

    def store(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        timestamp: float | None = None,
        **options: Unpack[WriteOptions],
    ) -> bool:
        """Store ``value`` under ``key``, merged by the key's conflict strategy. ``options``
        are the keyword fields of a write, each described in ``lifecycle.entries.write_fields``
        (``ttl_seconds``, ``agent_id``, ``op_id``, ``context``, ``tags``, ``if_revision``,
        ``lock``, ``lock_token``, ``provenance_type``). False only when a precondition
        (``if_revision``, ``lock`` + ``lock_token``) failed."""
        request = WriteRequest(key, value, namespace, timestamp, **options)
        return self._writes.write_one(request).conflict is None  # (``write``, one call fewer)

    def put(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        timestamp: float | None = None,
        **options: Unpack[WriteOptions],
    ) -> StoreResult:
        """Like ``store`` but returns what happened (what the MCP tool reports)."""
        return self.write(WriteRequest(key, value, namespace, timestamp, **options))

    def write(self, request: WriteRequest) -> StoreResult:
        """Apply one write request in its own transaction."""
        return self._writes.write_one(request)

    def store_many(
        self, items: Iterable[WriteRequest | Mapping[str, Any] | tuple[str, Any]]
    ) -> builtins.list[StoreResult]:
        """Store several entries in one transaction: all are validated before any is written."""
        return self._writes.write_many(requests_from(items))

    def write_many(self, requests: builtins.list[WriteRequest]) -> builtins.list[StoreResult]:
        """Apply write requests in one transaction, all checked before any is written; a
        failed precondition in any of them writes none (``lifecycle.writes``)."""
        return self._writes.write_many(requests)

    # ------------------------------------------------------------ reads

    def retrieve(self, key: str, namespace: str | None = None) -> Any | None:
        """The value under ``key``, or ``None`` when absent or expired."""
        live = self._read(key, namespace)
        return None if live is None else live[2].value

    def retrieve_entry(self, key: str, namespace: str | None = None) -> MemoryEntry | None:
        """The entry with its conflicts, context token and lifecycle metadata."""
        live = self._read(key, namespace)
        return None if live is None else reads.to_entry(live)

    def _read(self, key: str, namespace: str | None) -> reads.LiveEntry | None:
        self._policies.maybe_reload()
        return reads.read(self._store, full_key(key, namespace), self.clock.now())

    def list(
        self,
        prefix: str = "",
        limit: int = 100,
        cursor: str | None = None,
        tags: builtins.list[str] | None = None,
        namespace: str | None = None,
        *,
        offset: int = 0,
        include_values: bool = False,
    ) -> dict[str, Any]:
        """Live entries in key order (under ``namespace``, carrying all of ``tags``); pass
        ``next_cursor`` back to get the next page (or skip ``offset`` entries instead).
        ``include_values`` adds each entry's ``value``."""
        now = self.clock.now()
        return reads.list_page(
            self._store,
            prefix,
            limit,
            cursor,
            now,
            tags=tags,
            namespace=namespace,
            offset=offset,
            include_values=include_values,
        )

    def search(
        self,
        query: str,
        prefix: str = "",
        tags: builtins.list[str] | None = None,
        limit: int = SEARCH_LIMIT,
        cursor: str | None = None,
        namespace: str | None = None,
        provenance_filter: builtins.list[str] | None = None,
        mode: str | None = None,
        threshold: float | None = None,
        smart: bool | None = None,
    ) -> dict[str, Any]:
        """Search, best match first: ``results``, ``next_cursor``, ``mode`` (what ran) and
        ``pending``. ``mode`` is ``keyword`` (full text: ``lifecycle.search.keyword`` tells the
        syntax and the paging guarantee), ``semantic`` or ``hybrid`` (by meaning:
        ``lifecycle.search.semantic``); the default is hybrid when a model is available. With
        ``provenance_filter``, only entries whose ``provenance_type`` is one of those."""
        return self.semantic.search(
            query,
            prefix=prefix,
            tags=tags,
            limit=limit,
            cursor=cursor,
            namespace=namespace,
            provenance_filter=provenance_filter,
            mode=mode,
            threshold=threshold,
            smart=smart,
        )

    def index(self, limit: int | None = None, progress: Any = None) -> dict[str, Any]:
        """Embed the entries pending for search by meaning now: ``embedded`` (live entries
        with a current vector after the run), ``indexed`` (embedded by this run),
        ``pending``, ``model``. ``progress(done, total)`` is called after each batch."""
        return self.semantic.index(limit, progress)

    @property
    def semantic(self) -> SemanticEngine:
        """Recall by meaning, made on first use: a hook or a plain write never imports it
        (its modules, and the model stack it may load, cost a hook process time)."""
        if self._semantic is None:
            from lifecycle.search.semantic.engine import SemanticEngine

            self._semantic = SemanticEngine(self._store, self.clock, self._model_source)
        return self._semantic

    def _model_source(self) -> ModelSource:
        from lifecycle.search.semantic.source import model_source

        return model_source(self.policies.settings.embedding_model_path, self.policy_file)

    def reindex(self) -> dict[str, Any]:
        """Rebuild the search index of every entry: ``indexed``, ``duration_ms``."""
        from lifecycle.search import keyword as full_text

        return full_text.reindex(self._store)

    # ------------------------------------------------------------ deletes and maintenance

    def delete(
        self,
        key: str,
        namespace: str | None = None,
        *,
        if_revision: int | None = None,
        lock: str | None = None,
        lock_token: int | None = None,
    ) -> bool:
        """Delete ``key``; a tombstone keeps older replicas' exports from resurrecting it."""
        return self.delete_entry(
            key, namespace, if_revision=if_revision, lock=lock, lock_token=lock_token
        ).deleted

    def delete_entry(
        self,
        key: str,
        namespace: str | None = None,
        *,
        if_revision: int | None = None,
        lock: str | None = None,
        lock_token: int | None = None,
    ) -> DeleteResult:
        """Like ``delete`` but returns what happened (revision, conflict)."""
        k = full_key(key, namespace)
        self._policies.maybe_reload()
        return self._writes.delete(k, check_guard(if_revision, lock, lock_token, k))

    def delete_session(self, session_id: str, limit: int | None = None) -> builtins.list[str]:
        """Delete ``session/<id>``, ``session/<id>/*`` and ``coordination/<id>/*`` (at most
        ``limit`` of them: a hook's bound).

        Like ``delete``, each leaves a tombstone, so a replica's older export does not
        bring the session back. Returns the keys that held something.
        """
        from lifecycle.sessions import session_keys

        keys = session_keys(self._store, session_id, limit)
        deleted: builtins.list[str] = []
        for start in range(0, len(keys), SESSION_BATCH):
            batch = keys[start : start + SESSION_BATCH]
            deleted += self._writes.delete_keys(batch, tombstoned=False)
        return deleted

    def cleanup(
        self, force: bool = False, *, namespace: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """Collect expired entries (``force`` includes manual-strategy ones), only under
        ``<namespace>/`` when given (``default``: the whole store). ``dry_run`` deletes
        nothing and reports what would go: ``would_delete_count``, ``by_namespace`` and
        the first 100 ``keys``."""
        prefix = namespace_prefix(namespace)
        if dry_run:
            self._policies.maybe_reload()
            return self.gc.preview(force=force, prefix=prefix)
        return self.collect(force=force, prefix=prefix).to_dict()

    def collect(
        self, force: bool = False, prefix: str = "", limit: int | None = None
    ) -> CleanupReport:
        """One collection pass (``gc.collect``); ``limit`` bounds it (a hook's pass)."""
        self._policies.maybe_reload()
        settings = self.policies.settings
        return self.gc.collect(
            force=force,
            prefix=prefix,
            op_id_window_seconds=settings.op_id_window_seconds,
            change_log_max_entries=settings.change_log_max_entries,
            limit=limit,
        )

    def reset(self) -> bool:
        """Delete every entry and tombstone (tests, or starting over)."""
        self._store.reset()
        return True

    def get_stats(self) -> dict[str, Any]:
        from lifecycle import stats  # (imported here: no hook asks for it)

        now = self.clock.now()
        summary = stats.summarize(self._store, self.policies, now, self.policy_error)
        return {**summary, **self.semantic.stats(now)}

    def upcoming_expiries(
        self,
        horizon_seconds: float = expiries.DEFAULT_HORIZON_SECONDS,
        buckets: int = expiries.DEFAULT_BUCKETS,
    ) -> dict[str, Any]:
        """How many entries expire in each of ``buckets`` equal slices of the next
        ``horizon_seconds``, per policy (``lifecycle.expiries``)."""
        return expiries.upcoming(self._store, self.clock.now(), horizon_seconds, buckets)

    # ------------------------------------------------------------ replication

    def export_entries(self) -> Iterator[dict[str, Any]]:
        """Every entry and tombstone with its full CRDT state, as plain dicts."""
        from lifecycle import replication

        return replication.export_entries(self._store)

    def merge_entries(self, entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Merge exported entries by the same CRDT rules as live writes."""
        from lifecycle import replication

        self._policies.maybe_reload()
        return replication.merge_entries(self._store, self.clock, self._terms, entries)


__all__ = ["MemoryLifecycleManager"]
