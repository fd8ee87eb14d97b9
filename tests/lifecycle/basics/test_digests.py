"""The digests every stored hash and the policy cache are made of: what hashlib computes."""

from __future__ import annotations

import hashlib

import pytest

from lifecycle.basics.digests import sha1_hex, sha1_hex_many, sha256_hex


@pytest.mark.parametrize("data", [b"", b"abc", "é€𝄞".encode() * 1000, bytes(range(256))])
def test_the_digests_are_hashlibs(data: bytes) -> None:
    assert sha1_hex(data) == hashlib.sha1(data).hexdigest()
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_a_batch_of_digests_is_hashlibs() -> None:
    """``sha1_hex_many``: each value's SHA-1, cut to ``length``."""
    datas = [b"", b"abc", "é€𝄞".encode() * 100, bytes(range(256))]
    expected = [hashlib.sha1(d).hexdigest() for d in datas]
    assert sha1_hex_many(datas) == expected
    assert sha1_hex_many(datas, 16) == [h[:16] for h in expected]
