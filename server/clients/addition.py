"""One thing init adds to a client's file, whatever the file's format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Addition:
    """``value`` added under ``key`` to the object at ``at`` (to the list, when ``key`` is
    None); ``changes`` are the report's lines for it."""

    at: tuple[str, ...]
    key: str | None
    value: Any
    changes: tuple[str, ...]
