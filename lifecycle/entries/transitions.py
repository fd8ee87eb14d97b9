"""An entry's rules, in one place: the stored document, and what a write, an import
(merge) and a delete do to it.

Live writes (``write``) and imports (``merge``) start from the same state
(``base_state``): past its expiry an entry is as good as collected, so an
outcome never depends on whether a cleanup happened to run first. A tombstone
past its grace period, and an expired last-write-wins value, start over from
nothing. An expired multi-value or counter entry keeps its causal history
(version vector, counter baseline) but none of its values, so an expired value
never comes back from a replica's export and a dot is never reused while a
replica could still hold it.

Everything here is pure: no I/O. The caller passes in what the transaction
read (the row, whether an op id was already applied) and the clock, and writes
the row that comes back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from lifecycle.basics.clock import Clock
from lifecycle.basics.dataclass_lite import Record
from lifecycle.basics.typing_lite import NamedTuple
from lifecycle.entries import codec, crdt, provenance, searchable, tags
from lifecycle.entries.entry import StoreResult
from lifecycle.entries.write_request import PreparedWrite
from lifecycle.policies.retention import RetentionPolicy, Settings
from lifecycle.store.base import Row

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any, Literal

    from lifecycle.entries.export_format import ExportedEntry
    from lifecycle.entries.provenance import ProvenanceState
    from lifecycle.entries.tags import TagState

# ------------------------------------------------------------------ the stored document


class Document(Record):
    """A row's payload: the CRDT state, the tags register (``lifecycle.entries.tags``), the
    provenance register (``lifecycle.entries.provenance``), plus the op ids applied to the key
    for rows written before op ids moved to a table of their own (read, never written)."""

    __slots__ = ("legacy_ops", "provenance", "state", "tags")
    state: crdt.State
    legacy_ops: dict[str, float]
    tags: tags.TagState | None
    provenance: ProvenanceState | None

    def __init__(
        self,
        state: crdt.State,
        legacy_ops: dict[str, float] | None = None,
        tags: TagState | None = None,
        provenance: ProvenanceState | None = None,
    ) -> None:
        self.state = state
        self.legacy_ops = dict() if legacy_ops is None else legacy_ops
        self.tags = tags
        self.provenance = provenance


def decode(row: Row) -> Document:
    doc = codec.decode(row.codec, row.payload)
    return Document(doc["s"], dict(doc.get("o") or {}), doc.get("t"), doc.get("p"))


_quote = codec.quote  # ``codec.dumps`` of a string


def encode(
    state: crdt.State,
    raw_value: bytes | None = None,
    tag_state: tags.TagState | None = None,
    provenance_state: ProvenanceState | None = None,
) -> bytes:
    """The document's bytes. A winning last-write-wins write passes its value already
    serialized, and it is spliced in: on the hot path a value is serialized once."""
    if raw_value is None:
        doc: dict[str, Any] = {"s": state}
        if tag_state is not None:
            doc["t"] = tag_state
        if provenance_state is not None:
            doc["p"] = provenance_state
        return codec.dumps(doc).encode("utf-8")
    # (the hash is hex digits: quoted as they are, as ``codec.dumps`` would)
    head = f'{{"s":{{"ts":{state["ts"]!r},"a":{_quote(state["a"])},"h":"{state["h"]}","v":'
    tail = "}"
    if tag_state is not None:
        tail += f',"t":{codec.dumps(tag_state)}'
    if provenance_state is not None:
        tail += f',"p":{codec.dumps(provenance_state)}'
    return head.encode("utf-8") + raw_value + (tail + "}").encode("utf-8")


# ------------------------------------------------------------------ shared rules


def expired(expires_at: float | None, now: float) -> bool:
    return expires_at is not None and expires_at <= now


class WriteTerms(NamedTuple):
    """The terms a write, a delete or a merge is made under, besides the entry itself: the
    entry's policy, the store's settings, the time, and who to name when nothing else says
    who wrote. (A NamedTuple: one is made per
    write, and a frozen dataclass costs several times as much to construct.)"""

    policy: RetentionPolicy
    settings: Settings
    now: float
    default_actor: str


def base_state(
    row: Row | None, doc: Document | None, strategy: str, now: float
) -> tuple[crdt.State, bool]:
    """The state a write or an import merges into, and whether the entry is as good as
    gone (absent, or expired in a way that leaves nothing to keep)."""
    if row is None or doc is None:
        return crdt.initial(strategy), True
    state = crdt.convert(doc.state, row.strategy, strategy)
    expires_at = row.expires_at
    if not (expires_at is not None and expires_at <= now):  # (``expired``: every write asks)
        return state, False
    if row.tombstone or strategy == crdt.LWW:
        return crdt.initial(strategy), True
    return crdt.forget(strategy, state, crdt.updated_at(strategy, state)), False


def build_row(
    key: str,
    strategy: str,
    state: crdt.State,
    terms: WriteTerms,
    *,
    previous: Row | None,
    ttl_seconds: float | None,
    actor: str | None,
    tombstone_expires: float | None = None,
    raw_value: bytes | None = None,
    created_at: float | None = None,
    tag_state: tags.TagState | None = None,
    seen: crdt.View | None = None,
    provenance_state: ProvenanceState | None = None,
) -> Row:
    """The row that stores ``state``: expiry from the policy (a tombstone's from its grace
    period), the document encoded and compressed by the policy's rules, and the text
    the search index holds for it (computed here, so it is written with the row).
    ``seen``: ``crdt.view(strategy, state)`` when the caller has it already."""
    policy = terms.policy
    if seen is None:
        seen = crdt.view(strategy, state)
    codec_name, payload, raw_len = codec.encode_bytes(
        encode(state, raw_value, tag_state, provenance_state),
        compress=policy.compression_enabled,
        threshold_bytes=policy.compression_threshold_bytes,
    )
    updated = crdt.updated_at(strategy, state)
    if seen.exists:
        expires = policy.expires_at(updated, ttl_seconds)
    else:
        expires = tombstone_expires or (terms.now + terms.settings.tombstone_grace_seconds)
    if created_at is None:
        live_before = previous is not None and not previous.tombstone
        created_at = previous.created_at if previous and live_before else (updated or terms.now)
    return Row(
        key=key,
        policy=policy.namespace,
        strategy=strategy,
        cleanup=policy.cleanup_strategy._value_,  # (``.value``, without enum's Python property)
        codec=codec_name,
        payload=payload,
        size_bytes=raw_len,
        created_at=created_at,
        updated_at=updated,
        expires_at=expires,
        ttl_seconds=ttl_seconds,
        actor=seen.actor or actor or (previous.actor if previous else terms.default_actor),
        tombstone=not seen.exists,
        tags=tags.visible(tag_state) if seen.exists else (),
        search=searchable.document(key, seen) if seen.exists else None,
    )


def result(
    row: Row,
    state: crdt.State,
    now: float,
    *,
    applied: bool,
    duplicate: bool = False,
    seen: crdt.View | None = None,
) -> StoreResult:
    """What a write reports. An entry that exists but has already expired says so
    (``expired``, with the time it expired) rather than claiming it never expires.
    ``seen``: ``crdt.view(row.strategy, state)`` when the caller has it already."""
    if seen is None:
        seen = crdt.view(row.strategy, state)
    expires_at = row.expires_at
    is_expired = seen.exists and expires_at is not None and expires_at <= now  # (``expired``)
    return StoreResult(
        row.key,
        row.policy,
        row.strategy,
        row.expires_at if seen.exists else None,
        row.codec != codec.CODEC_JSON,
        seen.value if seen.exists and not is_expired else None,
        applied,
        duplicate,
        is_expired,
    )


# ------------------------------------------------------------------ write


class WriteEffect(Record):
    """A write's effect: the row to put (None: nothing changes), what to report, and the
    op ids to record as applied (with when)."""

    __slots__ = ("ops", "result", "row")
    row: Row | None
    result: StoreResult
    ops: dict[str, float]

    def __init__(
        self, row: Row | None, result: StoreResult, ops: dict[str, float] | None = None
    ) -> None:
        self.row = row
        self.result = result
        self.ops = dict() if ops is None else ops


def _stamp(clock: Clock, strategy: str, state: crdt.State) -> float:
    """A local write's timestamp. Under last-write-wins it also beats the state it read:
    a write that saw a value is causally after it, even if that value's timestamp is
    ahead of this clock (written by a skewed clock, or before timestamps were bounded)."""
    ts = clock.stamp()
    if strategy == crdt.LWW and math.isfinite(state["ts"]) and ts <= state["ts"]:
        ts = math.nextafter(state["ts"], math.inf)
    return ts


def write(
    row: Row | None, w: PreparedWrite, clock: Clock, terms: WriteTerms, *, op_applied: bool
) -> WriteEffect:
    """Apply one prepared write to the key's current row."""
    strategy = w.strategy
    now = terms.now
    ts: float | None = None
    if row is None and strategy == crdt.LWW and not (w.op_id is not None and op_applied):
        ts = w.timestamp if w.timestamp is not None else clock.stamp()
        if ts > _NEVER:
            return _first_lww_write(w, ts, terms)
    doc = decode(row) if row is not None else None
    if w.op_id is not None and (op_applied or (doc is not None and w.op_id in doc.legacy_ops)):
        return WriteEffect(None, _duplicate(row, doc, w, now))
    if row is not None:
        clock.observe(row.updated_at)
    state, _ = base_state(row, doc, strategy, now)
    if ts is None:  # (else stamped above, -inf: the general rules below decide)
        ts = w.timestamp if w.timestamp is not None else _stamp(clock, strategy, state)
    # the tags after the write: its own when it has some, else the entry's (none once the
    # entry is gone: deleted or expired); the provenance likewise (no call for a register
    # the entry does not have: every write's path)
    gone = (
        row is None
        or row.tombstone
        or (row.expires_at is not None and row.expires_at <= now)  # (``expired``)
    )
    tag_state = doc.tags if doc is not None else None
    if tag_state is not None and gone:
        tag_state = tags.effective(tag_state, gone)
    if w.tags is not None:
        tag_state = tags.stamp(tag_state, w.tags, ts, w.actor)
    provenance_state = doc.provenance if doc is not None else None
    if provenance_state is not None and gone:
        provenance_state = provenance.effective(provenance_state, gone)
    if w.provenance is not None:
        provenance_state = provenance.stamp(provenance_state, w.provenance, ts, w.actor)
    if strategy == crdt.LWW:
        new = crdt.lww_merge(state, {"ts": ts, "a": w.actor, "h": w.data_hash, "v": w.value})
    elif strategy == crdt.MV:
        new = crdt.mv_write(state, w.value, w.actor, ts, w.context, w.policy.max_siblings)
    else:
        new = crdt.pn_add(state, w.value, w.actor, ts)
        crdt.check_counter(new, w.key)
    if new is state and row is not None and doc is not None:  # an older LWW write lost
        return WriteEffect(None, result(row, doc.state, now, applied=False))
    ops = dict(doc.legacy_ops) if doc is not None else {}
    if w.op_id is not None:
        ops[w.op_id] = now
    seen = crdt.view(strategy, new)
    stored = build_row(
        w.key,
        strategy,
        new,
        terms,
        previous=row,
        ttl_seconds=w.ttl_seconds,
        actor=w.actor,
        raw_value=w.data if strategy == crdt.LWW else None,
        tag_state=tag_state,
        seen=seen,
        provenance_state=provenance_state,
    )
    return WriteEffect(stored, result(stored, new, now, applied=True, seen=seen), ops)


_NEVER = -math.inf  # the timestamp of a key never written (``crdt.initial``)


def _first_lww_write(w: PreparedWrite, ts: float, terms: WriteTerms) -> WriteEffect:
    """``write`` of a key with no row under last-write-wins, with what the general rules
    give for it spelled out (a bulk load is all such writes): nothing to decode, observe
    or merge with (the initial state loses to any timestamp above -inf), no tags or
    provenance but the write's own."""
    actor = w.actor
    new = {"ts": ts, "a": actor, "h": w.data_hash, "v": w.value}
    seen = crdt.View(True, w.value, (), actor, ts)
    stored = build_row(
        w.key,
        crdt.LWW,
        new,
        terms,
        previous=None,
        ttl_seconds=w.ttl_seconds,
        actor=actor,
        raw_value=w.data,
        tag_state=None if w.tags is None else tags.stamp(None, w.tags, ts, actor),
        seen=seen,
        provenance_state=(
            None if w.provenance is None else provenance.stamp(None, w.provenance, ts, actor)
        ),
    )
    ops = {} if w.op_id is None else {w.op_id: terms.now}
    return WriteEffect(stored, result(stored, new, terms.now, applied=True, seen=seen), ops)


def unchanged(row: Row | None, w: PreparedWrite, now: float) -> StoreResult:
    """What a write that was not applied reports (a failed precondition): the entry as
    it is, so a compare-and-set loop has the current value without another read."""
    if row is not None:
        return result(row, decode(row).state, now, applied=False)
    return _duplicate(None, None, w, now, duplicate=False)


def _duplicate(
    row: Row | None, doc: Document | None, w: PreparedWrite, now: float, duplicate: bool = True
) -> StoreResult:
    if row is not None and doc is not None:
        return result(row, doc.state, now, applied=False, duplicate=duplicate)
    return StoreResult(
        key=w.key,
        policy=w.policy.namespace,
        strategy=w.strategy,
        expires_at=None,
        compressed=False,
        value=None,
        applied=False,
        duplicate=duplicate,
    )


# ------------------------------------------------------------------ delete


def forget(
    row: Row | None, clock: Clock, terms: WriteTerms, actor: str
) -> tuple[Literal["absent", "removed", "tombstoned"], Row | None]:
    """Delete: a live entry becomes a tombstone that beats everything it saw (so an older
    replica's export cannot bring it back); an expired one is simply removed."""
    if row is None or row.tombstone:
        return "absent", None
    if expired(row.expires_at, terms.now):
        return "removed", None
    clock.observe(row.updated_at)
    ts = max(clock.stamp(), math.nextafter(row.updated_at, math.inf))
    doc = decode(row)
    state = crdt.forget(row.strategy, doc.state, ts, actor)
    tombstone = build_row(
        row.key,
        row.strategy,
        state,
        terms,
        previous=row,
        ttl_seconds=None,
        actor=terms.default_actor,
        tombstone_expires=terms.now + terms.settings.tombstone_grace_seconds,
        tag_state=tags.stamp(doc.tags, (), ts, actor) if doc.tags is not None else None,
        provenance_state=(
            provenance.stamp(doc.provenance, None, ts, actor)
            if doc.provenance is not None
            else None
        ),
    )
    return "tombstoned", tombstone


# ------------------------------------------------------------------ merge (import)

if TYPE_CHECKING:
    MergeKind = Literal["created", "updated", "unchanged", "skipped_expired"]


class MergeEffect(Record):
    """An import's effect on one key: what happened (``kind``), the row to put (None:
    nothing changes) and the op ids to record as applied (with when)."""

    __slots__ = ("kind", "ops", "row")
    kind: MergeKind
    row: Row | None  # the row to put, when ``kind`` is created or updated
    ops: dict[str, float]  # op ids to record

    def __init__(
        self, kind: MergeKind, row: Row | None = None, ops: dict[str, float] | None = None
    ) -> None:
        self.kind = kind
        self.row = row
        self.ops = dict() if ops is None else ops


def merge(row: Row | None, e: ExportedEntry, terms: WriteTerms) -> MergeEffect:
    """Merge one exported entry into the key's row by the CRDT rules of its policy."""
    strategy = terms.policy.conflict_strategy.value
    now = terms.now
    incoming = crdt.convert(e.state, e.strategy, strategy)
    doc = decode(row) if row is not None else None
    local, gone = base_state(row, doc, strategy, now)
    ops = {op: ts for op, ts in e.ops.items() if ts > now - terms.settings.op_id_window_seconds}
    incoming_expired = expired(e.expires_at, now)
    if incoming_expired and (gone or e.tombstone):
        return MergeEffect("skipped_expired", None, ops)
    if incoming_expired and strategy != crdt.LWW:
        # keep what it knew (dots, baseline), not its values: expired stays gone
        incoming = crdt.forget(strategy, incoming, crdt.updated_at(strategy, incoming))
    merged = crdt.merge(strategy, local, incoming)
    if strategy == crdt.MV:
        merged = crdt.prune_siblings(merged, terms.policy.max_siblings)
    local_tags = doc.tags if doc is not None else None
    local_gone = row is None or row.tombstone or expired(row.expires_at, now)
    tag_state = tags.join(
        tags.effective(local_tags, local_gone), tags.effective(e.tags, incoming_expired)
    )
    local_provenance = doc.provenance if doc is not None else None
    provenance_state = provenance.join(
        provenance.effective(local_provenance, local_gone),
        provenance.effective(e.provenance, incoming_expired),
    )
    if doc is not None:
        ops = {**doc.legacy_ops, **ops}
    same = merged == local and tag_state == local_tags and provenance_state == local_provenance
    if row is not None and not gone and same and row.strategy == strategy:
        return MergeEffect("unchanged", None, ops)
    kept = None if gone else row
    # an expired local entry kept only its history: its TTL no longer speaks for the values
    ttl_from = None if kept is None or expired(kept.expires_at, now) else kept
    stored = build_row(
        e.key,
        strategy,
        merged,
        terms,
        previous=kept,
        ttl_seconds=e.ttl_seconds if ttl_from is None else merge_ttl(ttl_from, e),
        actor=e.actor if kept is None else None,
        tombstone_expires=tombstone_expiry(kept, e),
        created_at=e.created_at
        if kept is None or kept.tombstone
        else min(kept.created_at, e.created_at),
        tag_state=tag_state,
        provenance_state=provenance_state,
    )
    return MergeEffect("created" if kept is None else "updated", stored, ops)


def merge_ttl(row: Row, e: ExportedEntry) -> float | None:
    """The TTL of the newer side; on a tie the same choice on every replica."""
    if e.updated_at != row.updated_at:
        return e.ttl_seconds if e.updated_at > row.updated_at else row.ttl_seconds
    explicit = [t for t in (row.ttl_seconds, e.ttl_seconds) if t is not None]
    return min(explicit) if explicit else None


def tombstone_expiry(row: Row | None, e: ExportedEntry) -> float | None:
    """Tombstones keep the purge time they were given, so every replica purges together."""
    times = [
        t
        for t in (
            row.expires_at if row is not None and row.tombstone else None,
            e.expires_at if e.tombstone else None,
        )
        if t is not None
    ]
    return max(times, default=None)


# ------------------------------------------------------------------ policy changes


def reapply_policy(row: Row, policy: RetentionPolicy) -> bool:
    """Re-point a live row at its (possibly new) policy; True when anything changed."""
    expires = policy.expires_at(row.updated_at, row.ttl_seconds)
    new = (policy.namespace, policy.cleanup_strategy.value, expires)
    if (row.policy, row.cleanup, row.expires_at) == new:
        return False
    row.policy, row.cleanup, row.expires_at = new
    return True


def export_ops(doc: Document, table_ops: Mapping[str, float]) -> dict[str, float]:
    """The op ids an export carries for a key: the table's and any legacy ones."""
    return {**doc.legacy_ops, **table_ops}
