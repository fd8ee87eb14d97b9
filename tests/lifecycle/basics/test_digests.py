"""The digests every stored hash and the policy cache are made of: what hashlib computes."""

from __future__ import annotations

import hashlib

import pytest

from lifecycle.basics.digests import sha1_hex, sha256_hex


@pytest.mark.parametrize("data", [b"", b"abc", "é€𝄞".encode() * 1000, bytes(range(256))])
def test_the_digests_are_hashlibs(data: bytes) -> None:
    assert sha1_hex(data) == hashlib.sha1(data).hexdigest()
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_a_batch_of_digests_is_hashlibs_before_and_after_the_switch_to_openssl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``sha1_hex_many`` hashes with the built-in module, then (past ``OPENSSL_AFTER``
    values) with OpenSSL's: the same digests either way, cut to ``length``."""
    from lifecycle.basics import digests

    monkeypatch.setattr(digests, "_hashed", 0)
    monkeypatch.setattr(digests, "_batch_sha1", None)
    monkeypatch.setattr(digests, "OPENSSL_AFTER", 3)
    datas = [b"", b"abc", "é€𝄞".encode() * 100, bytes(range(256))]
    expected = [hashlib.sha1(d).hexdigest() for d in datas]
    assert digests.sha1_hex_many(datas) == expected  # built-in (4 hashed)
    assert digests._batch_sha1 is None
    assert digests.sha1_hex_many(datas, 16) == [h[:16] for h in expected]  # switches
    assert digests._batch_sha1 is not None
    assert digests.sha1_hex_many(datas) == expected
