"""Tags: labels on an entry, and how they merge between replicas.

An entry's tags are entry metadata, kept beside the CRDT state of its value
as a last-writer-wins register of their own, ``{"ts", "a", "v"}`` (time,
actor, the sorted tags), in the stored document and in exports. So:

* a write with ``tags`` sets them (``[]`` clears them); a write without keeps
  them. A local write is causally after the tags it read, so its tags win
  even when its timestamp is older (``stamp``), as a local LWW write does;
* an import joins the two registers: the greater ``(ts, actor, tags)`` wins,
  on every replica, whatever the order of exchange (``join`` is commutative,
  associative and idempotent);
* a delete clears the tags (a register of ``[]`` stamped with the delete), and
  an expired entry's tags count as cleared (``effective``), so a key written
  again after a delete or expiry does not inherit its old tags, here or on a
  replica;
* a last-write-wins write that loses (older than the value stored) changes
  nothing, its tags included.

The register is independent of the value: after replicas exchange a delete
and a concurrent newer write, the value can be the write's while the tags are
the delete's (cleared), the same result on every replica.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from lifecycle.errors import InvalidValueError

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_TAGS = 16
MAX_TAG_CHARS = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

if TYPE_CHECKING:
    TagState = dict[str, Any]  # {"ts": float, "a": str, "v": [tag, ...]}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_tags(tags: Any, key: str | None = None, field: str = "tags") -> tuple[str, ...] | None:
    """Validated tags, sorted and without duplicates; ``None`` stays ``None``."""
    if tags is None:
        return None
    where = f" for key '{key}'" if key else ""
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)):
        raise InvalidValueError(
            f"invalid {field}{where}: {_shown(tags)}; pass a list of strings, e.g. ['auth']",
            key=key,
        )
    if len(tags) > MAX_TAGS:
        raise InvalidValueError(
            f"invalid {field}{where}: {len(tags)} tags, over the limit of {MAX_TAGS}; "
            "keep the most useful ones",
            key=key,
        )
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= MAX_TAG_CHARS:
            raise InvalidValueError(
                f"invalid tag {_shown(tag)}{where}: each tag is a string of 1-{MAX_TAG_CHARS} "
                "characters",
                key=key,
            )
        if _CONTROL.search(tag) or not _encodable(tag):
            raise InvalidValueError(
                f"invalid tag {_shown(tag)}{where}: control characters and lone surrogates "
                "are not allowed; use printable text",
                key=key,
            )
    return tuple(sorted(set(tags)))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _order(t: TagState) -> tuple[float, str, tuple[str, ...]]:
    return (t["ts"], t["a"], tuple(t["v"]))


def join(x: TagState | None, y: TagState | None) -> TagState | None:
    """The register both replicas agree on: the greater ``(ts, actor, tags)``."""
    if x is None or y is None:
        return x if y is None else y
    return x if _order(x) >= _order(y) else y


def stamp(current: TagState | None, tags: Sequence[str], ts: float, actor: str) -> TagState:
    """A local write of ``tags``: causally after ``current``, so it always wins here."""
    if current is not None and ts <= current["ts"]:
        ts = math.nextafter(current["ts"], math.inf)
    return {"ts": ts, "a": actor, "v": list(tags)}


def effective(t: TagState | None, gone: bool) -> TagState | None:
    """The register of an entry that is gone (deleted or expired) holds no tags. The
    cleared register derives from the old one alone, so every replica derives the same."""
    if not gone or t is None or not t["v"]:
        return t
    return {"ts": math.nextafter(t["ts"], math.inf), "a": t["a"], "v": []}


def visible(t: TagState | None) -> tuple[str, ...]:
    return tuple(t["v"]) if t is not None else ()


def valid(t: Any) -> bool:
    """An exported register that can be merged."""
    if not isinstance(t, dict) or set(t) != {"ts", "a", "v"}:
        return False
    ts, actor, tags = t["ts"], t["a"], t["v"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        return False
    if not isinstance(actor, str) or not isinstance(tags, list):
        return False
    try:
        return check_tags(tags) == tuple(tags)
    except InvalidValueError:
        return False
