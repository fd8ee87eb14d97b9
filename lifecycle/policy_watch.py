"""The policies in force for one store: loaded once, cached in the store, re-read on edit.

A policy file is validated (YAML and pydantic) only when its content is new:
the validated form is cached in the store, keyed by the file's content hash,
so short-lived processes (hooks) skip pydantic and YAML entirely. A running
process notices an edited file (checked at most once a second) and re-applies
it to the entries already stored, so a shortened TTL really shortens.
"""

from __future__ import annotations

import json
import os
import time

from lifecycle.basics.digests import sha256_hex
from lifecycle.basics.lazy_logging import get_logger
from lifecycle.entries import transitions
from lifecycle.errors import PolicyError
from lifecycle.policies.file import parse_policies
from lifecycle.policies.retention import (
    PolicySet,
    builtin_policies,
    policies_from_document,
    policies_to_document,
)
from lifecycle.store.base import Store

log = get_logger("memory_lifecycle")

POLICY_META = "policy_fingerprint"
POLICY_CACHE_META = "policy_cache"
POLICY_CACHE_FORMAT = "v1"
RECHECK_SECONDS = 1.0
REAPPLY_BATCH = 500


class PolicyWatcher:
    """Holds the policies in force and keeps them in step with the file.

    A broken edit must not stop a running swarm: the last good policies stay in
    force, the error is logged and kept in ``error`` (shown by ``get_stats``), and
    the file is read again when it next changes. New processes refuse to start
    on it (``__init__`` raises).
    """

    def __init__(self, store: Store, policy_file: str | os.PathLike[str]) -> None:
        self._store = store
        self.policy_file = os.fspath(policy_file)
        self._stamp = self._stat()
        self._checked = time.monotonic()
        self.error: str | None = None
        self.policies: PolicySet = self._load()
        self._sync_fingerprint()

    def maybe_reload(self) -> None:
        """Pick up an edited policy file, at most once a second."""
        now = time.monotonic()
        if now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        try:
            self.reload(only_if_changed=True)
        except PolicyError as exc:
            self._stamp = self._stat()
            self.error = str(exc)
            log.error("policy file not applied, keeping the previous policies: %s", exc)

    def reload(self, only_if_changed: bool = False) -> bool:
        """Re-read the policy file; a changed policy re-applies to stored entries."""
        stamp = self._stat()
        if only_if_changed and stamp == self._stamp:
            return False
        self.policies = self._load()
        self._stamp = stamp
        self.error = None
        self._sync_fingerprint()
        return True

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.policy_file)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _load(self) -> PolicySet:
        try:
            with open(self.policy_file, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return builtin_policies()
        except OSError as exc:
            raise PolicyError(
                f"{self.policy_file}: cannot read policy file: {exc.strerror}",
                path=self.policy_file,
            ) from exc
        source = self.policy_file
        tag = f"{POLICY_CACHE_FORMAT}:{sha256_hex(data)}"
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
        if self._store.read_only() is None:  # only a cache: a read-only store goes without
            document = json.dumps(policies_to_document(policies), separators=(",", ":"))
            self._store.set_meta(POLICY_CACHE_META, f"{tag}\n{document}")
        return policies

    def _sync_fingerprint(self) -> None:
        if self._store.get_meta(POLICY_META) == self.policies.fingerprint:
            return
        why = self._store.read_only()
        if why is not None:  # reads must work: entries keep the expiry they were stored with
            log.info(
                "policies changed, but the store is read-only (%s): entries keep their "
                "stored expiry until a writable process opens it",
                why,
            )
            return
        reapply(self._store, self.policies)
        self._store.set_meta(POLICY_META, self.policies.fingerprint)


def reapply(store: Store, policies: PolicySet) -> int:
    """Re-match every live row and recompute its expiry: O(n), once per policy change.

    Not a change of the entries (their values are as they were), so they keep their
    revisions: a compare-and-set in flight is not failed by a policy edit, and the
    change feed is not flooded with one entry per stored key."""
    changed = [
        row.key
        for row in store.iter_rows(include_tombstones=False)
        if transitions.reapply_policy(row, policies.match(row.key))
    ]
    for start in range(0, len(changed), REAPPLY_BATCH):
        batch = changed[start : start + REAPPLY_BATCH]
        with store.transaction(batch) as tx:
            for key in batch:
                row = tx.get(key)
                if row is not None and not row.tombstone:
                    transitions.reapply_policy(row, policies.match(key))
                    tx.put(row, change=False)  # metadata only: no new revision
    return len(changed)
