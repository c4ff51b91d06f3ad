"""Assignment is GrowthBook's: the public SDK test vectors for hash, bucket ranges and variation choice."""

import json
from pathlib import Path

import pytest

from experiments import hashing

CASES = json.loads((Path(__file__).parent / "data" / "growthbook_cases.json").read_text())


@pytest.mark.parametrize(("seed", "value", "version", "expected"), CASES["hash"])
def test_hash_vectors(seed, value, version, expected):
    assert hashing.gb_hash(seed, value, version) == expected


@pytest.mark.parametrize(
    ("name", "args", "expected"), CASES["getBucketRange"], ids=[c[0] for c in CASES["getBucketRange"]]
)
def test_bucket_range_vectors(name, args, expected):
    n, coverage, weights = args
    got = hashing.bucket_ranges(n, coverage, weights)
    assert [[round(a, 6), round(b, 6)] for a, b in got] == expected


@pytest.mark.parametrize(
    ("name", "n", "ranges", "expected"), CASES["chooseVariation"], ids=[c[0] for c in CASES["chooseVariation"]]
)
def test_choose_variation_vectors(name, n, ranges, expected):
    assert hashing.choose_variation(n, ranges) == expected


def test_assignment_split_follows_weights_over_many_ids():
    ranges = hashing.bucket_ranges(2, 1, [0.2, 0.8])
    picks = [hashing.choose_variation(hashing.gb_hash("split", f"user-{i}"), ranges) for i in range(20000)]
    share = picks.count(0) / len(picks)
    assert 0.19 < share < 0.21
    assert -1 not in picks
