"""What a PostgreSQL store URL sets beside libpq's own parameters: the schema, the
pool's sizes and the timeout that bounds every call.

Its own module: checked once, when the store opens, with an error naming the
parameter; everything else in the URL goes to libpq unchanged."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from lifecycle.errors import ConfigurationError

DEFAULT_SCHEMA = "memory_lifecycle"
DEFAULT_TIMEOUT_SECONDS = 10.0  # the URL's ``timeout``: the bound of every call
DEFAULT_POOL_MIN = 1
DEFAULT_POOL_MAX = 8
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_OUR_PARAMS = ("schema", "pool_min_size", "pool_max_size", "timeout")


def parse_url(url: str, shown: str) -> tuple[str, str, int, int, float]:
    """Split our own parameters off the URL; the rest goes to libpq unchanged."""
    parts = urlsplit(url)
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in _OUR_PARAMS:
            ours[name] = value
        else:
            theirs.append((name, value))
    schema = ours.get("schema", DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.match(schema):
        raise ConfigurationError(
            f"store URL {shown}: schema {schema!r} is not a plain identifier; use letters, "
            "digits and '_' (at most 63, not starting with a digit)",
            path=shown,
        )
    sizes = []
    for name, default in (("pool_min_size", DEFAULT_POOL_MIN), ("pool_max_size", DEFAULT_POOL_MAX)):
        text = ours.get(name, str(default))
        if not text.isdigit() or int(text) < (0 if name == "pool_min_size" else 1):
            raise ConfigurationError(
                f"store URL {shown}: {name}={text!r} must be a whole number"
                + (" of at least 1" if name == "pool_max_size" else ""),
                path=shown,
            )
        sizes.append(int(text))
    pool_min, pool_max = sizes[0], max(sizes)
    timeout = _timeout(ours.get("timeout"), shown)
    if not any(name == "application_name" for name, _ in theirs):
        theirs.append(("application_name", "memory-lifecycle"))  # visible in pg_stat_activity
    # quote, not quote_plus: libpq reads "+" as a plus, so a space must travel as %20
    conninfo = urlunsplit(parts._replace(query=urlencode(theirs, quote_via=quote)))
    return conninfo, schema, pool_min, pool_max, timeout


def _timeout(text: str | None, shown: str) -> float:
    """The ``timeout`` parameter: seconds, a positive finite number."""
    if text is None:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise ConfigurationError(
            f"store URL {shown}: timeout={text[:20]!r} must be a number of seconds above 0 "
            f"(default {DEFAULT_TIMEOUT_SECONDS:g})",
            path=shown,
        )
    return value
