"""A batch's first writes of new keys under last-write-wins, in one loop.

Why a second spelling of a rule ``transitions.write`` already has: a bulk load is a
thousand writes of keys that do not exist yet, and the general path builds five
objects per write on the way (the effect, the row, the result, the queued tuples,
the index document), each with its calls; at a thousand rows per batch those
objects, not the work, were most of a load's Python (issue 24). Here the same
outcome is computed straight into the tuples the store queues and the result.

What takes this path, and only this: a prepared write under last-write-wins with
no guard, no op id and no context, whose key the transaction read as absent and has
not written yet (``take_absent``). Everything else (an existing row, expired or
not; a second write of a key in the batch; another strategy; an op id) goes
through ``transitions.write`` as before. What a write here produces is what
``transitions._first_lww_write`` and ``build_row`` produce for it, field for field:
``tests/lifecycle/test_batch_write.py`` applies the same batches through both
paths and compares every row, index entry, change-log row and result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from lifecycle.basics.clock import Clock
from lifecycle.basics.typing_lite import Protocol
from lifecycle.entries import codec, crdt, searchable
from lifecycle.entries.entry import StoreResult
from lifecycle.entries.write_request import PreparedWrite
from lifecycle.store.text_index import SearchDoc

_NEVER = float("-inf")  # the timestamp of a key never written (``crdt.initial``)
_LWW = crdt.LWW
_JSON = codec.CODEC_JSON
_quote = codec.quote
_document = searchable.value_document
_encode_bytes = codec.encode_bytes
_new_result = StoreResult.__new__
_set = object.__setattr__


class BatchTransaction(Protocol):
    """What this path needs of a store's transaction besides the contract's."""

    def take_absent(self, key: str) -> bool:
        """True (and the key is taken) when the transaction read ``key`` as absent and
        has not written it since."""

    def take_all_absent(self, keys: Collection[str]) -> bool:
        """``take_absent`` of every key when it is true of each; else False, none taken."""

    def insert_new(
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
        tags: Sequence[str] | None,
        doc: SearchDoc,
    ) -> int:
        """Queue a new live row (its visible ``tags``; empty or None: none) and its index
        entry; return its revision."""


def write_batch(
    tx: BatchTransaction,
    prepared: Sequence[PreparedWrite],
    clock: Clock,
    default_actor: str,
    general: Callable[[PreparedWrite, float], StoreResult],
) -> list[StoreResult]:
    """Apply ``prepared`` (no guards) in order: new last-write-wins keys here, anything
    else through ``general(w, now)`` (the general rules, which read the row)."""
    results: list[StoreResult] = []
    append = results.append
    now_of = clock.now
    stamp = clock.stamp
    take_absent = tx.take_absent
    insert_new = tx.insert_new
    # per policy, what its rows share: namespace, cleanup strategy, compression threshold
    # (None: off) and TTL (an enum's value and a dataclass's fields are not free per row)
    terms: dict[int, tuple[str, str, int | None, float]] = {}
    quoted: dict[str, str] = {}  # an actor, as the stored document spells it
    now = 0.0
    stamps = _all_new(prepared, tx.take_all_absent, clock)
    if stamps is not None:  # every write is new: one reading of the clock for the batch
        now = now_of()
        stamp = iter(stamps).__next__
    for w in prepared:
        # (one unpacking: a NamedTuple's fields read by name cost ~0.2k instructions each)
        (
            key,
            value,
            data,
            data_hash,
            policy,
            ts,
            ttl_given,
            actor,
            op_id,
            context,
            tag_list,
            _guard,  # (none: see ``Writer._apply_all``)
            strategy,
            prov,
        ) = w
        if stamps is None:
            now = now_of()
            if not (
                strategy == _LWW
                and op_id is None
                and context is None
                and (ts is None or ts > _NEVER)  # (-inf: the general rules decide)
                and take_absent(key)
            ):
                append(general(w, now))
                continue
        if ts is None:
            ts = stamp()
        shared = terms.get(id(policy))
        if shared is None:
            shared = terms[id(policy)] = (
                policy.namespace,
                policy.cleanup_strategy.value,
                policy.compression_threshold_bytes if policy.compression_enabled else None,
                policy.ttl_seconds,
            )
        namespace, cleanup, threshold, policy_ttl = shared
        actor_json = quoted.get(actor)
        if actor_json is None:
            actor_json = quoted[actor] = _quote(actor)
        # the stored document, as ``transitions.encode`` splices it
        if tag_list is None and prov is None:
            tail = b"}}"
        else:
            text = "}"
            if tag_list is not None:
                text += f',"t":{codec.dumps({"ts": ts, "a": actor, "v": list(tag_list)})}'
            if prov is not None:
                text += f',"p":{codec.dumps({"ts": ts, "a": actor, "v": prov})}'
            tail = (text + "}").encode()
        raw = f'{{"s":{{"ts":{ts!r},"a":{actor_json},"h":"{data_hash}","v":'.encode() + data + tail
        if threshold is not None and len(raw) > threshold:
            codec_name, payload, size = _encode_bytes(raw, compress=True, threshold_bytes=threshold)
        else:
            codec_name, payload, size = _JSON, raw, len(raw)
        ttl = policy_ttl if ttl_given is None else ttl_given
        expires = None if ttl <= 0 else ts + ttl
        revision = insert_new(
            key,
            namespace,
            _LWW,
            cleanup,
            codec_name,
            payload,
            size,
            ts or now,
            ts,
            expires,
            ttl_given,
            actor or default_actor,
            tag_list,
            _document(key, value),
        )
        is_expired = expires is not None and expires <= now
        result = _new_result(StoreResult)
        _set(
            result,
            "__dict__",
            {
                "key": key,
                "policy": namespace,
                "strategy": _LWW,
                "expires_at": expires,
                "compressed": codec_name != _JSON,
                "value": None if is_expired else value,
                "applied": True,
                "duplicate": False,
                "expired": is_expired,
                "revision": revision,
                "conflict": None,
            },
        )
        append(result)
    return results


def _all_new(
    prepared: Sequence[PreparedWrite],
    take_all_absent: Callable[[Collection[str]], bool],
    clock: Clock,
) -> list[float] | None:
    """When every write of the batch takes this path (a bulk load of new keys): the
    stamps its writes without a timestamp get, in order, taken at once (``stamp_many``:
    what a ``stamp`` per write gives at one instant) and every key taken; else None and
    nothing taken. (With distinct keys, a key's ``take_absent`` answers the same before
    the loop as in it: only a write of that key changes it.)"""
    many = getattr(clock, "stamp_many", None)
    if many is None:
        return None
    unstamped = 0
    keys: set[str] = set()
    add = keys.add
    for key, _, _, _, _, ts, _, _, op_id, context, _, _, strategy, _ in prepared:
        if ts is None:
            unstamped += 1
        elif not ts > _NEVER:
            return None
        if strategy != _LWW or op_id is not None or context is not None:
            return None
        add(key)
    if len(keys) != len(prepared) or not take_all_absent(keys):
        return None
    return many(unstamped)
