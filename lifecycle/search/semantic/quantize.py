"""Vectors as stored: int8 components with one float scale per vector.

A normalized float vector ``v`` is kept as ``round(v / max|v| * 127)`` (int8)
and ``scale = max|v| / 127``, so ``v ≈ scale * q``: 384 bytes plus the scale
for a 384-dimension model, a quarter of float32, and cosine similarities come
out within about 0.005 of the float ones (``tests/lifecycle/semantic``). The
query is quantized the same way, so a similarity is one int8 dot product times
two scales (``scan``).
"""

from __future__ import annotations

import numpy as np

LEVELS = 127


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and their float32 scales, for float rows (zero rows get scale 0)."""
    peak = np.abs(vectors).max(axis=1).astype(np.float32)
    scales = peak / LEVELS
    safe = np.where(peak > 0, peak, 1.0).astype(np.float32)
    ints = np.rint(vectors / safe[:, None] * LEVELS).clip(-LEVELS, LEVELS).astype(np.int8)
    return ints, scales


def to_bytes(row: np.ndarray) -> bytes:
    return row.astype(np.int8).tobytes()
