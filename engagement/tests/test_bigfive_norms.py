"""Johnson's norm table, the norm groups and the percentile rule."""

import math

import pytest

from engagement.bigfive import norms

# Values copied from Johnson's shortipipneo3.cgi @norm arrays (domain means N E O A C, then SDs).
SOURCE_DOMAINS = {
    "M_under_21": ((67.84, 80.70, 85.98, 81.98, 79.66), (15.83, 15.37, 12.37, 14.66, 14.49)),
    "M_21_40": ((66.97, 78.90, 86.51, 84.22, 85.50), (16.48, 15.21, 12.65, 13.10, 14.27)),
    "M_41_60": ((64.11, 77.06, 83.04, 88.33, 91.27), (16.04, 14.31, 13.05, 11.76, 13.35)),
    "M_over_60": ((58.42, 79.73, 79.78, 90.20, 95.31), (15.48, 13.63, 12.21, 11.73, 11.99)),
    "F_under_21": ((73.41, 84.26, 89.01, 89.14, 81.27), (15.61, 14.98, 11.84, 13.21, 14.38)),
    "F_21_40": ((72.14, 80.78, 88.25, 91.91, 87.57), (16.16, 14.64, 12.15, 11.39, 13.87)),
    "F_41_60": ((67.38, 78.62, 86.15, 95.73, 93.45), (16.10, 14.19, 12.62, 9.84, 12.94)),
    "F_over_60": ((63.48, 78.22, 81.56, 97.17, 96.44), (14.92, 12.73, 12.66, 9.52, 12.43)),
}
# A few facet (mean, sd) pairs from the same arrays.
SOURCE_FACETS = {
    ("M_under_21", "N1"): (11.72, 3.76),
    ("M_under_21", "C6"): (12.08, 4.02),
    ("M_21_40", "E3"): (14.58, 3.58),
    ("M_41_60", "O6"): (11.04, 3.93),
    ("M_over_60", "A2"): (17.74, 2.39),
    ("F_under_21", "O1"): (16.86, 2.89),
    ("F_21_40", "A2"): (17.34, 2.61),
    ("F_41_60", "C1"): (16.50, 2.16),
    ("F_over_60", "N6"): (9.87, 3.44),
    ("F_over_60", "C6"): (15.11, 3.66),
}


@pytest.mark.parametrize("group_id", sorted(SOURCE_DOMAINS))
def test_domain_norms_match_the_source(group_id):
    group = norms.NORM_GROUPS[group_id]
    means, sds = SOURCE_DOMAINS[group_id]
    assert not group.derived
    for i, domain in enumerate("NEOAC"):
        assert group.domains[domain] == (means[i], sds[i])


@pytest.mark.parametrize(("group_id", "facet"), sorted(SOURCE_FACETS))
def test_facet_norms_match_the_source(group_id, facet):
    assert norms.NORM_GROUPS[group_id].facets[facet] == SOURCE_FACETS[(group_id, facet)]


@pytest.mark.parametrize("group_id", sorted(SOURCE_DOMAINS))
def test_facet_means_add_up_to_the_domain_mean(group_id):
    """A transcription check: a domain sums its six facets, so their means must (nearly) add up."""
    group = norms.NORM_GROUPS[group_id]
    for domain in "NEOAC":
        total = sum(group.facets[f"{domain}{i}"][0] for i in range(1, 7))
        assert abs(total - group.domains[domain][0]) < 0.75, (group_id, domain, total)
        assert all(1.5 < group.facets[f"{domain}{i}"][1] < 5 for i in range(1, 7))


def test_combined_group_is_the_equal_weight_mixture():
    # Sex unknown, age 30: men and women aged 21-40. N: means 66.97 / 72.14, SDs 16.48 / 16.16.
    group = norms.norm_group_for(sex=None, age=30)
    assert group.id == "all_21_40" and group.derived
    mean = (66.97 + 72.14) / 2  # 69.555
    sd = math.sqrt((16.48**2 + 16.16**2) / 2 + ((72.14 - 66.97) / 2) ** 2)  # sqrt(266.368 + 6.682) = 16.5242
    assert group.domains["N"] == (round(mean, 4), round(sd, 4)) == (69.555, 16.5242)


@pytest.mark.parametrize(
    ("sex", "age", "expected"),
    [
        ("M", 13, "M_under_21"),
        ("M", 20, "M_under_21"),
        ("M", 21, "M_21_40"),
        ("F", 40, "F_21_40"),
        ("F", 41, "F_41_60"),
        ("F", 60, "F_41_60"),
        ("M", 61, "M_over_60"),
        ("F", 120, "F_over_60"),
        (None, 45, "all_41_60"),
        ("", 70, "all_over_60"),
        ("F", None, "F_all"),
        (None, None, "all_all"),
    ],
)
def test_norm_group_selection(sex, age, expected):
    assert norms.norm_group_for(sex=sex, age=age).id == expected


@pytest.mark.parametrize(
    ("t", "expected"),
    [(10, 1), (31.99, 1), (32, 1), (45, 32), (50, 49), (55, 67), (60, 82), (73, 98), (73.01, 99), (90, 99)],
)
def test_percentile_uses_johnsons_cubic_with_pins(t, expected):
    # int() truncates like Johnson's Perl: the cubic gives 49.99999… at T 50.
    assert norms.percentile(t) == expected


@pytest.mark.parametrize(("t", "expected"), [(44.99, "low"), (45, "average"), (55, "average"), (55.01, "high")])
def test_levels(t, expected):
    assert norms.level(t) == expected
