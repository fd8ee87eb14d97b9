"""One write, as a typed request: what the MCP tools, the CLI, batches and imports hand
the engine.

The write fields are declared in ``write_fields`` (names, types, descriptions); a new
field is added there and here (a test holds ``WriteRequest``'s fields, their order and
types to the declaration) and checked in ``prepare``. The fields and ``__init__`` are
spelled out rather than generated from the declaration: a hook builds requests, and
neither a ``TypedDict`` nor generated code is free at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from operator import itemgetter

from lifecycle.basics.arguments import check_actor, check_op_id, check_seconds, check_timestamp
from lifecycle.basics.dataclass_lite import FrozenRecord
from lifecycle.basics.digests import sha1_hex, sha1_hex_many
from lifecycle.basics.keys import all_plain_keys, full_key, validate_key
from lifecycle.basics.typing_lite import NamedTuple
from lifecycle.entries import codec, crdt
from lifecycle.entries.preconditions import NO_GUARD, Guard, check_guard
from lifecycle.entries.provenance import check_provenance
from lifecycle.entries.tags import check_tags
from lifecycle.errors import InvalidValueError
from lifecycle.policies.retention import PolicySet, RetentionPolicy

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

_set = object.__setattr__  # how a frozen record's __init__ sets its fields

MAX_BATCH = 1000  # entries per store_many / memory_store_batch: one transaction, bounded


class WriteRequest(FrozenRecord):
    """A caller's write, before validation (see ``prepare``). (No ``__slots__``: a request
    is made per entry of a batch, and its ``__dict__`` is filled in one step, where
    thirteen ``object.__setattr__`` calls cost a tenth of a bulk load's Python per entry;
    as ``StoreResult``.)"""

    key: str
    value: Any
    namespace: str | None
    timestamp: float | None
    ttl_seconds: float | None
    agent_id: str | None
    op_id: str | None
    context: str | None
    tags: Sequence[str] | None  # None keeps the entry's tags; [] clears them
    if_revision: int | None  # compare-and-set: the key's current revision (0: absent)
    lock: str | None  # a guarded write: only while this lock is held ...
    lock_token: int | None  # ... with this fencing token
    provenance_type: str | None  # who or what produced the value; None keeps the entry's

    def __init__(
        self,
        key: str,
        value: Any,
        namespace: str | None = None,
        timestamp: float | None = None,
        ttl_seconds: float | None = None,
        agent_id: str | None = None,
        op_id: str | None = None,
        context: str | None = None,
        tags: Sequence[str] | None = None,
        if_revision: int | None = None,
        lock: str | None = None,
        lock_token: int | None = None,
        provenance_type: str | None = None,
    ) -> None:
        _set(
            self,
            "__dict__",
            {
                "key": key,
                "value": value,
                "namespace": namespace,
                "timestamp": timestamp,
                "ttl_seconds": ttl_seconds,
                "agent_id": agent_id,
                "op_id": op_id,
                "context": context,
                "tags": tags,
                "if_revision": if_revision,
                "lock": lock,
                "lock_token": lock_token,
                "provenance_type": provenance_type,
            },
        )

    @classmethod
    def from_mapping(cls, item: Mapping[str, Any], where: str = "entry") -> WriteRequest:
        """A request from a plain dict; unknown fields are an error, not silently dropped."""
        if WRITE_FIELDS.issuperset(item) and "key" in item and "value" in item:
            return _from_fields(cls, item)  # (the common case, without building the set below)
        unknown = set(item) - WRITE_FIELDS
        if unknown or "key" not in item or "value" not in item:
            raise InvalidValueError(
                f"{where}: each entry needs 'key' and 'value'"
                + (f"; unknown fields {sorted(unknown)}" if unknown else ""),
                key=str(item.get("key"))[:200],
            )
        return cls(**item)


WRITE_FIELDS: frozenset[str] = frozenset(WriteRequest.field_names())
_ABSENT: dict[str, Any] = dict.fromkeys(WriteRequest.field_names())  # every optional field unset
_new = object.__new__


def _from_fields(cls: type[WriteRequest], item: Mapping[str, Any]) -> WriteRequest:
    """``cls(**item)`` for an ``item`` of known fields with a key and a value, in two
    dict operations (every entry of a ``store_many`` of dicts comes here)."""
    fields = _ABSENT.copy()
    fields.update(item)
    request = _new(cls)
    _set(request, "__dict__", fields)
    return request


if TYPE_CHECKING:  # (a type only: ``Any`` is typing's)
    Request = WriteRequest | dict[str, Any]
    """A request, or a bare ``{"key": ..., "value": ...}`` item of ``store_many`` (every
    other field absent): a bulk load's items, which ``prepare_many`` reads without building
    a ``WriteRequest`` per item (a dict copy, an update and a new object: ~10k instructions
    an item). The checks, their order and their errors are the same either way."""


def requests_from(
    items: Iterable[WriteRequest | Mapping[str, Any] | tuple[str, Any]],
) -> list[Request]:
    """Requests from ``store_many``'s items (requests, dicts or ``(key, value)`` pairs);
    a bare ``{key, value}`` dict stays as it is (``Request``)."""
    out: list[Request] = []
    known = WRITE_FIELDS.issuperset
    for i, item in enumerate(items):
        if len(out) >= MAX_BATCH:
            raise InvalidValueError(
                f"batch of more than {MAX_BATCH} entries is over the limit of {MAX_BATCH}; split it"
            )
        if type(item) is dict and len(item) == 2 and "key" in item and "value" in item:
            out.append(item)  # a bare item: ``prepare_many`` reads it as it is
        elif isinstance(item, WriteRequest):
            out.append(item)
        elif isinstance(item, tuple):
            out.append(WriteRequest(item[0], item[1]))
        elif type(item) is dict and known(item) and "key" in item and "value" in item:
            out.append(_from_fields(WriteRequest, item))  # (``from_mapping``'s common case)
        else:
            out.append(WriteRequest.from_mapping(item, f"entries[{i}]"))
    return out


class PreparedWrite(NamedTuple):
    """A validated request: full key, its policy, the value serialized once. (A
    NamedTuple: one is made per entry of a batch, and a frozen dataclass costs ~2 µs
    to construct against ~0.3 µs.)"""

    key: str
    value: Any
    data: bytes  # the value serialized once, spliced into the stored document
    data_hash: str
    policy: RetentionPolicy
    timestamp: float | None
    ttl_seconds: float | None
    actor: str  # the CRDT component id, ``<agent>#<replica>``
    op_id: str | None
    context: dict[str, int] | None
    tags: tuple[str, ...] | None  # sorted, unique; None = keep the entry's
    guard: Guard
    strategy: str  # the policy's conflict strategy (read once: an enum's value is not free)
    provenance: str | None = None  # None = keep the entry's (lifecycle.entries.provenance)


_new_prepared = tuple.__new__


def prepare(
    request: WriteRequest,
    policies: PolicySet,
    now: float,
    component_id: Callable[[str | None], str],
) -> PreparedWrite:
    """Check every field of ``request``; raise a ``LifecycleError`` naming the first problem.

    Nothing is written before every request of a call is prepared, so a bad
    entry in a batch changes nothing.
    """
    return prepare_many((request,), policies, now, component_id)[0]


def prepare_many(
    requests: Sequence[Request],
    policies: PolicySet,
    now: float,
    component_id: Callable[[str | None], str],
) -> list[PreparedWrite]:
    """``prepare`` of each request, in order (one loop: what is the same for every
    request of a batch, the settings and this writer's own actor id, is looked up once;
    a bulk load's requests usually carry a key and a value only)."""
    match = policies.match if len(requests) < 2 else policies.match_batch
    settings = policies.settings
    max_bytes = settings.max_value_bytes
    if len(requests) > 1 and set(map(type, requests)) == _BARE:
        fast = _prepare_bare(requests, policies, max_bytes, component_id)  # type: ignore[arg-type]
        if fast is not None:
            return fast
    serialize = codec.serialize_value
    digest = sha1_hex  # (``crdt.hash_serialized`` is its first 16 digits; one call fewer)
    own_actor: str | None = None
    strategies: dict[int, str] = {}  # a policy's strategy (an enum's value is not free)
    out: list[PreparedWrite] = []
    for request in requests:
        if not isinstance(request, WriteRequest):  # a bare item: as its request, field for field
            k = validate_key(request["key"])
            policy = match(k)
            value = request["value"]
            data = serialize(value, k, max_bytes)
            strategy = strategies.get(id(policy))
            if strategy is None:
                strategy = strategies[id(policy)] = policy.conflict_strategy.value
            if strategy == crdt.COUNTER:
                crdt.check_delta(value, k)
            if own_actor is None:
                own_actor = component_id(None)
            out.append(
                _new_prepared(
                    PreparedWrite,
                    (  # (no timestamp, TTL, op id, context, tags, guard or provenance)
                        k,
                        value,
                        data,
                        digest(data)[:16],
                        policy,
                        None,
                        None,
                        own_actor,
                        None,
                        None,
                        None,
                        NO_GUARD,
                        strategy,
                        None,
                    ),
                )
            )
            continue
        namespace = request.namespace
        k = validate_key(request.key) if namespace is None else full_key(request.key, namespace)
        policy = match(k)
        value = request.value
        data = serialize(value, k, max_bytes)
        strategy = strategies.get(id(policy))
        if strategy is None:
            strategy = strategies[id(policy)] = policy.conflict_strategy.value
        if strategy == crdt.COUNTER:
            crdt.check_delta(value, k)
        context = request.context
        if context is not None and not isinstance(context, str):
            raise InvalidValueError(
                f"invalid context for key '{k}': must be the string memory_retrieve returned",
                key=k,
            )
        agent = request.agent_id
        if agent is None:
            if own_actor is None:
                own_actor = component_id(None)
            actor = own_actor
        else:
            actor = component_id(check_actor(agent, k))
        # (each check is skipped for an absent field, as each would return None for it)
        timestamp = request.timestamp
        ttl = request.ttl_seconds
        op_id = request.op_id
        tags = request.tags
        provenance = request.provenance_type
        guard = NO_GUARD
        if (
            request.if_revision is not None
            or request.lock is not None
            or request.lock_token is not None
        ):
            guard = check_guard(request.if_revision, request.lock, request.lock_token, k)
        out.append(
            _new_prepared(  # (``PreparedWrite(...)`` without its Python-level ``__new__``)
                PreparedWrite,
                (
                    k,
                    value,
                    data,
                    digest(data)[:16],
                    policy,
                    None
                    if timestamp is None
                    else check_timestamp(
                        timestamp, k, now=now, max_ahead=settings.max_clock_skew_seconds
                    ),
                    None if ttl is None else check_seconds(ttl, "ttl_seconds", k),
                    actor,
                    None if op_id is None else check_op_id(op_id, k),
                    crdt.decode_context(context, k) if context is not None else None,
                    None if tags is None else check_tags(tags, k),
                    guard,
                    strategy,
                    None if provenance is None else check_provenance(provenance, k),
                ),
            )
        )
    return out


_BARE = {dict}  # the types of a batch of bare items only
_ITEM_KEY = itemgetter("key")
_ITEM_VALUE = itemgetter("value")


def _prepare_bare(
    items: list[dict[str, Any]],
    policies: PolicySet,
    max_bytes: int,
    component_id: Callable[[str | None], str],
) -> list[PreparedWrite] | None:
    """``prepare_many`` of a batch of bare ``{key, value}`` items, column by column: the
    keys checked at once (``all_plain_keys``), the values serialized and hashed by C
    loops over the batch, the policies matched once per distinct key head, the prepared
    writes zipped together; per item, nothing in Python but a counter key's delta check.
    None (nothing done) when a key or a value needs the item-by-item checks, which then
    raise the first problem in order as ever: the only error left here is a counter
    delta's, and it is checked in order."""
    keys = list(map(_ITEM_KEY, items))
    if not all_plain_keys(keys):
        return None
    values = list(map(_ITEM_VALUE, items))
    datas = codec.serialize_many(values, max_bytes)
    if datas is None:
        return None
    matched = policies.match_many(keys)
    distinct = dict(zip(map(id, matched), matched, strict=False))
    strategy_of = {pid: policy.conflict_strategy.value for pid, policy in distinct.items()}
    n = len(keys)
    if len(strategy_of) == 1:
        strategies = [*strategy_of.values()] * n
    else:
        strategies = list(map(strategy_of.__getitem__, map(id, matched)))
    if crdt.COUNTER in strategy_of.values():
        for key, value, strategy in zip(keys, values, strategies, strict=False):
            if strategy == crdt.COUNTER:
                crdt.check_delta(value, key)
    none = repeat(None)
    return list(
        map(
            _new_prepared,
            repeat(PreparedWrite, n),
            zip(
                keys,
                values,
                datas,
                sha1_hex_many(datas, 16),  # (``crdt.hash_serialized``)
                matched,
                none,  # no timestamp,
                none,  # TTL,
                repeat(component_id(None)),  # agent id (this writer's own actor),
                none,  # op id,
                none,  # context,
                none,  # tags,
                repeat(NO_GUARD),  # guard
                strategies,
                none,  # or provenance
            ),
        )
    )
