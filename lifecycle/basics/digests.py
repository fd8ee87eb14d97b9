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
    content hashes without two Python calls per value.

    A process that hashes many values this way (a bulk load) switches to OpenSSL's
    SHA-1 (``_hashlib``), the same digests at ~0.5 µs a small value against the
    built-in module's ~1.3 µs (on this machine, which has the SHA instructions), once it
    has hashed ``OPENSSL_AFTER`` values: loading OpenSSL costs ~2-7 ms, about what the
    built-in module takes for that many values, so a process never pays more than about
    twice what the better choice in hindsight would have cost (a one-off batch, a hook,
    never loads it)."""
    global _hashed, _batch_sha1
    sha1 = _batch_sha1
    if sha1 is None:
        if _hashed >= OPENSSL_AFTER:
            sha1 = _batch_sha1 = _openssl_sha1()
        else:
            _hashed += len(datas)
            sha1 = _sha1
    return list(map(itemgetter(slice(length)), map(_hexdigest, map(sha1, datas))))


OPENSSL_AFTER = 4096  # values hashed by ``sha1_hex_many`` before it loads OpenSSL's SHA-1
_hashed = 0
_batch_sha1: Callable[[bytes], Any] | None = None
_hexdigest = methodcaller("hexdigest")


def _openssl_sha1() -> Callable[[bytes], Any]:
    """OpenSSL's SHA-1 when it loads and gives SHA-1's digests (not in a build without
    OpenSSL, or one whose policy refuses SHA-1); else the built-in one."""
    try:
        import _hashlib

        sha1: Callable[[bytes], Any] = _hashlib.openssl_sha1
        if sha1(b"abc").hexdigest() == _sha1(b"abc").hexdigest():
            return sha1
    except Exception:  # (any failure: keep the built-in module)
        pass
    return _sha1


def sha256_hex(data: bytes) -> str:
    return str(_sha256(data).hexdigest())
