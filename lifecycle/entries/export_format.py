"""The export format: one JSON object per line, full CRDT state, version first.

Exports are how replicas converge (``export`` on one, ``import`` on another)
and how data moves between stores (SQLite to PostgreSQL). Expiry metadata
travels with each entry, so an import never extends a TTL. Tags and provenance
travel as their own registers (``lifecycle.entries.tags``, ``lifecycle.entries.provenance``),
optional fields: files written before they existed read the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping

from lifecycle.basics.dataclass_lite import FrozenRecord
from lifecycle.basics.keys import validate_key
from lifecycle.entries.codec import check_json, dumps
from lifecycle.entries.provenance import valid as valid_provenance
from lifecycle.entries.tags import valid as valid_tags
from lifecycle.errors import ImportFormatError
from lifecycle.policies.retention import ConflictStrategy

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import IO, Any

    from lifecycle.entries.provenance import ProvenanceState
    from lifecycle.entries.tags import TagState

_set = object.__setattr__  # how a frozen record's __init__ sets its fields

FORMAT_VERSION = 1
_STRATEGIES = {s.value for s in ConflictStrategy}


class ExportedEntry(FrozenRecord):
    __slots__ = (
        "actor",
        "created_at",
        "expires_at",
        "key",
        "ops",
        "provenance",
        "state",
        "strategy",
        "tags",
        "tombstone",
        "ttl_seconds",
        "updated_at",
    )
    key: str
    strategy: str
    state: dict[str, Any]
    ops: dict[str, float]
    created_at: float
    updated_at: float
    expires_at: float | None
    ttl_seconds: float | None
    actor: str
    tombstone: bool
    tags: TagState | None  # the tags register (lifecycle.entries.tags); absent when never set
    provenance: ProvenanceState | None  # lifecycle.entries.provenance; absent when never set

    def __init__(
        self,
        key: str,
        strategy: str,
        state: dict[str, Any],
        ops: dict[str, float] | None = None,
        created_at: float = 0.0,
        updated_at: float = 0.0,
        expires_at: float | None = None,
        ttl_seconds: float | None = None,
        actor: str = "",
        tombstone: bool = False,
        tags: TagState | None = None,
        provenance: ProvenanceState | None = None,
    ) -> None:
        _set(self, "key", key)
        _set(self, "strategy", strategy)
        _set(self, "state", state)
        _set(self, "ops", dict() if ops is None else ops)
        _set(self, "created_at", created_at)
        _set(self, "updated_at", updated_at)
        _set(self, "expires_at", expires_at)
        _set(self, "ttl_seconds", ttl_seconds)
        _set(self, "actor", actor)
        _set(self, "tombstone", tombstone)
        _set(self, "tags", tags)
        _set(self, "provenance", provenance)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "key": self.key,
            "strategy": self.strategy,
            "state": self.state,
            "ops": self.ops,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
            "ttl_seconds": self.ttl_seconds,
            "actor": self.actor,
            "tombstone": self.tombstone,
        }
        if self.tags is not None:
            out["tags"] = self.tags
        if self.provenance is not None:
            out["provenance"] = self.provenance
        return out


def _fail(where: str, problem: str) -> ImportFormatError:
    return ImportFormatError(f"{where}: {problem}; re-export it with memory-lifecycle export")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: Any, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _number(item: Mapping[str, Any], name: str, where: str, optional: bool = False) -> Any:
    value = item.get(name)
    if value is None and optional:
        return None
    if not _finite(value):
        raise _fail(where, f"field '{name}' must be a finite number, got {value!r}")
    assert isinstance(value, (int, float))
    return float(value)


def _json_ok(value: Any) -> bool:
    try:
        check_json(value)
    except ValueError:
        return False
    return True


def _lww_ok(state: dict[str, Any]) -> bool:
    return (
        {"ts", "a", "h", "v"} <= state.keys()
        and _finite(state["ts"])
        and isinstance(state["a"], str)
        and isinstance(state["h"], str)
        and isinstance(state.get("del", False), bool)
        and _json_ok(state["v"])
    )


def _mv_ok(state: dict[str, Any]) -> bool:
    """Siblings are unique dots ``[actor, counter, ts, value]``, each covered by the clock."""
    siblings, vv = state.get("s"), state.get("vv")
    if not isinstance(siblings, list) or not isinstance(vv, dict):
        return False
    if not all(isinstance(a, str) and _count(k) for a, k in vv.items()):
        return False
    dots = set()
    for sib in siblings:
        if not (isinstance(sib, list) and len(sib) == 4):
            return False
        actor, counter, ts, value = sib
        if not (isinstance(actor, str) and _count(counter, 1) and _finite(ts)):
            return False
        if counter > vv.get(actor, 0) or (actor, counter) in dots or not _json_ok(value):
            return False
        dots.add((actor, counter))
    return True


def _vector_ok(vector: Any) -> bool:
    return isinstance(vector, dict) and all(
        isinstance(a, str)
        and isinstance(c, list)
        and len(c) == 3
        and all(_finite(x) and x >= 0 for x in c[:2])
        and _count(c[2])
        for a, c in vector.items()
    )


_STATE_CHECKS = {"lww": _lww_ok, "multi_value": _mv_ok}


def _check_state(strategy: str, state: Any, where: str) -> None:
    """A state that would not merge cleanly is rejected before anything is written."""
    if strategy == "counter":
        ok = (
            isinstance(state, dict)
            and _vector_ok(state.get("c"))
            and _vector_ok(state.get("b"))
            and _finite(state.get("ts"))
        )
    else:
        ok = isinstance(state, dict) and _STATE_CHECKS[strategy](state)
    if not ok:
        raise _fail(where, f"field 'state' is not a valid {strategy} state")


def parse_entry(item: Mapping[str, Any], line: int | None = None) -> ExportedEntry:
    """Validate one exported entry; errors name the line and the field."""
    key_text = item.get("key") if isinstance(item, Mapping) else None
    where = f"line {line}" if line is not None else "entry"
    if key_text:
        where += f" (key '{key_text}')"
    if not isinstance(item, Mapping):
        raise _fail(where, "not a JSON object")
    version = item.get("v")
    if version != FORMAT_VERSION:
        raise _fail(
            where, f"unsupported format version {version!r} (this version reads {FORMAT_VERSION})"
        )
    try:
        key = validate_key(item.get("key"))
    except ValueError as exc:
        raise _fail(where, str(exc)) from exc
    strategy = item.get("strategy")
    if strategy not in _STRATEGIES:
        raise _fail(where, f"field 'strategy' must be one of {sorted(_STRATEGIES)}")
    _check_state(strategy, item.get("state"), where)
    ops = item.get("ops") or {}
    if not isinstance(ops, dict) or not all(_finite(t) for t in ops.values()):
        raise _fail(where, "field 'ops' must be an object of op_id: timestamp")
    tags = item.get("tags")
    if tags is not None and not valid_tags(tags):
        raise _fail(where, "field 'tags' must be {ts, a, v} with v a sorted list of valid tags")
    provenance = item.get("provenance")
    if provenance is not None and not valid_provenance(provenance):
        raise _fail(where, "field 'provenance' must be {ts, a, v} with v null or 1-64 characters")
    return ExportedEntry(
        key=key,
        strategy=strategy,
        state=item["state"],
        ops={str(k): float(v) for k, v in ops.items()},
        created_at=_number(item, "created_at", where),
        updated_at=_number(item, "updated_at", where),
        expires_at=_number(item, "expires_at", where, optional=True),
        ttl_seconds=_number(item, "ttl_seconds", where, optional=True),
        actor=str(item.get("actor") or ""),
        tombstone=bool(item.get("tombstone", False)),
        tags=tags,
        provenance=provenance,
    )


def write_jsonl(entries: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    count = 0
    for entry in entries:
        out.write(dumps(entry))
        out.write("\n")
        count += 1
    return count


def read_jsonl(lines: Iterable[str], source: str = "<input>") -> Iterator[dict[str, Any]]:
    """Parse JSON lines lazily, naming the file and line of a broken one."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(
                f"{source}: line {n} is not valid JSON ({exc.msg}); the file may be truncated",
                path=source,
            ) from exc
        if not isinstance(item, dict):
            raise ImportFormatError(f"{source}: line {n} is not a JSON object", path=source)
        yield item
