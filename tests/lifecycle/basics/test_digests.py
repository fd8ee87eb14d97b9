"""The digests every stored hash and the policy cache are made of: what hashlib computes."""

from __future__ import annotations

import hashlib

import pytest

from lifecycle.basics.digests import sha1_hex, sha256_hex


@pytest.mark.parametrize("data", [b"", b"abc", "é€𝄞".encode() * 1000, bytes(range(256))])
def test_the_digests_are_hashlibs(data: bytes) -> None:
    assert sha1_hex(data) == hashlib.sha1(data).hexdigest()
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
