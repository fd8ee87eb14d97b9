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

A batch all of whose writes take this path (a bulk load) goes column by column
(``_write_all_new``): per row, a loop in Python costs more than most of the work it
drives, so the index text, documents, rows and results are made by a few calls over
the whole batch, their loops in C (``map``, ``zip``, ``str.join``/``split``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from itertools import repeat
from operator import ne as _ne
from operator import setitem

from lifecycle.basics.clock import Clock
from lifecycle.basics.typing_lite import Protocol
from lifecycle.entries import codec, crdt, searchable
from lifecycle.entries.entry import StoreResult
from lifecycle.entries.write_request import PreparedWrite
from lifecycle.policies.retention import RetentionPolicy
from lifecycle.store.text_index import SearchDoc

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

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

    index_separator: str  # what an index body's strings are apart by (``insert_new_many``)

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

    def insert_new_many(
        self,
        keys: Sequence[str],
        policies: Sequence[str],
        strategy: str,
        cleanups: Sequence[str],
        codecs: Sequence[str],
        payloads: Sequence[bytes],
        sizes: Sequence[int],
        created: Sequence[float],
        updated: Sequence[float],
        actors: Sequence[str],
        key_texts: Sequence[str],
        rendered: Sequence[str],
        expires: Sequence[float | None] | None = None,
        ttls: Sequence[float | None] | None = None,
        tags: Sequence[Sequence[str] | None] | None = None,
    ) -> Sequence[int]:
        """``insert_new`` of a batch's rows, column by column (the index bodies with their
        strings apart by ``index_separator``); their revisions."""


def write_batch(
    tx: BatchTransaction,
    prepared: Sequence[PreparedWrite],
    clock: Clock,
    default_actor: str,
    general: Callable[[PreparedWrite, float], StoreResult],
) -> list[StoreResult]:
    """Apply ``prepared`` (no guards) in order: new last-write-wins keys here, anything
    else through ``general(w, now)`` (the general rules, which read the row)."""
    loaded = _write_all_new(tx, prepared, clock, default_actor)
    if loaded is not None:
        return loaded
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
            shared = terms[id(policy)] = _policy_terms(policy)
        namespace, cleanup, threshold, policy_ttl = shared
        actor_json = quoted.get(actor)
        if actor_json is None:
            actor_json = quoted[actor] = _quote(actor)
        raw = _head(ts, actor_json, data_hash) + data + _tail(ts, actor, tag_list, prov)
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


def _policy_terms(policy: RetentionPolicy) -> tuple[str, str, int | None, float]:
    """What a policy's new rows share: namespace, cleanup strategy, compression threshold
    (None: off) and TTL."""
    return (
        policy.namespace,
        policy.cleanup_strategy.value,
        policy.compression_threshold_bytes if policy.compression_enabled else None,
        policy.ttl_seconds,
    )


def _head(ts: float, actor_json: str, data_hash: str) -> bytes:
    """The stored document up to its value, as ``transitions.encode`` splices it."""
    return f'{{"s":{{"ts":{ts!r},"a":{actor_json},"h":"{data_hash}","v":'.encode()


def _tail(ts: float, actor: str, tag_list: Sequence[str] | None, prov: str | None) -> bytes:
    """The stored document after its value: the tags and provenance registers, if any."""
    if tag_list is None and prov is None:
        return b"}}"
    text = "}"
    if tag_list is not None:
        text += f',"t":{codec.dumps({"ts": ts, "a": actor, "v": list(tag_list)})}'
    if prov is not None:
        text += f',"p":{codec.dumps({"ts": ts, "a": actor, "v": prov})}'
    return (text + "}").encode()


_RESULT_FIELDS = tuple(StoreResult.field_names())


def _write_all_new(
    tx: BatchTransaction, prepared: Sequence[PreparedWrite], clock: Clock, default_actor: str
) -> list[StoreResult] | None:
    """A batch every write of which takes this path (a bulk load of new keys), column by
    column: None (nothing done) unless every write is last-write-wins with no op id, no
    context and no timestamp of -inf, the keys are distinct and every key is absent
    (``take_all_absent``, which then takes them all), and the clock has ``stamp_many``.

    The batch's stamps are taken at once (``stamp_many``: what a ``stamp`` per write
    gives at one instant; no other write's stamp can fall between) and ``now`` read
    once; the documents' index text is made for the whole batch
    (``searchable.key_texts``, ``value_bodies``), the stored documents in one
    comprehension, the rows queued by ``insert_new_many`` and the results zipped, so
    that per row little runs in Python beyond what the stored format needs (the
    timestamp's ``repr``, the document's bytes). Field for field what the loop in
    ``write_batch`` gives (``tests/lifecycle/test_batch_write.py``)."""
    many = getattr(clock, "stamp_many", None)
    insert_many = getattr(tx, "insert_new_many", None)
    if many is None or insert_many is None:
        return None
    (
        keys,
        values,
        datas,
        hashes,
        policies,
        timestamps,
        ttls_given,
        actors,
        op_ids,
        contexts,
        tag_lists,
        _guards,
        strategies,
        provs,
    ) = zip(*prepared, strict=False)
    n = len(keys)
    unstamped = timestamps.count(None)
    if (
        strategies.count(_LWW) != n
        or op_ids.count(None) != n
        or contexts.count(None) != n
        or (unstamped != n and _NEVER in timestamps)  # (-inf: the general rules decide)
        or len(set(keys)) != n
        or not tx.take_all_absent(keys)
    ):
        return None
    stamps = many(unstamped)
    now = clock.now()
    if unstamped == n:
        ts_col = stamps
    else:
        stamp = iter(stamps).__next__
        ts_col = [stamp() if ts is None else ts for ts in timestamps]
    # per policy, what its rows share
    pids = list(map(id, policies))
    terms = {
        pid: _policy_terms(policy)
        for pid, policy in dict(zip(pids, policies, strict=False)).items()
    }
    if len(terms) == 1:
        ((namespace, cleanup, threshold, policy_ttl),) = terms.values()
        namespaces, cleanups = [namespace] * n, [cleanup] * n
        thresholds: list[int | None] | None = None if threshold is None else [threshold] * n
        policy_ttls: list[float] | None = None if policy_ttl <= 0 else [policy_ttl] * n
    else:
        shared = list(map(terms.__getitem__, pids))
        namespaces = [t[0] for t in shared]
        cleanups = [t[1] for t in shared]
        thresholds = [t[2] for t in shared]
        if thresholds.count(None) == n:
            thresholds = None
        policy_ttls = [t[3] for t in shared]
    # the stored documents
    quoted = {actor: _quote(actor) for actor in set(actors)}
    if len(quoted) == 1 and tag_lists.count(None) == n and provs.count(None) == n:
        (actor_json,) = quoted.values()
        raws = [
            f'{{"s":{{"ts":{ts!r},"a":{actor_json},"h":"{data_hash}","v":'.encode() + data + b"}}"
            for ts, data_hash, data in zip(ts_col, hashes, datas, strict=False)
        ]
    else:
        raws = [
            _head(ts, quoted[actor], data_hash) + data + _tail(ts, actor, tag_list, prov)
            for ts, actor, data_hash, data, tag_list, prov in zip(
                ts_col, actors, hashes, datas, tag_lists, provs, strict=False
            )
        ]
    sizes = list(map(len, raws))
    codecs = [_JSON] * n
    if thresholds is not None:
        for i, (raw, threshold) in enumerate(zip(raws, thresholds, strict=False)):
            if threshold is not None and len(raw) > threshold:
                codecs[i], raws[i], _ = _encode_bytes(raw, compress=True, threshold_bytes=threshold)
    # expiry
    ttls: Sequence[float] | None = policy_ttls  # each row's: its own, else its policy's
    if ttls_given.count(None) != n:
        ttls = [
            pt if given is None else given
            for pt, given in zip(policy_ttls or [0.0] * n, ttls_given, strict=False)
        ]
    expires: list[float | None] | None = None
    if ttls is not None:
        expires = [None if ttl <= 0 else ts + ttl for ts, ttl in zip(ts_col, ttls, strict=False)]
    stored_actors = [actor or default_actor for actor in actors] if "" in quoted else actors
    revisions = insert_many(
        keys,
        namespaces,
        _LWW,
        cleanups,
        codecs,
        raws,
        sizes,
        ts_col if 0.0 not in ts_col else [ts or now for ts in ts_col],
        ts_col,
        stored_actors,
        searchable.key_texts(keys),  # type: ignore[arg-type]
        searchable.value_bodies(values, tx.index_separator),
        expires if expires is not None and expires.count(None) != n else None,
        None if ttls_given.count(None) == n else ttls_given,
        None if tag_lists.count(None) == n else tag_lists,
    )
    # the results
    expired: list[bool] = []
    shown: Sequence[Any] = values
    if expires is not None:
        expired = [e is not None and e <= now for e in expires]
        shown = [None if gone else value for gone, value in zip(expired, values, strict=False)]
    # each result's fields: a copy of what they share, then what is its own (a dict
    # display of eleven fields costs half as much again); set as its ``__dict__`` by a C
    # loop, as ``StoreResult.__init__`` would fill it
    shared_fields = {
        "key": None,
        "policy": namespaces[0],
        "strategy": _LWW,
        "expires_at": None,
        "compressed": False,
        "value": None,
        "applied": True,
        "duplicate": False,
        "expired": False,
        "revision": 0,
        "conflict": None,
    }
    copy = shared_fields.copy
    fields: list[dict[str, Any]] = []
    append = fields.append
    for key, value, revision in zip(keys, shown, revisions, strict=True):
        own = copy()
        own["key"] = key
        own["value"] = value
        own["revision"] = revision
        append(own)
    if len(terms) > 1:
        any(map(setitem, fields, repeat("policy"), namespaces))
    if expires is not None:
        any(map(setitem, fields, repeat("expires_at"), expires))
        any(map(setitem, fields, repeat("expired"), expired))
    if codecs.count(_JSON) != n:
        any(map(setitem, fields, repeat("compressed"), map(_ne, codecs, repeat(_JSON))))
    results = list(map(_new_result, repeat(StoreResult, n)))
    any(map(_set, results, repeat("__dict__"), fields))
    return results
