"""SHA-1 and SHA-256 hex digests, from CPython's built-in hash modules when it has them.

Every hook process hashes the policy file (to find its validated policies in the store's
cache), and ``import hashlib`` loads OpenSSL's bindings: ~2 ms, 11 M instructions, 5% of a
hook. CPython's own SHA modules (``_sha1``; ``_sha256``, ``_sha2`` from 3.12) compute the
same digests and load in ~0.1 ms; without them ``hashlib`` is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter, methodcaller

TYPE_CHECKING = False  # typing's flag without importing typing
if TYPE_CHECKING:
    from typing import Any


def _builtin(names: tuple[str, ...], function: str) -> Callable[[bytes], Any]:
    for name in names:
        try:
            return getattr(__import__(name), function)  # (importlib costs a hook ~2M)
        except (ImportError, AttributeError):
            continue
    import hashlib

    return getattr(hashlib, function)


_sha1 = _builtin(("_sha1",), "sha1")
_sha256 = _builtin(("_sha2", "_sha256"), "sha256")


def sha1_hex(data: bytes) -> str:
    return str(_sha1(data).hexdigest())


def sha1_hex_many(datas: Sequence[bytes], length: int = 40) -> list[str]:
    """``sha1_hex(data)[:length]`` of each of ``datas``, by C loops (``map``): a batch's
    content hashes without two Python calls per value."""
    return list(map(itemgetter(slice(length)), map(_hexdigest, map(_sha1, datas))))


_hexdigest = methodcaller("hexdigest")


def sha256_hex(data: bytes) -> str:
    return str(_sha256(data).hexdigest())
