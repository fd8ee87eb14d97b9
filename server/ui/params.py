"""Query-string parameters of the dashboard's endpoints, checked with errors that say
what to fix (an unknown name gets a did-you-mean, a number that is not one says so).

A query string carries text only; the engine checks the ranges of what it receives, so
here a value only has to become the right type.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

from starlette.datastructures import QueryParams

from lifecycle import InvalidValueError
from lifecycle.errors import clip


class Params:
    """The parameters of one request; names outside ``allowed`` are refused at once."""

    def __init__(self, query: QueryParams, allowed: Iterable[str]) -> None:
        self._query = query
        names = sorted(allowed)
        for name in query:
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"did you mean '{close[0]}'?" if close else _takes(names)
                raise InvalidValueError(f"unknown parameter {clip(name, 40)}; {hint}")

    def text(self, name: str, default: str = "") -> str:
        values = self._query.getlist(name)
        if len(values) > 1:
            raise InvalidValueError(
                f"parameter '{name}' is given {len(values)} times; give it once"
            )
        return values[0] if values else default

    def texts(self, name: str) -> list[str]:
        """A repeatable parameter (``tag=a&tag=b``); empty values are ignored."""
        return [v for v in self._query.getlist(name) if v.strip()]

    def whole(self, name: str, default: int | None) -> int | None:
        raw = self.text(name).strip()
        if not raw:
            return default
        if not raw.isdigit():
            raise InvalidValueError(
                f"invalid {name} {clip(raw, 40)}: use a whole number, 0 or more"
            )
        return int(raw[:20])  # (a longer number is far out of any range: the engine says so)

    def number(self, name: str, default: float) -> float:
        raw = self.text(name).strip()
        if not raw:
            return default
        try:
            value = float(raw[:40])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InvalidValueError(f"invalid {name} {clip(raw, 40)}: use a number of seconds")
        return value


def _takes(names: list[str]) -> str:
    return f"this endpoint takes {', '.join(names)}" if names else "this endpoint takes none"
