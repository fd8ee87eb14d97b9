"""The tools' structured inputs and results.

These pydantic models are the wire contract of DESIGN.md's tool table: the SDK
derives each tool's input schema from the typed parameters and its output
schema (and ``structuredContent``) from the returned model, so the field names
here are the names a client sees. Values are any JSON, so they are typed
``Any``; the engine checks them (JSON-serializable, size limit, counters
numeric) and its messages are better than a schema's.

Argument types do not coerce what a client did not mean: a boolean is never a
number (pydantic's lax mode reads ``true`` as 1), and a flag that destroys data
takes only JSON ``true`` / ``false`` (never ``"yes"``, ``"1"`` or ``1``). A numeric
string for a numeric field (``"60"``) is accepted, because some clients send every
argument as a string (MCP Inspector's ``--tool-arg``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SerializeAsAny

from lifecycle import DeleteResult, MemoryEntry, StoreResult


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is a boolean, not a number")
    return value


Seconds = Annotated[float, BeforeValidator(_not_a_boolean)]
"""A number of seconds: a JSON number or a numeric string, never a boolean."""
Count = Annotated[int, BeforeValidator(_not_a_boolean)]
"""A whole number: a JSON integer or a numeric string, never a boolean."""
Flag = Annotated[bool, Field(strict=True)]
"""JSON true or false only: 1, "1", "yes" are refused rather than read as true."""

Conflict = Literal["revision", "lock"] | None
CONFLICT = (
    "Set when a precondition failed and nothing was written: 'revision' (if_revision did "
    "not match), 'lock' (the lock is not held with lock_token)."
)


class StoreOutput(BaseModel):
    """What one write did, after merging with what was already stored."""

    stored: bool = Field(
        description="True when the store now reflects this write (applied now, or its op_id "
        "was applied before); false when a newer write already won (last-write-wins) or a "
        "precondition failed (see conflict)."
    )
    key: str = Field(description="The full key, namespace applied.")
    policy: str = Field(description="The retention policy pattern that governs the key.")
    strategy: str = Field(description="The key's conflict strategy: lww, multi_value or counter.")
    expires_at: float | None = Field(description="Epoch seconds when it expires; null = never.")
    compressed: bool = Field(description="Whether the stored value is gzip-compressed.")
    value: Any = Field(description="The value after the merge (a counter's sum, LWW's winner).")
    duplicate: bool = Field(
        default=False, description="True when op_id had already been applied: nothing changed."
    )
    expired: bool = Field(
        default=False,
        description="True when the write applied but its timestamp plus TTL is already past "
        "(expires_at says when): it will never be read.",
    )
    revision: int = Field(
        default=0,
        description="The key's revision after this call: the write's own when it applied, "
        "else the current one (0 = the key does not exist). Pass it as if_revision.",
    )
    conflict: Conflict = Field(default=None, description=CONFLICT)

    @classmethod
    def from_result(cls, result: StoreResult) -> StoreOutput:
        return cls(
            stored=result.applied or result.duplicate,
            key=result.key,
            policy=result.policy,
            strategy=result.strategy,
            expires_at=result.expires_at,
            compressed=result.compressed,
            value=result.value,
            duplicate=result.duplicate,
            expired=result.expired,
            revision=result.revision,
            conflict=result.conflict,  # type: ignore[arg-type]
        )


class ConflictOutput(BaseModel):
    """A concurrent sibling of a multi_value entry."""

    value: Any
    actor: str
    timestamp: float


class RetrieveOutput(BaseModel):
    """An entry with its conflicts and lifecycle metadata; found=false when absent or expired."""

    found: bool = Field(description="False when the key is absent or has expired.")
    key: str = Field(description="The full key, namespace applied.")
    value: Any = Field(default=None, description="The value (multi_value: the newest sibling).")
    conflicts: list[ConflictOutput] = Field(
        default_factory=list, description="Other concurrent siblings (multi_value keys)."
    )
    context: str | None = Field(
        default=None,
        description="Pass back to memory_store as `context` to replace these siblings.",
    )
    expires_at: float | None = Field(default=None, description="Epoch seconds; null = never.")
    updated_at: float | None = Field(default=None, description="Epoch seconds of the last write.")
    actor: str | None = Field(default=None, description="The agent that wrote the value.")
    policy: str | None = Field(default=None, description="The governing policy pattern.")
    strategy: str | None = Field(default=None, description="lww, multi_value or counter.")
    tags: list[str] = Field(default_factory=list, description="The entry's tags, sorted.")
    revision: int = Field(
        default=0,
        description="The store revision of the entry's last change (0 when not found): pass "
        "it to memory_store / memory_delete as if_revision for a compare-and-set.",
    )
    provenance_type: str | None = Field(
        default=None, description="Who or what produced the value; null when never given."
    )

    @classmethod
    def from_entry(cls, key: str, entry: MemoryEntry | None) -> RetrieveOutput:
        if entry is None:
            return cls(found=False, key=key)
        return cls(
            found=True,
            key=entry.key,
            value=entry.value,
            conflicts=[
                ConflictOutput(value=c.value, actor=c.actor, timestamp=c.timestamp)
                for c in entry.conflicts
            ],
            context=entry.context,
            expires_at=entry.expires_at,
            updated_at=entry.updated_at,
            actor=entry.actor,
            policy=entry.policy,
            strategy=entry.strategy,
            tags=list(entry.tags),
            revision=entry.revision,
            provenance_type=entry.provenance_type,
        )


class DeleteOutput(BaseModel):
    deleted: bool = Field(
        description="False when there was nothing (live) to delete, or a precondition failed."
    )
    key: str = Field(description="The full key, namespace applied.")
    revision: int = Field(
        default=0,
        description="The delete's revision when deleted, else the key's current one.",
    )
    conflict: Conflict = Field(default=None, description=CONFLICT)

    @classmethod
    def from_result(cls, result: DeleteResult) -> DeleteOutput:
        return cls(
            deleted=result.deleted,
            key=result.key,
            revision=result.revision,
            conflict=result.conflict,  # type: ignore[arg-type]
        )


class ListEntry(BaseModel):
    key: str
    policy: str
    size_bytes: int = Field(description="Serialized size of the value before compression.")
    expires_at: float | None
    updated_at: float
    tags: list[str] = Field(default_factory=list, description="The entry's tags, sorted.")
    revision: int = Field(description="The store revision of the entry's last change.")


class ValuedListEntry(ListEntry):
    """A listed entry with its value (memory_list with include_values)."""

    value: Any = Field(description="The value (multi_value: the newest sibling).")


class ListOutput(BaseModel):
    entries: list[SerializeAsAny[ListEntry]] = Field(
        description="Live entries in key order; each also carries `value` when the call "
        "asked for include_values."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class CleanupOutput(BaseModel):
    deleted_count: int = Field(description="Expired entries deleted.")
    by_namespace: dict[str, int] = Field(description="Deleted entries per policy pattern.")
    duration_ms: float
    tombstones_purged: int = Field(
        default=0, description="Delete markers past their grace period, purged."
    )
    forced: bool = Field(
        default=False, description="Whether manual-strategy entries were included."
    )
    dry_run: bool = Field(
        default=False, description="True when nothing was deleted: a preview (dryRun)."
    )
    would_delete_count: int | None = Field(
        default=None, description="Dry run: the expired entries a cleanup would delete now."
    )
    keys: list[str] | None = Field(
        default=None, description="Dry run: the first 100 keys it would delete, in key order."
    )


class PolicyStatsOutput(BaseModel):
    pattern: str
    entries: int
    total_bytes: int
    stored_bytes: int
    compressed: int
    expired_pending: int
    next_expiry: float | None


class StatsOutput(BaseModel):
    total_entries: int = Field(description="Every stored entry, expired-but-not-deleted included.")
    compressed_entries: int
    namespace_counts: dict[str, int] = Field(description="Entries per policy pattern.")
    total_bytes: int = Field(description="Serialized size of all values before compression.")
    stored_bytes: int = Field(description="Size of all values as stored.")
    expired_pending: int = Field(description="Expired entries that cleanup has not deleted yet.")
    tombstones: int = Field(default=0, description="Delete markers kept for replication.")
    locks_held: int = Field(default=0, description="Locks (memory_lock) held right now.")
    revision: int = Field(default=0, description="The store's latest revision.")
    db_size_bytes: int | None = Field(default=None, description="Store size on disk, if known.")
    read_only: str | None = Field(
        default=None,
        description="Why the store cannot be written now (a read-only file system, a full "
        "disk); reads still work. Null when writes can work.",
    )
    policy_source: str | None = Field(default=None, description="Where the policies came from.")
    policy_error: str | None = Field(
        default=None,
        description="Why an edited policy file was not applied (the previous policies stay "
        "in force until it is fixed); null when the file in force is the file on disk.",
    )
    policies: list[PolicyStatsOutput] = Field(default_factory=list)
    embedded_entries: int = Field(
        default=0, description="Live entries with a current embedding (search by meaning)."
    )
    pending_embeddings: int = Field(
        default=0, description="Live entries not embedded yet (keyword matches only until then)."
    )
    embedding_model: str | None = Field(
        default=None, description="The embedding model in use; null when search by meaning is off."
    )
    embedding_error: str | None = Field(
        default=None, description="Why search by meaning is off; null when it is on."
    )


class SessionEndOutput(BaseModel):
    session_id: str
    deleted_count: int = Field(description="Session entries plus expired entries deleted.")
    deleted_keys: list[str] = Field(description="The first 100 deleted keys.")
    session_deleted: int = Field(description="Entries of the session itself.")
    session_remaining: int = Field(
        default=0,
        description="Entries of the session left for a later session-end or their expiry "
        "(a hook deletes at most 1,000); counted up to 10,000.",
    )
    expired_deleted: int = Field(description="Expired lazy/scheduled entries collected.")
    expired_remaining: int = Field(
        default=0,
        description="Expired entries left for a later sweep (a hook sweeps at most 1,000); "
        "counted up to 10,000, which means at least that many.",
    )
    more_expired: bool = Field(default=False, description="Whether expired entries are left.")
    trim_remaining: int = Field(
        default=0,
        description="Op ids and change-log rows past their window left for a later trim (a "
        "hook trims at most 1,000 of each); counted up to 10,000.",
    )


class PreTaskOutput(BaseModel):
    task_id: str | None
    recorded: str | None = Field(
        default=None,
        description="Where the task was recorded (swarm/shared/tasks/<id>), when it has an id "
        "or a description.",
    )
    deleted_count: int = Field(description="Expired coordination entries deleted.")
    deleted_keys: list[str] = Field(description="The first 100 deleted keys.")
    expired_remaining: int = Field(
        default=0,
        description="Expired coordination entries left for a later sweep (a hook sweeps "
        "at most 1,000); counted up to 10,000, which means at least that many.",
    )
    more_expired: bool = Field(default=False, description="Whether expired entries are left.")


class BatchOutput(BaseModel):
    results: list[StoreOutput] = Field(description="One result per entry, in input order.")
    count: int = Field(description="Number of entries written.")


class UsageEntry(BaseModel):
    """One entry of a memory_usage list, as claude-flow lists them (with the value)."""

    key: str = Field(description="The key within the namespace (what to pass back as key).")
    full_key: str = Field(description="The key as stored here, namespace applied.")
    namespace: str = Field(default="default", description="The namespace it was found in.")
    value: Any = Field(default=None, description="The value (multi_value: the newest).")
    updated_at: float | None = None
    expires_at: float | None = None


class MemoryUsageOutput(BaseModel):
    """claude-flow v2's memory_usage result: the fields of the action that ran."""

    success: bool = Field(description="True when the action ran (errors are error results).")
    action: str
    namespace: str = Field(description="The namespace used ('default' = no prefix).")
    key: str | None = Field(default=None, description="The key as given.")
    full_key: str | None = Field(default=None, description="The key as stored, namespace applied.")
    stored: bool | None = Field(default=None, description="store: the write took effect.")
    size: int | None = Field(default=None, description="store: the value's size in bytes.")
    expires_at: float | None = Field(default=None, description="store/retrieve: expiry.")
    policy: str | None = Field(default=None, description="store: the governing policy pattern.")
    found: bool | None = Field(default=None, description="retrieve: false if absent or expired.")
    value: Any = Field(default=None, description="retrieve: the value (null when not found).")
    deleted: bool | None = Field(default=None, description="delete: false if nothing to delete.")
    entries: list[UsageEntry] | None = Field(default=None, description="list: up to 100.")
    pattern: str | None = Field(default=None, description="search: the pattern as given.")
    results: list[UsageEntry] | None = Field(
        default=None,
        description="search: up to 50 entries whose key (within the namespace) or value "
        "contains the pattern, in key order.",
    )
    count: int | None = Field(default=None, description="list, search: number of entries returned.")
    timestamp: str = Field(description="When the action ran (ISO 8601, UTC).")


class NoopOutput(BaseModel):
    ok: bool = True
