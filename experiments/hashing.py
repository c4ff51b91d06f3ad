"""Deterministic assignment, bit for bit the GrowthBook SDKs' algorithm.

A GrowthBook SDK (browser, mobile app) given the same experiment key/seed, weights and
coverage puts a participant in the same variant as the server:

* ``gb_hash``: FNV-1a 32-bit; hash version 2 hashes ``seed + value``, then hashes the
  decimal string of that result, and maps it to ``[0, 1)`` with ``% 10000 / 10000``
  (version 1, ``value + seed`` hashed once, ``% 1000 / 1000``, is kept for the vectors);
* ``bucket_ranges``: one ``[start, start + coverage * weight)`` range per variant;
* ``choose_variation``: the index of the range holding the hash, or -1 (not in the test).
"""

from __future__ import annotations

from collections.abc import Sequence

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a32(text: str) -> int:
    """FNV-1a over the UTF-16 code units of ``text``, as JavaScript's ``charCodeAt`` sees them."""
    h = _FNV_OFFSET
    data = text.encode("utf-16-le")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
    return h


def gb_hash(seed: str, value: str, version: int = 2) -> float | None:
    """GrowthBook's hash of ``value`` with ``seed``; ``None`` for an unknown version."""
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def equal_weights(n: int) -> list[float]:
    return [] if n <= 0 else [1 / n] * n


def bucket_ranges(n: int, coverage: float = 1, weights: Sequence[float] | None = None) -> list[tuple[float, float]]:
    """Bucket range per variant; bad weights fall back to equal weights, as in the SDKs."""
    coverage = min(max(float(coverage), 0.0), 1.0)
    ws = [float(w) for w in weights] if weights else equal_weights(n)
    if len(ws) != n or not 0.99 <= sum(ws) <= 1.01:
        ws = equal_weights(n)
    ranges = []
    cumulative = 0.0
    for w in ws:
        start = cumulative
        cumulative += w
        ranges.append((start, start + coverage * w))
    return ranges


def choose_variation(n: float, ranges: Sequence[Sequence[float]]) -> int:
    for i, (start, end) in enumerate(ranges):
        if start <= n < end:
            return i
    return -1
