"""JSON values, their size limit, and the gzip codec of stored rows.

Every stored row names its codec, so rows written today still decode after
the format grows. Values are checked to be plain JSON before anything is
written: a value that would not round-trip (NaN, a set, an int dict key) is
rejected rather than silently changed.
"""

from __future__ import annotations

import json
import json.scanner as json_scanner
import math
from collections.abc import Callable, Sequence
from itertools import chain, repeat

from lifecycle.errors import InvalidValueError, ValueTooLargeError

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
CODEC_JSON = "json"
CODEC_GZIP = "json+gzip"
CODECS = (CODEC_JSON, CODEC_GZIP)

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=True
)


def _make_dumps() -> Callable[[Any], str]:
    """``_ENCODER.encode`` without its per-call cost: ``JSONEncoder.encode`` builds a new C
    encoder on every call (about half the time of a small value). The one built here
    skips the circular-reference check, which never fires for a value ``check_json``
    passed (a circular value exhausts the recursion limit there first, and here too:
    ``RecursionError``, never a silent result). Python without the C accelerator keeps
    the plain encoder."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return _ENCODER.encode
    encoder = make(
        None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    quote = json.encoder.encode_basestring
    join = "".join

    def dumps(value: Any) -> str:
        if isinstance(value, str):
            return quote(value)
        return join(encoder(value, 0))

    dumps.encoder = encoder  # type: ignore[attr-defined]  # (``serialize_many``'s)
    return dumps


_dumps = _make_dumps()
_chunks = getattr(_dumps, "encoder", None)  # value -> its JSON text in chunks (C), or None
quote = json.encoder.encode_basestring  # ``dumps`` of a str, without the type test


_SCALARS = frozenset({str, int, bool, type(None)})
_finite = math.isfinite


def check_json(value: Any, key: str | None = None, _path: str = "value") -> None:
    """Raise ``InvalidValueError`` unless ``value`` is JSON that round-trips unchanged."""
    if _plain(value):
        return
    _check(value, key, _path)


def _plain(value: Any) -> bool:
    """Whether ``value`` is plainly JSON, checked fast (every write passes here): exact
    built-in types, one level of recursion per container rather than one call per
    member. False sends it to ``_check``, which finds and names the problem (or
    accepts what only the slower rules allow: subclasses of the built-in types)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return _finite(value)
    if kind is dict:
        for name, item in value.items():
            if type(name) is not str:
                return False
            member = type(item)
            if member in _SCALARS or (member is float and _finite(item)):
                continue
            if not _plain(item):
                return False
        return True
    if kind is list:
        for item in value:
            member = type(item)
            if member in _SCALARS or (member is float and _finite(item)):
                continue
            if not _plain(item):
                return False
        return True
    return False


_FLAT = _SCALARS | {dict}
_NAMES = {str}


def _all_plain(values: Sequence[Any]) -> bool:
    """``_plain`` of every value of a batch; a batch of scalars and flat objects (members
    that are strings, integers, booleans or null: a bulk load's usual values) checked
    by the types of its members, collected by C loops, without a call per value."""
    kinds = set(map(type, values))
    if kinds <= _SCALARS:
        return True
    if kinds <= _FLAT and _SCALARS.issuperset(map(type, _first_object(values).values())):
        objects = values if len(kinds) == 1 else [v for v in values if type(v) is dict]
        if _NAMES.issuperset(map(type, chain.from_iterable(objects))) and _SCALARS.issuperset(
            map(type, chain.from_iterable(map(dict.values, objects)))
        ):
            return True
    return all(map(_plain, values))


def _first_object(values: Sequence[Any]) -> dict[str, Any]:
    """The first dict of ``values`` (one there is): whether it is flat tells whether the
    batch's are worth checking as flat objects."""
    return next(v for v in values if type(v) is dict)


def _check(value: Any, key: str | None, _path: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(
                f"invalid value for key '{key}': {_path} is {value!r}, which JSON cannot "
                "represent; store a finite number or null",
                key=key,
            )
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, key, f"{_path}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise InvalidValueError(
                    f"invalid value for key '{key}': {_path} has a non-string key {k!r}; "
                    "JSON object keys must be strings",
                    key=key,
                )
            check_json(item, key, f"{_path}[{k!r}]")
        return
    raise InvalidValueError(
        f"invalid value for key '{key}': {_path} is a {type(value).__name__}, which is "
        "not JSON; store a dict, list, str, number, bool or null",
        key=key,
    )


def dumps(value: Any) -> str:
    """Serialize a checked value compactly (the form whose size is measured)."""
    return _dumps(value)


def serialize_value(
    value: Any, key: str | None = None, max_bytes: int = DEFAULT_MAX_VALUE_BYTES
) -> bytes:
    """Check and serialize one value, enforcing the size limit."""
    if not _plain(value):  # (``check_json``, one call fewer: every write passes here)
        _check(value, key, "value")
    try:
        data = _dumps(value).encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidValueError(f"invalid value for key '{key}': {exc}", key=key) from exc
    if len(data) > max_bytes:
        raise ValueTooLargeError(
            f"value for key '{key}' is {len(data)} bytes serialized, over the limit of "
            f"{max_bytes} bytes; store a smaller value or split it across keys",
            key=key,
        )
    return data


def serialize_many(
    values: Sequence[Any], max_bytes: int = DEFAULT_MAX_VALUE_BYTES
) -> list[bytes] | None:
    """``serialize_value`` of each value of a batch, when every one is plain JSON within
    the limit: the encoding done by C loops over the batch (``map``) rather than a few
    Python calls per value. None when any value is not plainly JSON or fails or is too
    large: the caller then serializes value by value, which raises the error it would
    have raised, for the first bad value in order."""
    if _chunks is None or not _all_plain(values):  # pragma: no branch
        return None
    try:
        out = list(map(str.encode, map("".join, map(_chunks, values, repeat(0)))))
    except (ValueError, TypeError, RecursionError):
        return None
    if out and max(map(len, out)) > max_bytes:
        return None
    return out


def encode(document: Any, *, compress: bool, threshold_bytes: int) -> tuple[str, bytes, int]:
    """Encode a stored document: ``(codec, payload, uncompressed size)``."""
    return encode_bytes(
        _dumps(document).encode("utf-8"), compress=compress, threshold_bytes=threshold_bytes
    )


def encode_bytes(raw: bytes, *, compress: bool, threshold_bytes: int) -> tuple[str, bytes, int]:
    """gzip ``raw`` only when compression is on, it is over the threshold, and the result
    is actually smaller."""
    if compress and len(raw) > threshold_bytes:
        import gzip  # here, not at the top: most processes never compress (hooks: ~0.5 ms)

        packed = gzip.compress(raw, compresslevel=6, mtime=0)
        if len(packed) < len(raw):
            return CODEC_GZIP, packed, len(raw)
    return CODEC_JSON, raw, len(raw)


def _make_loads() -> Callable[[bytes], Any]:
    """``json.loads`` for the documents this engine writes, without its per-call cost
    (every read and write decodes one): ``json.loads`` of bytes first guesses their
    encoding, then strips whitespace with two regular expressions around the C scanner.
    A document written here is compact UTF-8 starting with ``{``, so the scanner alone
    reads it; anything else (or anything the scanner rejects) goes to ``json.loads``,
    which decodes it or raises its usual error."""
    scanner = getattr(json_scanner, "c_make_scanner", None)
    if scanner is None:  # pragma: no cover - CPython always has it
        return json.loads
    scan = scanner(json.JSONDecoder())

    def loads(payload: bytes) -> Any:
        if payload[:1] == b"{":
            try:
                text = payload.decode("utf-8", "surrogatepass")
                value, end = scan(text, 0)
            except (StopIteration, ValueError):
                pass
            else:
                if end == len(text):
                    return value
        return json.loads(payload)

    return loads


_loads = _make_loads()


def decode(codec: str, payload: bytes) -> Any:
    """Decode a stored document by the codec its row names."""
    if codec == CODEC_JSON:
        return _loads(payload)
    if codec == CODEC_GZIP:
        import gzip

        return json.loads(gzip.decompress(payload))
    raise InvalidValueError(f"stored row uses unknown codec {codec!r}; upgrade memory-lifecycle")


class MemoryCompressor:
    """The seed's compression utility, kept for callers that use it directly."""

    def compress(self, value: Any, threshold_bytes: int = 1024) -> tuple[Any, bool]:
        """Return ``(gzip bytes, True)`` when that is smaller, else ``(value, False)``."""
        raw = serialize_value(value)
        if len(raw) <= threshold_bytes:
            return value, False
        import gzip

        packed = gzip.compress(raw, mtime=0)
        if len(packed) >= len(raw):
            return value, False
        return packed, True

    def decompress(self, value: Any, compressed: bool) -> Any:
        """Undo ``compress``: ``value`` is returned as is when ``compressed`` is false."""
        if not compressed:
            return value
        import gzip

        return json.loads(gzip.decompress(value))
