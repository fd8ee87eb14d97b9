"""Provenance: who or what produced an entry's value, and how it merges between replicas.

claude-flow 3 stores it with each memory (``provenance_type``: ``user_claim``,
``agent_output``, ``system_observation``, ``tool_result``, ``unknown``) so a
reader can weigh a user's stated claim apart from an agent's own output, and
filters searches by it. Here it is one short label per entry (any text of
1-64 characters, so other producers can name themselves), kept the way tags
are (``lifecycle.entries.tags``): a last-writer-wins register of its own,
``{"ts", "a", "v"}`` (time, actor, the label or ``None``), in the stored
document and in exports. So:

* a write with ``provenance_type`` sets it; a write without keeps it;
* an import joins the two registers (the greater ``(ts, actor, label)``
  wins, whatever the order of exchange);
* a delete clears it, and an expired entry's counts as cleared, so a key
  written again does not inherit it;
* a last-write-wins write that loses changes nothing, its provenance included.
"""

from __future__ import annotations

import math
import re

from lifecycle.errors import InvalidValueError

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

MAX_CHARS = 64
UNKNOWN = "unknown"
CLAUDE_FLOW_TYPES = ("user_claim", "agent_output", "system_observation", "tool_result", "unknown")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

if TYPE_CHECKING:
    ProvenanceState = dict[str, Any]  # {"ts": float, "a": str, "v": str | None}


def check_provenance(
    value: Any, key: str | None = None, field: str = "provenance_type"
) -> str | None:
    """A valid label (1-64 printable characters); ``None`` stays ``None``."""
    if value is None:
        return None
    where = f" for key '{key}'" if key else ""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CHARS:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise InvalidValueError(
            f"invalid {field}{where}: {shown}; pass a string of 1-{MAX_CHARS} characters, "
            f"e.g. one of claude-flow's {', '.join(CLAUDE_FLOW_TYPES)}",
            key=key,
        )
    if _CONTROL.search(value) or not _encodable(value):
        raise InvalidValueError(
            f"invalid {field}{where}: control characters and lone surrogates are not "
            "allowed; use printable text",
            key=key,
        )
    return value


def check_filter(values: Any) -> tuple[str, ...]:
    """A ``provenance_filter``: a list of labels (an empty or absent one filters nothing)."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise InvalidValueError(
            f"invalid provenance_filter {values!r:.60}: pass a list of provenance types, "
            "e.g. ['agent_output', 'tool_result']"
        )
    labels = set()
    for value in values:
        label = check_provenance(value, field="provenance_filter entry")
        if label is None:
            raise InvalidValueError("invalid provenance_filter entry None: pass strings")
        labels.add(label)
    return tuple(sorted(labels))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _order(p: ProvenanceState) -> tuple[float, str, str]:
    return (p["ts"], p["a"], p["v"] or "")


def join(x: ProvenanceState | None, y: ProvenanceState | None) -> ProvenanceState | None:
    """The register both replicas agree on: the greater ``(ts, actor, label)``."""
    if x is None or y is None:
        return x if y is None else y
    return x if _order(x) >= _order(y) else y


def stamp(
    current: ProvenanceState | None, value: str | None, ts: float, actor: str
) -> ProvenanceState:
    """A local write of ``value``: causally after ``current``, so it always wins here."""
    if current is not None and ts <= current["ts"]:
        ts = math.nextafter(current["ts"], math.inf)
    return {"ts": ts, "a": actor, "v": value}


def effective(p: ProvenanceState | None, gone: bool) -> ProvenanceState | None:
    """A gone entry (deleted or expired) has no provenance; the cleared register derives
    from the old one alone, so every replica derives the same."""
    if not gone or p is None or p["v"] is None:
        return p
    return {"ts": math.nextafter(p["ts"], math.inf), "a": p["a"], "v": None}


def visible(p: ProvenanceState | None) -> str | None:
    return p["v"] if p is not None else None


def filter_label(p: ProvenanceState | None) -> str:
    """What a ``provenance_filter`` compares: the label, or claude-flow's ``unknown`` for
    an entry written without one (claude-flow stores ``unknown`` by default)."""
    return visible(p) or UNKNOWN


def valid(p: Any) -> bool:
    """An exported register that can be merged."""
    if not isinstance(p, dict) or set(p) != {"ts", "a", "v"}:
        return False
    ts, actor, value = p["ts"], p["a"], p["v"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
        return False
    if not isinstance(actor, str):
        return False
    try:
        return value is None or check_provenance(value) == value
    except InvalidValueError:
        return False
