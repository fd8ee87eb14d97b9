"""The pieces under search by meaning that need no model: int8 vectors, the exact scan, and
the embedded text whose hash says when a vector is stale."""

from __future__ import annotations

import pytest

from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.search.semantic.document import MAX_CHARS, embedding_text, text_hash

np = pytest.importorskip("numpy", reason="the semantic extra is not installed")
pytest.importorskip("onnxruntime", reason="the semantic extra is not installed")

from lifecycle.search.semantic.quantize import quantize, to_bytes  # noqa: E402
from lifecycle.search.semantic.scan import dot_int8  # noqa: E402


def normalized(n: int, dims: int = 384, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dims)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_int8_vectors_keep_cosine_similarity_within_half_a_percent() -> None:
    docs, queries = normalized(500), normalized(20, seed=1)
    exact = queries @ docs.T
    d8, ds = quantize(docs)
    q8, qs = quantize(queries)
    approx = np.stack([dot_int8(d8, q) * ds * s for q, s in zip(q8, qs, strict=True)])
    assert np.abs(approx - exact).max() < 0.005
    assert d8.dtype == np.int8 and len(to_bytes(d8[0])) == 384


def test_the_scan_is_the_exact_int8_product_at_any_size() -> None:
    rng = np.random.default_rng(2)
    for n in (0, 1, 7, 3000):
        matrix = rng.integers(-127, 128, (n, 384), dtype=np.int8)
        query = rng.integers(-127, 128, 384, dtype=np.int8)
        expected = matrix.astype(np.int32) @ query.astype(np.int32)
        assert np.array_equal(dot_int8(matrix, query), expected)


def test_the_embedded_text_is_key_strings_and_tags_and_its_hash_follows_only_them(
    make_manager: object, clock: ManualClock
) -> None:
    m: MemoryLifecycleManager = make_manager()  # type: ignore[operator]
    m.store("notes/auth", {"decision": "use JWT", "votes": 3}, tags=["adr"])
    row = m.backend.get("notes/auth")
    assert row is not None
    text = embedding_text(row)
    assert text == "notes / auth\ndecision: use JWT\ntags: adr"
    m.store("notes/auth", {"decision": "use JWT", "votes": 4}, tags=["adr"])  # a number only
    again = m.backend.get("notes/auth")
    assert again is not None and again.revision > row.revision
    assert text_hash(embedding_text(again)) == text_hash(text)
    m.store("notes/auth", {"decision": "use sessions", "votes": 4}, tags=["adr"])
    changed = m.backend.get("notes/auth")
    assert changed is not None and text_hash(embedding_text(changed)) != text_hash(text)


def test_a_huge_value_is_cut_before_it_is_embedded(make_manager: object) -> None:
    m: MemoryLifecycleManager = make_manager()  # type: ignore[operator]
    m.store("notes/big", ["word " * 100] * 200)
    row = m.backend.get("notes/big")
    assert row is not None and len(embedding_text(row)) == MAX_CHARS
