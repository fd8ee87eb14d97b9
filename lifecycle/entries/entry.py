"""What a reader gets back: one entry with its lifecycle metadata."""

from __future__ import annotations

from lifecycle.basics.dataclass_lite import FrozenRecord, asdict

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

_set = object.__setattr__  # how a frozen record's __init__ sets its fields


class Conflict(FrozenRecord):
    """A concurrent sibling of a multi-value entry."""

    __slots__ = ("actor", "timestamp", "value")
    value: Any
    actor: str
    timestamp: float

    def __init__(self, value: Any, actor: str, timestamp: float) -> None:
        _set(self, "value", value)
        _set(self, "actor", actor)
        _set(self, "timestamp", timestamp)


class MemoryEntry(FrozenRecord):
    __slots__ = (
        "actor",
        "compressed",
        "conflicts",
        "context",
        "created_at",
        "expires_at",
        "key",
        "policy",
        "provenance_type",
        "revision",
        "size_bytes",
        "stored_bytes",
        "strategy",
        "tags",
        "updated_at",
        "value",
    )
    key: str
    value: Any
    policy: str
    strategy: str
    actor: str
    created_at: float
    updated_at: float
    expires_at: float | None
    compressed: bool
    size_bytes: int
    stored_bytes: int
    conflicts: tuple[Conflict, ...]
    context: str | None
    tags: tuple[str, ...]
    revision: int  # the store revision of the entry's last change (for if_revision)
    provenance_type: str | None  # who or what produced the value (lifecycle.entries.provenance)

    def __init__(
        self,
        key: str,
        value: Any,
        policy: str,
        strategy: str,
        actor: str,
        created_at: float,
        updated_at: float,
        expires_at: float | None,
        compressed: bool,
        size_bytes: int,
        stored_bytes: int,
        conflicts: tuple[Conflict, ...] = (),
        context: str | None = None,
        tags: tuple[str, ...] = (),
        revision: int = 0,
        provenance_type: str | None = None,
    ) -> None:
        _set(self, "key", key)
        _set(self, "value", value)
        _set(self, "policy", policy)
        _set(self, "strategy", strategy)
        _set(self, "actor", actor)
        _set(self, "created_at", created_at)
        _set(self, "updated_at", updated_at)
        _set(self, "expires_at", expires_at)
        _set(self, "compressed", compressed)
        _set(self, "size_bytes", size_bytes)
        _set(self, "stored_bytes", stored_bytes)
        _set(self, "conflicts", conflicts)
        _set(self, "context", context)
        _set(self, "tags", tags)
        _set(self, "revision", revision)
        _set(self, "provenance_type", provenance_type)

    @property
    def timestamp(self) -> float:
        return self.updated_at

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["conflicts"] = [asdict(c) for c in self.conflicts]
        return out


class StoreResult(FrozenRecord):
    """The outcome of one write, after merging with what was stored. (No ``__slots__``:
    ``__init__`` fills its ``__dict__`` in one call.)"""

    key: str
    policy: str
    strategy: str
    expires_at: float | None
    compressed: bool
    value: Any
    applied: bool  # false when an older LWW write lost or the op_id was already applied
    duplicate: bool
    expired: bool  # applied, but its timestamp plus TTL is already past: unreadable
    # applied: the write's revision; otherwise the key's current one (0: absent)
    revision: int
    conflict: str | None  # "revision" / "lock": a precondition failed, nothing written

    def __init__(
        self,
        key: str,
        policy: str,
        strategy: str,
        expires_at: float | None,
        compressed: bool,
        value: Any,
        applied: bool,
        duplicate: bool = False,
        expired: bool = False,
        revision: int = 0,
        conflict: str | None = None,
    ) -> None:
        # one dict update, not eleven object.__setattr__ calls: ~0.5 µs of every write
        # (a tenth of a bulk load's time per entry), hence a __dict__ and no __slots__
        self.__dict__.update(
            key=key,
            policy=policy,
            strategy=strategy,
            expires_at=expires_at,
            compressed=compressed,
            value=value,
            applied=applied,
            duplicate=duplicate,
            expired=expired,
            revision=revision,
            conflict=conflict,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DeleteResult(FrozenRecord):
    """The outcome of one delete."""

    __slots__ = ("conflict", "deleted", "key", "revision")
    key: str
    deleted: bool  # false when there was nothing live to delete, or a precondition failed
    revision: int  # deleted: the delete's revision; otherwise the key's current one
    conflict: str | None

    def __init__(
        self, key: str, deleted: bool, revision: int = 0, conflict: str | None = None
    ) -> None:
        _set(self, "key", key)
        _set(self, "deleted", deleted)
        _set(self, "revision", revision)
        _set(self, "conflict", conflict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
