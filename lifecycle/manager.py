"""``MemoryLifecycleManager``: the friendly API over one store.

Policies, CRDT merges, compression and expiry live here, once, above the
storage backends. Every write is a read-modify-write inside one store
transaction, so concurrent writers (threads, processes, hosts) never lose an
update; every read is a single committed read, so there is no cache to go
stale between processes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import codec, crdt
from .arguments import check_actor, check_op_id, check_seconds, decode_cursor, encode_cursor
from .clock import Clock, HybridLogicalClock
from .entry import Conflict, MemoryEntry, StoreResult
from .errors import InvalidValueError, PolicyError, clip
from .gc import CleanupReport, MemoryGarbageCollector
from .keys import full_key, validate_key
from .paths import resolve
from .policy import (
    CleanupStrategy,
    PolicySet,
    RetentionPolicy,
    builtin_policies,
    parse_policies,
    policies_from_document,
    policies_to_document,
)
from .replication import ReplicationMixin, expired
from .store import Row, Store, open_store

ENV_AGENT = "MEMORY_LIFECYCLE_AGENT_ID"
log = logging.getLogger("memory_lifecycle")
POLICY_META = "policy_fingerprint"
POLICY_CACHE_META = "policy_cache"
POLICY_CACHE_FORMAT = "v1"
REPLICA_META = "replica_id"
POLICY_RECHECK_SECONDS = 1.0
MAX_LIST_LIMIT = 1000
MAX_BATCH = 1000
MAX_SESSION_KEYS = 100_000
MAX_TIMESTAMP = 1e11  # epoch seconds, about the year 5138


def display_actor(component: str) -> str:
    """The agent id inside a CRDT component id ``<agent>#<replica>``."""
    agent, sep, _ = component.rpartition("#")
    return agent if sep else component


def default_agent_id() -> str:
    return os.environ.get(ENV_AGENT) or (
        f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )


@dataclass
class _Write:
    """One validated store call, ready to apply inside a transaction."""

    key: str
    value: Any
    data: bytes  # the value serialized once, spliced into the stored document
    data_hash: str
    policy: RetentionPolicy
    timestamp: float | None
    ttl_seconds: float | None
    actor: str
    op_id: str | None
    context: dict[str, int] | None


class MemoryLifecycleManager(ReplicationMixin):
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
        paths = resolve(memory_dir, policy_file, None if backend is not None else store)
        self.policy_file: Path = paths.policy_file
        self.memory_dir = paths.memory_dir
        if paths.policy_explicit and not self.policy_file.exists():
            raise PolicyError(
                f"{self.policy_file}: policy file not found; create it or drop "
                "--policy-file / MEMORY_LIFECYCLE_POLICY_FILE to use the built-in policies",
                path=str(self.policy_file),
            )
        self.clock: Clock = clock or HybridLogicalClock()
        self.agent_id = check_actor(agent_id) if agent_id else default_agent_id()
        self._store: Store = backend if backend is not None else open_store(paths.store_url)
        self.gc = MemoryGarbageCollector(self._store, self.clock)
        try:
            self._policy_stamp = self._stat_policy()
            self._policy_checked = time.monotonic()
            self.policy_error: str | None = None
            self.policies: PolicySet = self._load_policies()
            self._sync_policy_fingerprint()
            self.replica_id = self._replica_id()
        except BaseException:
            self._store.close()
            raise

    def _replica_id(self) -> str:
        """This store's id, part of every CRDT component written through it.

        Counter components and multi-value dots are keyed by ``<agent>#<replica>``, so
        one agent id writing to two stores that later exchange exports counts twice,
        not once (a PN-counter merges each component by max).
        """
        existing = self._store.get_meta(REPLICA_META)
        if existing:
            return existing
        self._store.set_meta(REPLICA_META, f"r{uuid.uuid4().hex[:10]}")
        return self._store.get_meta(REPLICA_META) or ""

    def _component(self, agent_id: str) -> str:
        return f"{agent_id}#{self.replica_id}"

    # ------------------------------------------------------------ lifecycle

    @property
    def store_url(self) -> str:
        return self._store.url

    @property
    def backend(self) -> Store:
        return self._store

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> MemoryLifecycleManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ policies

    def get_policy(self, key: str, namespace: str | None = None) -> RetentionPolicy:
        """The policy that governs ``key`` (the default policy when nothing matches)."""
        self._maybe_reload_policies()
        return self.policies.match(full_key(key, namespace))

    _get_policy = get_policy  # the seed's troubleshooting section calls it this way

    def _stat_policy(self) -> tuple[int, int] | None:
        try:
            st = self.policy_file.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _maybe_reload_policies(self) -> None:
        """Pick up an edited policy file (checked at most once a second).

        A broken edit must not stop a running swarm: the last good policies stay in
        force, the error is logged and shown in ``get_stats()["policy_error"]``, and the
        file is read again when it next changes. New processes refuse to start on it.
        """
        now = time.monotonic()
        if now - self._policy_checked < POLICY_RECHECK_SECONDS:
            return
        self._policy_checked = now
        try:
            self.reload_policies(only_if_changed=True)
        except PolicyError as exc:
            self._policy_stamp = self._stat_policy()
            self.policy_error = str(exc)
            log.error("policy file not applied, keeping the previous policies: %s", exc)

    def reload_policies(self, only_if_changed: bool = False) -> bool:
        """Re-read the policy file; a changed policy re-applies to stored entries."""
        stamp = self._stat_policy()
        if only_if_changed and stamp == self._policy_stamp:
            return False
        self.policies = self._load_policies()
        self._policy_stamp = stamp
        self.policy_error = None
        self._sync_policy_fingerprint()
        return True

    def _load_policies(self) -> PolicySet:
        """The policy file, validated; a file validated before is read from the store's cache.

        The cache is keyed by the file's content hash, so an edit is always revalidated;
        it spares short-lived processes (hooks) pydantic and YAML entirely.
        """
        try:
            data = self.policy_file.read_bytes()
        except FileNotFoundError:
            return builtin_policies()
        except OSError as exc:
            raise PolicyError(
                f"{self.policy_file}: cannot read policy file: {exc.strerror}",
                path=str(self.policy_file),
            ) from exc
        source = str(self.policy_file)
        tag = f"{POLICY_CACHE_FORMAT}:{hashlib.sha256(data).hexdigest()}"
        cached = self._store.get_meta(POLICY_CACHE_META)
        if cached and cached.startswith(tag + "\n"):
            try:
                return policies_from_document(json.loads(cached[len(tag) + 1 :]), source)
            except (ValueError, TypeError, KeyError):
                pass  # an unreadable cache is only a cache: validate the file again
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"{source}: not UTF-8 text: {exc}", path=source) from exc
        policies = parse_policies(text, source)
        document = json.dumps(policies_to_document(policies), separators=(",", ":"))
        self._store.set_meta(POLICY_CACHE_META, f"{tag}\n{document}")
        return policies

    def _sync_policy_fingerprint(self) -> None:
        if self._store.get_meta(POLICY_META) == self.policies.fingerprint:
            return
        self._recompute_expiry()
        self._store.set_meta(POLICY_META, self.policies.fingerprint)

    def _recompute_expiry(self) -> int:
        """Re-match every live row and recompute its expiry: O(n), once per policy change."""
        changed: list[str] = []
        for row in self._store.iter_rows(include_tombstones=False):
            policy = self.policies.match(row.key)
            expires = policy.expires_at(row.updated_at, row.ttl_seconds)
            if (row.policy, row.cleanup, row.expires_at) != (
                policy.namespace,
                policy.cleanup_strategy.value,
                expires,
            ):
                changed.append(row.key)
        for start in range(0, len(changed), 500):
            with self._store.transaction(changed[start : start + 500]) as tx:
                for key in changed[start : start + 500]:
                    row = tx.get(key)
                    if row is None or row.tombstone:
                        continue
                    policy = self.policies.match(key)
                    row.policy = policy.namespace
                    row.cleanup = policy.cleanup_strategy.value
                    row.expires_at = policy.expires_at(row.updated_at, row.ttl_seconds)
                    tx.put(row)
        return len(changed)

    # ------------------------------------------------------------ writes

    def store(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        timestamp: float | None = None,
        *,
        ttl_seconds: float | None = None,
        agent_id: str | None = None,
        op_id: str | None = None,
        context: str | None = None,
    ) -> bool:
        """Store ``value`` under ``key``, merged by the key's conflict strategy."""
        self.put(
            key,
            value,
            namespace,
            timestamp,
            ttl_seconds=ttl_seconds,
            agent_id=agent_id,
            op_id=op_id,
            context=context,
        )
        return True

    def put(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        timestamp: float | None = None,
        *,
        ttl_seconds: float | None = None,
        agent_id: str | None = None,
        op_id: str | None = None,
        context: str | None = None,
    ) -> StoreResult:
        """Like ``store`` but returns what happened (what the MCP tool reports)."""
        self._maybe_reload_policies()
        write = self._prepare(
            key, value, namespace, timestamp, ttl_seconds, agent_id, op_id, context
        )
        with self._store.transaction([write.key]) as tx:
            return self._apply(tx, write)

    def store_many(self, items: Iterable[Mapping[str, Any] | tuple[str, Any]]) -> list[StoreResult]:
        """Store several entries in one transaction: all are validated before any is written."""
        self._maybe_reload_policies()
        writes = []
        for i, item in enumerate(items):
            if isinstance(item, tuple):
                item = {"key": item[0], "value": item[1]}
            unknown = set(item) - _WRITE_FIELDS
            if unknown or "key" not in item or "value" not in item:
                raise InvalidValueError(
                    f"entries[{i}]: each entry needs 'key' and 'value'"
                    + (f"; unknown fields {sorted(unknown)}" if unknown else ""),
                    key=str(item.get("key")),
                )
            writes.append(
                self._prepare(
                    item["key"],
                    item["value"],
                    item.get("namespace"),
                    item.get("timestamp"),
                    item.get("ttl_seconds"),
                    item.get("agent_id"),
                    item.get("op_id"),
                    item.get("context"),
                )
            )
        if len(writes) > MAX_BATCH:
            raise InvalidValueError(
                f"batch of {len(writes)} entries is over the limit of {MAX_BATCH}; split it"
            )
        if not writes:
            return []
        with self._store.transaction([w.key for w in writes]) as tx:
            return [self._apply(tx, w) for w in writes]

    def _prepare(
        self,
        key: str,
        value: Any,
        namespace: str | None,
        timestamp: float | None,
        ttl_seconds: float | None,
        agent_id: str | None,
        op_id: str | None,
        context: str | None,
    ) -> _Write:
        k = full_key(key, namespace)
        policy = self.policies.match(k)
        data = codec.serialize_value(value, k, self.policies.settings.max_value_bytes)
        if policy.conflict_strategy.value == crdt.COUNTER:
            crdt.check_delta(value, k)
        ctx = crdt.decode_context(context, k) if context is not None else None
        return _Write(
            key=k,
            value=value,
            data=data,
            data_hash=crdt.hash_serialized(data),
            policy=policy,
            timestamp=self._check_timestamp(timestamp, k),
            ttl_seconds=check_seconds(ttl_seconds, "ttl_seconds", k),
            actor=self._component(
                check_actor(agent_id, k) if agent_id is not None else self.agent_id
            ),
            op_id=check_op_id(op_id, k),
            context=ctx,
        )

    def _check_timestamp(self, timestamp: Any, key: str) -> float | None:
        """A caller's timestamp in epoch seconds. One beyond the year 5000 is refused: it is
        almost always milliseconds or nanoseconds, and under last-write-wins nothing
        written afterwards could ever replace it."""
        ts = check_seconds(timestamp, "timestamp", key)
        if ts is not None and ts > MAX_TIMESTAMP:
            raise InvalidValueError(
                f"invalid timestamp for key '{key}': {ts!r} is beyond the year 5000; pass "
                "epoch seconds (time.time()), not milliseconds, or omit it",
                key=key,
            )
        return ts

    def _apply(self, tx: Any, w: _Write) -> StoreResult:
        strategy = w.policy.conflict_strategy.value
        row: Row | None = tx.get(w.key)
        now = self.clock.now()
        doc = codec.decode(row.codec, row.payload) if row else None
        ops: dict[str, float] = dict(doc.get("o", {})) if doc else {}
        if w.op_id is not None and w.op_id in ops and row is not None:
            return self._result(row, doc["s"], applied=False, duplicate=True)
        if row is not None:
            self.clock.observe(row.updated_at)
        ts = w.timestamp if w.timestamp is not None else self.clock.stamp()
        state = (
            crdt.initial(strategy)
            if row is None
            else crdt.convert(doc["s"], row.strategy, strategy)
        )
        was_expired = row is not None and expired(row.expires_at, now)
        if was_expired and row.tombstone and strategy == crdt.LWW:
            state = crdt.initial(strategy)  # past its grace period a tombstone is as good as purged
        elif was_expired and strategy != crdt.LWW:
            state = crdt.forget(strategy, state, ts)  # an expired value must not come back
        before = state
        if strategy == crdt.LWW:
            state = crdt.lww_merge(state, {"ts": ts, "a": w.actor, "h": w.data_hash, "v": w.value})
        elif strategy == crdt.MV:
            state = crdt.mv_write(state, w.value, w.actor, ts, w.context, w.policy.max_siblings)
        else:
            state = crdt.pn_add(state, w.value, w.actor, ts)
        applied = state is not before
        if w.op_id is not None:
            ops = crdt.merge_ops(ops, {w.op_id: ts}, self.policies.settings.op_id_window)
        if not applied and w.op_id is None and row is not None:
            return self._result(row, doc["s"], applied=False)
        ttl = w.ttl_seconds if applied or row is None else row.ttl_seconds
        spliced = w.data if applied and strategy == crdt.LWW else None
        keep = row.expires_at if row is not None and row.tombstone and not was_expired else None
        new_row = self._build_row(
            w.key,
            strategy,
            state,
            ops,
            row,
            ttl,
            w.actor if applied else None,
            tombstone_expires=keep,  # a late losing write does not restart the grace period
            raw_value=spliced,
        )
        tx.put(new_row)
        return self._result(new_row, state, applied=applied)

    def _build_row(
        self,
        key: str,
        strategy: str,
        state: crdt.State,
        ops: Mapping[str, float],
        previous: Row | None,
        ttl_seconds: float | None,
        actor: str | None,
        tombstone_expires: float | None = None,
        raw_value: bytes | None = None,
        created_at: float | None = None,
    ) -> Row:
        policy = self.policies.match(key)
        seen = crdt.view(strategy, state)
        if raw_value is not None:  # an LWW write that won: do not serialize its value twice
            raw = _lww_document(state, ops, raw_value)
        else:
            document: dict[str, Any] = {"s": state}
            if ops:
                document["o"] = ops
            raw = codec.dumps(document).encode("utf-8")
        codec_name, payload, raw_len = codec.encode_bytes(
            raw,
            compress=policy.compression_enabled,
            threshold_bytes=policy.compression_threshold_bytes,
        )
        updated = crdt.updated_at(strategy, state)
        if seen.exists:
            expires = policy.expires_at(updated, ttl_seconds)
        else:
            expires = tombstone_expires or (
                self.clock.now() + self.policies.settings.tombstone_grace_seconds
            )
        if created_at is None:
            live_before = previous is not None and not previous.tombstone
            created_at = previous.created_at if live_before else (updated or self.clock.now())
        return Row(
            key=key,
            policy=policy.namespace,
            strategy=strategy,
            cleanup=policy.cleanup_strategy.value,
            codec=codec_name,
            payload=payload,
            size_bytes=raw_len,
            created_at=created_at,
            updated_at=updated,
            expires_at=expires,
            ttl_seconds=ttl_seconds,
            actor=seen.actor or actor or (previous.actor if previous else self.agent_id),
            tombstone=not seen.exists,
        )

    def _result(
        self, row: Row, state: crdt.State, *, applied: bool, duplicate: bool = False
    ) -> StoreResult:
        seen = crdt.view(row.strategy, state)
        live = seen.exists and (row.expires_at is None or row.expires_at > self.clock.now())
        return StoreResult(
            key=row.key,
            policy=row.policy,
            strategy=row.strategy,
            expires_at=row.expires_at if live else None,
            compressed=row.codec != codec.CODEC_JSON,
            value=seen.value if live else None,
            applied=applied,
            duplicate=duplicate,
        )

    # ------------------------------------------------------------ reads

    def retrieve(self, key: str, namespace: str | None = None) -> Any | None:
        """The value under ``key``, or ``None`` when absent or expired."""
        found = self._read(key, namespace)
        return None if found is None else found[2].value

    def _read(self, key: str, namespace: str | None) -> tuple[Row, crdt.State, crdt.View] | None:
        """One committed read; an expired lazy entry is deleted on the way."""
        self._maybe_reload_policies()
        k = full_key(key, namespace)
        row = self._store.get(k)
        if row is None or row.tombstone:
            return None
        if row.expires_at is not None:
            now = self.clock.now()
            if row.expires_at <= now:
                if row.cleanup == CleanupStrategy.LAZY.value:
                    self._store.delete_expired_key(k, now)
                return None
        state = codec.decode(row.codec, row.payload)["s"]
        seen = crdt.view(row.strategy, state)
        return (row, state, seen) if seen.exists else None

    def retrieve_entry(self, key: str, namespace: str | None = None) -> MemoryEntry | None:
        """The entry with its conflicts, context token and lifecycle metadata."""
        found = self._read(key, namespace)
        if found is None:
            return None
        row, state, seen = found
        k = row.key
        return MemoryEntry(
            key=k,
            value=seen.value,
            policy=row.policy,
            strategy=row.strategy,
            actor=display_actor(seen.actor),
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
            compressed=row.codec != codec.CODEC_JSON,
            size_bytes=row.size_bytes,
            stored_bytes=len(row.payload),
            conflicts=tuple(
                Conflict(c.value, display_actor(c.actor), c.timestamp) for c in seen.conflicts
            ),
            context=crdt.encode_context(state["vv"]) if row.strategy == crdt.MV else None,
        )

    def list(self, prefix: str = "", limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
        """Live entries in key order; pass ``next_cursor`` back to get the next page."""
        if not isinstance(prefix, str):
            raise InvalidValueError(f"invalid prefix {clip(prefix)}: must be a string")
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 1 <= limit <= MAX_LIST_LIMIT
        ):
            raise InvalidValueError(f"invalid limit {clip(limit)}: use 1-{MAX_LIST_LIMIT}")
        after = decode_cursor(cursor) if cursor else None
        rows = self._store.list_rows(prefix, after, limit + 1, self.clock.now())
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "entries": [
                {
                    "key": r.key,
                    "policy": r.policy,
                    "size_bytes": r.size_bytes,
                    "expires_at": r.expires_at,
                    "updated_at": r.updated_at,
                }
                for r in rows
            ],
            "next_cursor": encode_cursor(rows[-1].key) if more and rows else None,
        }

    # ------------------------------------------------------------ deletes and maintenance

    def delete(self, key: str, namespace: str | None = None) -> bool:
        """Delete ``key``; a tombstone keeps older replicas' exports from resurrecting it."""
        k = full_key(key, namespace)
        with self._store.transaction([k]) as tx:
            return self._delete_in(tx, k) == "tombstoned"

    def _delete_in(self, tx: Any, key: str) -> str | None:
        """Replace a live entry by its tombstone (``"tombstoned"``); an expired one is
        simply removed (``"removed"``); ``None`` when there was nothing to delete."""
        row = tx.get(key)
        if row is None or row.tombstone:
            return None
        now = self.clock.now()
        if expired(row.expires_at, now):
            tx.remove(key)
            return "removed"
        self.clock.observe(row.updated_at)
        ts = max(self.clock.stamp(), row.updated_at + 1e-6)  # a delete beats what it saw
        doc = codec.decode(row.codec, row.payload)
        state = crdt.forget(row.strategy, doc["s"], ts, self._component(self.agent_id))
        tombstone = self._build_row(
            key,
            row.strategy,
            state,
            doc.get("o", {}),
            row,
            None,
            self.agent_id,
            tombstone_expires=now + self.policies.settings.tombstone_grace_seconds,
        )
        tx.put(tombstone)
        return "tombstoned"

    def cleanup(self, force: bool = False) -> dict[str, Any]:
        """Collect expired entries (``force`` includes manual-strategy ones)."""
        self._maybe_reload_policies()
        return self.gc.collect(force=force).to_dict()

    def collect(self, force: bool = False, prefix: str = "") -> CleanupReport:
        self._maybe_reload_policies()
        return self.gc.collect(force=force, prefix=prefix)

    def delete_session(self, session_id: str) -> list[str]:
        """Delete ``session/<id>``, ``session/<id>/*`` and ``coordination/<id>/*``.

        Like ``delete``, each leaves a tombstone, so a replica's older export does not
        bring the session back.
        """
        if (
            not isinstance(session_id, str)
            or session_id in ("", ".", "..")
            or "/" in session_id
            or "*" in session_id
        ):
            raise InvalidValueError(
                f"invalid session id {clip(session_id)}: use one non-empty path segment without "
                "'/' or '*', such as the session_id Claude Code passes to hooks"
            )
        validate_key(session_id, what="session id")
        keys = [f"session/{session_id}"]
        for prefix in (f"session/{session_id}/", f"coordination/{session_id}/"):
            keys += self._store.keys_with_prefix(prefix, MAX_SESSION_KEYS)
        deleted: list[str] = []
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            with self._store.transaction(batch) as tx:
                deleted += [k for k in batch if self._delete_in(tx, k)]
        return deleted

    def reset(self) -> bool:
        """Delete every entry and tombstone (tests, or starting over)."""
        self._store.reset()
        return True

    def get_stats(self) -> dict[str, Any]:
        now = self.clock.now()
        per_policy = {s.policy: s for s in self._store.stats(now)}
        counts = {p.namespace: 0 for p in self.policies.policies}
        counts[self.policies.default.namespace] = 0
        counts.update({name: s.entries for name, s in per_policy.items()})
        return {
            "total_entries": sum(s.entries for s in per_policy.values()),
            "compressed_entries": sum(int(s.compressed or 0) for s in per_policy.values()),
            "namespace_counts": counts,
            "total_bytes": sum(s.total_bytes for s in per_policy.values()),
            "stored_bytes": sum(s.stored_bytes for s in per_policy.values()),
            "expired_pending": sum(int(s.expired_pending or 0) for s in per_policy.values()),
            "tombstones": self._store.count_tombstones(),
            "db_size_bytes": self._store.size_bytes(),
            "store": self._store.url,
            "policy_source": self.policies.source,
            "policy_error": self.policy_error,
            "policies": [
                {
                    "pattern": name,
                    "entries": s.entries,
                    "total_bytes": s.total_bytes,
                    "stored_bytes": s.stored_bytes,
                    "compressed": int(s.compressed or 0),
                    "expired_pending": int(s.expired_pending or 0),
                    "next_expiry": s.next_expiry,
                }
                for name, s in sorted(per_policy.items())
            ],
        }


_WRITE_FIELDS = {
    "key",
    "value",
    "namespace",
    "timestamp",
    "ttl_seconds",
    "agent_id",
    "op_id",
    "context",
}


def _lww_document(state: crdt.State, ops: Mapping[str, float], raw_value: bytes) -> bytes:
    """The stored document of a winning LWW write, around the already serialized value."""
    head = f'{{"s":{{"ts":{state["ts"]!r},"a":{codec.dumps(state["a"])},"h":"{state["h"]}","v":'
    tail = "}" + (',"o":' + codec.dumps(ops) if ops else "") + "}"
    return head.encode("utf-8") + raw_value + tail.encode("utf-8")


__all__ = ["MemoryLifecycleManager"]
