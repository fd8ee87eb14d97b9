"""Pure CRDT merges: no I/O, no clock.

Each conflict strategy is a state-based CRDT whose state is plain JSON, so it
can be stored, exported and merged anywhere:

* ``lww`` — a last-write-wins register ordered by ``(timestamp, actor, hash)``;
  the content hash makes equal ``(timestamp, actor)`` pairs pick the same
  winner on every replica. ``{"ts", "a", "h", "v", "del"?}``
* ``multi_value`` — a multi-value register with dotted version vectors:
  each sibling carries a dot ``(actor, counter)``; a write that carries the
  version vector it read (the ``context``) replaces exactly the siblings it
  saw. ``{"s": [[actor, counter, ts, value], ...], "vv": {actor: counter}}``
* ``counter`` — a PN-counter with a reset baseline: per actor
  ``[increments, decrements, ops]``; ``delete`` records the current vector as
  the baseline, so concurrent increments elsewhere survive a delete.
  ``{"c": {actor: [p, n, k]}, "b": {actor: [p, n, k]}, "ts": float}``

``merge`` is commutative, associative and idempotent for every strategy
(tested with Hypothesis). ``prune_siblings`` is a local inflation, not part of
the join: dropping a sibling keeps its dot in the version vector, so the drop
propagates and replicas still converge.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping

from lifecycle.basics.digests import sha1_hex
from lifecycle.basics.typing_lite import NamedTuple
from lifecycle.entries.codec import dumps
from lifecycle.errors import InvalidContextError, InvalidValueError, clip
from lifecycle.policies.retention import ConflictStrategy

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

_URLSAFE = bytes.maketrans(b"+/", b"-_")  # base64's URL-safe alphabet, and back
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")

LWW = ConflictStrategy.LAST_WRITE_WINS.value
MV = ConflictStrategy.MULTI_VALUE.value
COUNTER = ConflictStrategy.COUNTER.value

if TYPE_CHECKING:
    State = dict[str, Any]


# (NamedTuples rather than frozen dataclasses: a view is made two or three times per
# write, and a frozen dataclass's __init__ costs several times a tuple's)


class Sibling(NamedTuple):
    value: Any
    actor: str
    timestamp: float


class View(NamedTuple):
    """What a reader sees of a state."""

    exists: bool
    value: Any = None
    conflicts: tuple[Sibling, ...] = ()
    actor: str = ""
    timestamp: float = 0.0


def content_hash(value: Any) -> str:
    """The LWW tiebreak: a hash of the value's serialized form."""
    return hash_serialized(dumps(value).encode("utf-8"))


def hash_serialized(data: bytes) -> str:
    """``content_hash`` of a value already serialized with ``codec.dumps``."""
    return sha1_hex(data)[:16]


# ---------------------------------------------------------------- last-write-wins


def lww_new(value: Any, actor: str, ts: float) -> State:
    return {"ts": ts, "a": actor, "h": content_hash(value), "v": value}


def lww_tombstone(actor: str, ts: float) -> State:
    return {"ts": ts, "a": actor, "h": "", "v": None, "del": True}


def _lww_order(s: State) -> tuple[float, str, str]:
    return (s["ts"], s["a"], s["h"])


def lww_merge(x: State, y: State) -> State:
    return x if _lww_order(x) >= _lww_order(y) else y


def lww_view(s: State) -> View:
    if s.get("del"):
        return View(False, actor=s["a"], timestamp=s["ts"])
    return View(True, s["v"], (), s["a"], s["ts"])


# ---------------------------------------------------------------- multi-value


def mv_empty() -> State:
    return {"s": [], "vv": {}}


def _sib_order(sib: list[Any]) -> tuple[float, str, int]:
    return (sib[2], sib[0], sib[1])


def _canonical(siblings: list[list[Any]]) -> list[list[Any]]:
    return sorted(siblings, key=lambda s: (s[0], s[1]))


def mv_write(
    state: State,
    value: Any,
    actor: str,
    ts: float,
    context: Mapping[str, int] | None,
    max_siblings: int | None = None,
) -> State:
    """A local write: a new dot, replacing the siblings ``context`` covers."""
    vv = dict(state["vv"])
    siblings = list(state["s"])
    if context is not None:
        siblings = [s for s in siblings if s[1] > context.get(s[0], 0)]
        for a, k in context.items():
            vv[a] = max(vv.get(a, 0), k)
    counter = vv.get(actor, 0) + 1
    vv[actor] = counter
    siblings.append([actor, counter, ts, value])
    return prune_siblings({"s": _canonical(siblings), "vv": vv}, max_siblings)


def mv_remove(state: State, context: Mapping[str, int] | None = None) -> State:
    """Delete: drop the siblings seen (all, without a context); keep the clock."""
    if context is None:
        return {"s": [], "vv": dict(state["vv"])}
    kept = [s for s in state["s"] if s[1] > context.get(s[0], 0)]
    vv = dict(state["vv"])
    for a, k in context.items():
        vv[a] = max(vv.get(a, 0), k)
    return {"s": kept, "vv": vv}


def mv_merge(x: State, y: State) -> State:
    xs = {(s[0], s[1]): s for s in x["s"]}
    ys = {(s[0], s[1]): s for s in y["s"]}
    xvv, yvv = x["vv"], y["vv"]
    kept: dict[tuple[str, int], list[Any]] = {}
    for dot, sib in xs.items():
        if dot in ys:
            other = ys[dot]  # the same dot twice only if an actor id was reused across replicas
            kept[dot] = max(sib, other, key=lambda s: (s[2], content_hash(s[3])))
        elif dot[1] > yvv.get(dot[0], 0):
            kept[dot] = sib
    for dot, sib in ys.items():
        if dot not in xs and dot[1] > xvv.get(dot[0], 0):
            kept[dot] = sib
    vv = dict(xvv)
    for a, k in yvv.items():
        vv[a] = max(vv.get(a, 0), k)
    return {"s": _canonical(list(kept.values())), "vv": vv}


def prune_siblings(state: State, max_siblings: int | None) -> State:
    """Keep the newest ``max_siblings``; dropped dots stay covered by the clock."""
    if max_siblings is None or len(state["s"]) <= max_siblings:
        return state
    newest = sorted(state["s"], key=_sib_order, reverse=True)[:max_siblings]
    return {"s": _canonical(newest), "vv": state["vv"]}


def mv_view(s: State) -> View:
    if not s["s"]:
        return View(False)
    ordered = sorted(s["s"], key=_sib_order, reverse=True)
    top = ordered[0]
    conflicts = tuple(Sibling(o[3], o[0], o[2]) for o in ordered[1:])
    return View(True, top[3], conflicts, top[0], top[2])


def encode_context(vv: Mapping[str, int]) -> str:
    raw = json.dumps(dict(sorted(vv.items())), separators=(",", ":")).encode()
    # base64.urlsafe_b64encode's two steps: base64 itself is ~1M instructions of a hook
    encoded = binascii.b2a_base64(raw, newline=False).translate(_URLSAFE)
    return "vv1." + encoded.decode().rstrip("=")


def decode_context(token: str | None, key: str | None = None) -> dict[str, int] | None:
    """Read a context token; ``None`` means the writer saw nothing."""
    if token is None or token == "":
        return None
    try:
        if not token.startswith("vv1."):
            raise ValueError("unknown prefix")
        padded = token[4:] + "=" * (-len(token[4:]) % 4)
        # base64.urlsafe_b64decode's steps (a non-ASCII token is a ValueError there too)
        raw = binascii.a2b_base64(padded.encode("ascii").translate(_FROM_URLSAFE))
        vv = json.loads(raw)
        if not isinstance(vv, dict) or not all(
            isinstance(a, str) and isinstance(k, int) and not isinstance(k, bool) and k >= 0
            for a, k in vv.items()
        ):
            raise ValueError("not a version vector")
        return vv
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidContextError(
            f"invalid context for key '{key}': {token[:40]!r} is not a token returned by "
            "memory_retrieve; pass the 'context' value exactly as retrieve returned it, or omit it",
            key=key,
        ) from exc


# ---------------------------------------------------------------- PN-counter


def pn_empty() -> State:
    return {"c": {}, "b": {}, "ts": 0.0}


COUNTER_LIMIT = 2**63 - 1  # a 64-bit integer's range: what every client and database can hold


def check_delta(value: Any, key: str | None = None) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValueError(
            f"invalid value for counter key '{key}': {clip(value)} is not a number; a counter "
            "key adds the number you store (use a negative number to subtract)",
            key=key,
        )
    if not -COUNTER_LIMIT <= value <= COUNTER_LIMIT:
        raise InvalidValueError(
            f"invalid value for counter key '{key}': {clip(value)} is outside the counter "
            f"range of +/-{COUNTER_LIMIT} (a 64-bit integer); add a smaller number",
            key=key,
        )
    return value


def check_counter(state: State, key: str | None = None) -> None:
    """Refuse a counter state whose components or sum left the counter range."""
    parts = [x for comp in state["c"].values() for x in comp[:2]]
    base = state["b"]
    total = sum(
        (p - base.get(a, (0, 0))[0]) - (n - base.get(a, (0, 0))[1])
        for a, (p, n, _) in state["c"].items()
    )
    if all(0 <= x <= COUNTER_LIMIT for x in parts) and -COUNTER_LIMIT <= total <= COUNTER_LIMIT:
        return
    raise InvalidValueError(
        f"counter '{key}' would leave the range of +/-{COUNTER_LIMIT} (a 64-bit integer); "
        "nothing was changed: reset it with delete, or count in larger units",
        key=key,
    )


def pn_add(state: State, delta: int | float, actor: str, ts: float) -> State:
    c = {a: list(v) for a, v in state["c"].items()}
    p, n, k = c.get(actor, [0, 0, 0])
    if delta >= 0:
        p += delta
    else:
        n -= delta
    c[actor] = [p, n, k + 1]
    return {"c": c, "b": state["b"], "ts": max(state["ts"], ts)}


def pn_reset(state: State, ts: float) -> State:
    """Delete: everything seen so far becomes the baseline."""
    b = {a: list(v) for a, v in state["b"].items()}
    for a, comp in state["c"].items():
        b[a] = [max(x, y) for x, y in zip(b.get(a, [0, 0, 0]), comp, strict=True)]
    return {"c": state["c"], "b": b, "ts": max(state["ts"], ts)}


def _max_vectors(x: Mapping[str, list[Any]], y: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    out = {a: list(v) for a, v in x.items()}
    for a, comp in y.items():
        mine = out.get(a)
        out[a] = (
            list(comp) if mine is None else [max(m, o) for m, o in zip(mine, comp, strict=True)]
        )
    return out


def pn_merge(x: State, y: State) -> State:
    return {
        "c": _max_vectors(x["c"], y["c"]),
        "b": _max_vectors(x["b"], y["b"]),
        "ts": max(x["ts"], y["ts"]),
    }


def pn_view(s: State) -> View:
    total: int | float = 0
    ops = 0
    actor, best = "", -1
    for a in sorted(s["c"]):
        p, n, k = s["c"][a]
        bp, bn, bk = s["b"].get(a, [0, 0, 0])
        total += (p - bp) - (n - bn)
        ops += k - bk
        if k - bk > best:
            actor, best = a, k - bk
    if ops <= 0:
        return View(False, timestamp=s["ts"])
    return View(True, total, (), actor, s["ts"])


# ---------------------------------------------------------------- dispatch


def initial(strategy: str) -> State:
    """The state of a key never written: every write wins over it."""
    if strategy == LWW:
        return {"ts": float("-inf"), "a": "", "h": "", "v": None, "del": True}
    return mv_empty() if strategy == MV else pn_empty()


def forget(strategy: str, state: State, ts: float, actor: str = "") -> State:
    """The state after a delete (or expiry) of everything it holds."""
    if strategy == LWW:
        if state["ts"] >= ts:
            return state
        return lww_tombstone(actor, ts)
    if strategy == MV:
        return mv_remove(state)
    return pn_reset(state, ts)


_MERGE = {LWW: lww_merge, MV: mv_merge, COUNTER: pn_merge}
_VIEW = {LWW: lww_view, MV: mv_view, COUNTER: pn_view}


def merge(strategy: str, x: State, y: State) -> State:
    return _MERGE[strategy](x, y)


def view(strategy: str, state: State) -> View:
    return _VIEW[strategy](state)


def updated_at(strategy: str, state: State) -> float:
    if strategy == LWW:
        return state["ts"]
    if strategy == MV:
        return max((s[2] for s in state["s"]), default=0.0)
    return state["ts"]


def convert(state: State, source: str, target: str) -> State:
    """Re-type a state whose key's policy changed strategy (deterministic, so replicas agree)."""
    if source == target:
        return state
    seen = view(source, state)
    ts = seen.timestamp
    if target == LWW:
        return lww_new(seen.value, seen.actor, ts) if seen.exists else lww_tombstone("", ts)
    if target == MV:
        if not seen.exists:
            return mv_empty()
        return {"s": [[seen.actor, 1, ts, seen.value]], "vv": {seen.actor: 1}}
    out = pn_empty()
    if seen.exists and isinstance(seen.value, (int, float)) and not isinstance(seen.value, bool):
        out = pn_add(out, seen.value, seen.actor, ts)
    out["ts"] = ts
    return out


def merge_ops(x: Mapping[str, float], y: Mapping[str, float], window: int) -> dict[str, float]:
    """Union of applied op ids, keeping the newest ``window`` (a deterministic cut)."""
    ops = dict(x)
    for op, ts in y.items():
        if ts > ops.get(op, float("-inf")):
            ops[op] = ts
    if len(ops) > window:
        ops = dict(sorted(ops.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:window])
    return ops


class CRDTResolver:
    """The seed's resolver, over the pure merges above."""

    def resolve(self, strategy: ConflictStrategy | str, current: State, incoming: State) -> State:
        return merge(ConflictStrategy(strategy).value, current, incoming)
