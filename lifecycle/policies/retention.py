"""Retention policies: validated data plus pure functions.

A policy file's text is read and validated in ``lifecycle.policies.file`` (YAML,
then pydantic in ``lifecycle.policies.schema``, both only when text needs
validating). Validated policies are plain frozen dataclasses, matched here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from enum import Enum
from functools import lru_cache
from itertools import repeat

from lifecycle.basics.arguments import MAX_TTL_SECONDS
from lifecycle.basics.dataclass_lite import FrozenRecord, asdict
from lifecycle.basics.digests import sha256_hex
from lifecycle.errors import PolicyError, clip

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

_set = object.__setattr__  # how a frozen record's __init__ sets its fields

DEFAULT_POLICY_NAME = "default"


class CleanupStrategy(str, Enum):
    """When an expired entry is physically deleted."""

    LAZY = "lazy"
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class ConflictStrategy(str, Enum):
    """How concurrent writes to one key combine."""

    LAST_WRITE_WINS = "lww"
    MULTI_VALUE = "multi_value"
    COUNTER = "counter"


class RetentionPolicy(FrozenRecord):
    """One namespace's retention, conflict and compression rules (the seed's dataclass)."""

    __slots__ = (
        "cleanup_strategy",
        "compression_enabled",
        "compression_threshold_bytes",
        "conflict_strategy",
        "max_siblings",
        "namespace",
        "ttl_seconds",
    )
    namespace: str
    ttl_seconds: float
    cleanup_strategy: CleanupStrategy
    conflict_strategy: ConflictStrategy
    compression_enabled: bool
    compression_threshold_bytes: int
    max_siblings: int

    def __init__(
        self,
        namespace: str,
        ttl_seconds: float,
        cleanup_strategy: CleanupStrategy,
        conflict_strategy: ConflictStrategy,
        compression_enabled: bool = True,
        compression_threshold_bytes: int = 1024,
        max_siblings: int = 16,
    ) -> None:
        _set(self, "namespace", namespace)
        _set(self, "ttl_seconds", ttl_seconds)
        _set(self, "cleanup_strategy", cleanup_strategy)
        _set(self, "conflict_strategy", conflict_strategy)
        _set(self, "compression_enabled", compression_enabled)
        _set(self, "compression_threshold_bytes", compression_threshold_bytes)
        _set(self, "max_siblings", max_siblings)
        self.__post_init__()

    def __post_init__(self) -> None:
        # accept the YAML spellings ("lazy", "lww") and refuse what the schema refuses
        object.__setattr__(self, "cleanup_strategy", CleanupStrategy(self.cleanup_strategy))
        object.__setattr__(self, "conflict_strategy", ConflictStrategy(self.conflict_strategy))
        object.__setattr__(self, "ttl_seconds", float(self.ttl_seconds))
        if not self.namespace:
            raise PolicyError("policy namespace must not be empty")
        if (
            not math.isfinite(self.ttl_seconds)
            or not 0 <= self.ttl_seconds <= MAX_TTL_SECONDS
            or self.compression_threshold_bytes < 0
            or self.max_siblings < 1
        ):
            raise PolicyError(
                f"policy {clip(self.namespace)}: ttl_seconds must be a number from 0 to "
                f"{MAX_TTL_SECONDS} (100 years), "
                "compression_threshold_bytes >= 0 and max_siblings >= 1",
                namespace=self.namespace,
            )

    def expires_at(self, timestamp: float, ttl_override: float | None = None) -> float | None:
        """When an entry written at ``timestamp`` expires (``None`` = never)."""
        ttl = self.ttl_seconds if ttl_override is None else ttl_override
        return None if ttl <= 0 else timestamp + ttl

    def should_compress(self, size_bytes: int) -> bool:
        return self.compression_enabled and size_bytes > self.compression_threshold_bytes

    @property
    def is_glob(self) -> bool:
        return "*" in self.namespace or "?" in self.namespace

    @property
    def literal_chars(self) -> int:
        return sum(1 for c in self.namespace if c not in "*?")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cleanup_strategy"] = self.cleanup_strategy.value
        out["conflict_strategy"] = self.conflict_strategy.value
        return out


class Settings(FrozenRecord):
    """Store-wide settings, the ``settings:`` section of the policy file."""

    __slots__ = (
        "change_log_max_entries",
        "embedding_model_path",
        "max_clock_skew_seconds",
        "max_value_bytes",
        "op_id_window",
        "op_id_window_seconds",
        "tombstone_grace_seconds",
    )
    max_value_bytes: int
    tombstone_grace_seconds: float
    # a retried op_id is recognised for this long after it was first applied, however
    # many other ops happen meanwhile
    op_id_window_seconds: float
    # how far ahead of the store's clock a caller's write timestamp may be
    max_clock_skew_seconds: float
    # the change feed keeps this many of the newest changes (trimmed by each cleanup): a
    # count, not an age, so the log stays bounded whatever the write rate
    change_log_max_entries: int
    op_id_window: int | None  # the old per-key count; accepted, no longer used
    # a local folder holding the embedding model for search by meaning (relative to the
    # policy file's folder); MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH wins over it
    embedding_model_path: str | None

    def __init__(
        self,
        max_value_bytes: int = 1024 * 1024,
        tombstone_grace_seconds: float = 7 * 86400,
        op_id_window_seconds: float = 86400,
        max_clock_skew_seconds: float = 300,
        change_log_max_entries: int = 100_000,
        op_id_window: int | None = None,
        embedding_model_path: str | None = None,
    ) -> None:
        _set(self, "max_value_bytes", max_value_bytes)
        _set(self, "tombstone_grace_seconds", tombstone_grace_seconds)
        _set(self, "op_id_window_seconds", op_id_window_seconds)
        _set(self, "max_clock_skew_seconds", max_clock_skew_seconds)
        _set(self, "change_log_max_entries", change_log_max_entries)
        _set(self, "op_id_window", op_id_window)
        _set(self, "embedding_model_path", embedding_model_path)


def _builtin(ns: str, ttl: float, cleanup: str, conflict: str) -> RetentionPolicy:
    return RetentionPolicy(
        namespace=ns,
        ttl_seconds=ttl,
        cleanup_strategy=CleanupStrategy(cleanup),
        conflict_strategy=ConflictStrategy(conflict),
    )


BUILTIN_POLICIES: tuple[RetentionPolicy, ...] = (
    _builtin("coordination/*", 3600, "lazy", "lww"),
    _builtin("session/*", 3600, "lazy", "lww"),
    _builtin("swarm/shared/*", 86400, "scheduled", "multi_value"),
    _builtin("swarm/agent/state/*", 7 * 86400, "scheduled", "lww"),
    _builtin("knowledge/*", 0, "manual", "multi_value"),
    _builtin("metrics/*", 0, "manual", "counter"),
)

BUILTIN_DEFAULT = RetentionPolicy(
    namespace=DEFAULT_POLICY_NAME,
    ttl_seconds=0,
    cleanup_strategy=CleanupStrategy.MANUAL,
    conflict_strategy=ConflictStrategy.LAST_WRITE_WINS,
)


def _compile(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run of characters, ``/`` included; ``?`` matches one."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _prefix_pattern(pattern: str) -> bool:
    """Whether ``pattern`` is an exact name or a literal prefix then one ``*`` (whose
    ``_compile`` regex matches exactly the keys that start with the prefix)."""
    return "?" not in pattern and "*" not in pattern[:-1]


class PolicySet(FrozenRecord):
    """The policies in force, ordered for matching, plus store-wide settings.

    Matching: an exact pattern beats any glob; among globs the one with the
    most literal characters wins; ties go to file order.
    """

    # no __slots__: __post_init__ keeps the compiled patterns and the cached match here
    policies: tuple[RetentionPolicy, ...]
    default: RetentionPolicy
    settings: Settings
    source: str
    fingerprint: str

    def __init__(
        self,
        policies: tuple[RetentionPolicy, ...],
        default: RetentionPolicy = BUILTIN_DEFAULT,
        settings: Settings | None = None,
        source: str = "built-in defaults",
        fingerprint: str = "",
    ) -> None:
        _set(self, "policies", policies)
        _set(self, "default", default)
        _set(self, "settings", Settings() if settings is None else settings)
        _set(self, "source", source)
        _set(self, "fingerprint", fingerprint)
        self.__post_init__()

    def __post_init__(self) -> None:
        ranked = sorted(
            enumerate(self.policies),
            key=lambda ip: (ip[1].is_glob, -ip[1].literal_chars, ip[0]),
        )
        compiled = tuple((_compile(p.namespace), p) for _, p in ranked)
        object.__setattr__(self, "_ranked", compiled)
        matcher = self._match
        if all(_prefix_pattern(p.namespace) for p in self.policies):
            exact = {p.namespace: p for p in self.policies if not p.is_glob}
            prefixes = tuple((p.namespace[:-1], p) for _, p in ranked if p.is_glob)
            object.__setattr__(self, "_exact", exact)
            object.__setattr__(self, "_prefixes", prefixes)
            object.__setattr__(self, "_any_prefix", tuple(prefix for prefix, _ in prefixes))
            matcher = self._match_prefix
        object.__setattr__(self, "match", lru_cache(maxsize=8192)(matcher))
        # a batch's keys are mostly new and not looked up again: matched without the
        # cache (an insert and an eviction per key, ~3k instructions) when the match is
        # cheap anyway; with regex patterns, through the cache
        object.__setattr__(
            self, "match_batch", matcher if matcher == self._match_prefix else self.match
        )
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", _fingerprint(self))

    def _match(self, key: str) -> RetentionPolicy:
        for regex, policy in self._ranked:  # type: ignore[attr-defined]
            if regex.fullmatch(key):
                return policy
        return self.default

    def _match_prefix(self, key: str) -> RetentionPolicy:
        """``_match`` for policy sets whose patterns are exact names or ``prefix*`` (the
        usual ``coordination/*``): the same answer by string comparison, no regex. Every
        new key misses the cache, so this is on each first write of a key (a bulk load
        writes only those)."""
        found = self._exact.get(key)  # type: ignore[attr-defined]
        if found is not None:
            return found
        if key.startswith(self._any_prefix):  # type: ignore[attr-defined]
            for prefix, policy in self._prefixes:  # type: ignore[attr-defined]
                if key.startswith(prefix):
                    return policy
        return self.default

    def match_many(self, keys: list[str]) -> list[RetentionPolicy]:
        """``match`` of each of a batch's keys, no cache filled. With exact names and
        ``prefix*`` globs only, the keys that start with no glob's prefix (and are no
        exact name) are told apart by one C loop (``map``) and get the default policy;
        the others are matched one by one (``_match_prefix``)."""
        if self.match_batch == self.match:  # regex patterns: each key through the cache
            return list(map(self.match, keys))
        exact = self._exact  # type: ignore[attr-defined]
        if exact and not exact.keys().isdisjoint(keys):
            return list(map(self._match_prefix, keys))
        hits = list(map(str.startswith, keys, repeat(self._any_prefix)))  # type: ignore[attr-defined]
        default = self.default
        if True not in hits:
            return [default] * len(keys)
        match = self._match_prefix
        return [match(key) if hit else default for key, hit in zip(keys, hits, strict=True)]

    def match(self, key: str) -> RetentionPolicy:  # replaced by a cached bound method
        return self._match(key)

    def match_batch(self, key: str) -> RetentionPolicy:  # replaced in ``__post_init__``
        """``match``, for the keys of a batch (see ``__post_init__``)."""
        return self._match(key)

    def __iter__(self) -> Iterator[RetentionPolicy]:
        return iter(self.policies)


def _fingerprint(policies: PolicySet) -> str:
    """A hash of what affects stored rows, to know when expiry must be recomputed."""
    doc = [p.to_dict() for p in (*policies.policies, policies.default)]
    return sha256_hex(json.dumps(doc, sort_keys=True).encode())[:16]


def builtin_policies() -> PolicySet:
    return PolicySet(BUILTIN_POLICIES)


def policies_from_document(doc: dict[str, Any], source: str) -> PolicySet:
    """Build a PolicySet from a normalized (already validated) document."""
    namespaces = [RetentionPolicy(**p) for p in doc.get("namespaces", [])]
    _reject_duplicates(namespaces, source)
    default = BUILTIN_DEFAULT
    if doc.get("default") is not None:
        default = RetentionPolicy(namespace=DEFAULT_POLICY_NAME, **doc["default"])
    settings = Settings(**doc.get("settings") or {})
    return PolicySet(tuple(namespaces), default, settings, source)


def policies_to_document(policies: PolicySet) -> dict[str, Any]:
    """The inverse of ``policies_from_document``: what the store caches."""
    default = policies.default.to_dict()
    del default["namespace"]
    return {
        "namespaces": [p.to_dict() for p in policies.policies],
        "default": default,
        "settings": asdict(policies.settings),
    }


def _reject_duplicates(policies: Sequence[RetentionPolicy], source: str) -> None:
    seen: set[str] = set()
    for p in policies:
        if p.namespace in seen:
            raise PolicyError(
                f"{source}: policy '{p.namespace}' is defined twice; keep one of them",
                path=source,
            )
        if p.namespace == DEFAULT_POLICY_NAME:
            raise PolicyError(
                f"{source}: policy 'default' must be written as a top-level 'default:' "
                "section, not in 'namespaces:'",
                path=source,
            )
        seen.add(p.namespace)
