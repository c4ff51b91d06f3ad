"""The report's content: levels consistent with the shaded bands, facet meanings, a summary sorted by what
stands out, and retests judged by the reliable change index."""

import math

import pytest

from engagement.bigfive import norms, reliability, report, scoring
from engagement.bigfive.descriptions import DOMAIN_DESCRIPTIONS, FACET_DESCRIPTIONS
from engagement.bigfive.inventory import DOMAINS, FACET_CODES, ITEMS
from engagement.tests.helpers import answers, random_answers


def test_every_domain_and_facet_has_a_description_with_both_ends():
    assert set(DOMAIN_DESCRIPTIONS) == set(DOMAINS)
    assert set(FACET_DESCRIPTIONS) == set(FACET_CODES)
    for description in [*DOMAIN_DESCRIPTIONS.values(), *FACET_DESCRIPTIONS.values()]:
        assert description.about and description.low and description.high
        assert description.low != description.high


@pytest.mark.parametrize("t", [x / 100 for x in range(2500, 7800, 7)])
def test_a_bar_never_contradicts_its_level(t):
    """Every low score ends inside the shaded low band, every high one inside the high band, and an average
    one between them (the issue: percentile 31 labelled low with its bar past the "lowest 30 %" band)."""
    level, position = norms.level(t), norms.position(t)
    if level == "low":
        assert position < norms.LOW_BAND_END
    elif level == "high":
        assert position > norms.HIGH_BAND_START
    else:
        assert norms.LOW_BAND_END <= position <= norms.HIGH_BAND_START


def test_bands_are_where_the_levels_change():
    assert pytest.approx(norms.position(norms.LEVEL_LOW_BELOW)) == norms.LOW_BAND_END
    assert round(norms.LOW_BAND_END, 1) == 32.5 and round(norms.HIGH_BAND_START, 1) == 67.5
    assert report.BANDS == {"low_end": 32.5, "high_start": 67.5, "high_width": 32.5}


def test_percentile_31_is_low_and_its_bar_inside_the_low_band():
    t = next(x / 100 for x in range(4000, 4500) if norms.percentile(x / 100) == 31)
    assert norms.level(t) == "low" and norms.position(t) < report.BANDS["low_end"]


def test_summary_sorts_domains_by_what_stands_out_and_names_the_most_distinctive_facets():
    scores = scoring.score(answers=random_answers(7), sex="F", age=30)
    data = report.report(scores=scores)
    distances = [d["distance"] for d in data["summary"]]
    assert distances == sorted(distances, reverse=True)
    assert {d["code"] for d in data["summary"]} == set(DOMAINS)
    facets = data["summary_facets"]
    assert len(facets) <= report.SUMMARY_FACETS and all(f["level"] != "average" for f in facets)
    for d in data["domains"]:
        assert d["meaning"] == {"low": d["low_text"], "high": d["high_text"]}.get(d["level"], d["meaning"])
        assert len(d["facets"]) == 6 and all(f["about"] for f in d["facets"])


def test_domain_reliabilities_follow_from_the_published_facet_alphas_and_norms():
    values = {d: reliability.domain_reliability(d) for d in DOMAINS}
    assert values == pytest.approx({"N": 0.908, "E": 0.887, "O": 0.846, "A": 0.840, "C": 0.868}, abs=0.001)
    # Mosier's composite: 1 − Σ SD_f²(1 − α_f) / SD_domain², by hand for Neuroticism of the combined norm.
    group = norms.NORM_GROUPS["all_all"]
    error = sum(group.facets[f"N{i}"][1] ** 2 * (1 - reliability.FACET_ALPHA[f"N{i}"]) for i in range(1, 7))
    assert values["N"] == pytest.approx(1 - error / group.domains["N"][1] ** 2)


def test_facet_alphas_say_which_are_published_and_stand_ins_are_the_most_cautious_value():
    published = {c: a for c, a in reliability.FACET_ALPHA.items() if reliability.FACET_ALPHA_SOURCE[c] == "published"}
    assert published["N1"] == 0.71 and published["E2"] == 0.60 and published["O3"] == 0.67
    assert len(published) == 15
    assert min(published.values()) == reliability.STAND_IN_ALPHA
    for code, source in reliability.FACET_ALPHA_SOURCE.items():
        if source == "stand-in":
            assert reliability.FACET_ALPHA[code] == reliability.STAND_IN_ALPHA


def test_reliable_change_index_of_jacobson_and_truax():
    change = reliability.reliable_change(earlier=70, later=80, sd=16.0, reliability=0.9)
    s_diff = math.sqrt(2) * 16.0 * math.sqrt(0.1)
    assert change.rci == round(10 / s_diff, 2) and change.threshold == pytest.approx(1.96 * s_diff)
    assert not change.reliable and change.direction == ""  # 10 raw points < 14.0
    bigger = reliability.reliable_change(earlier=70, later=55, sd=16.0, reliability=0.9)
    assert bigger.reliable and bigger.direction == "lower"


def test_a_retest_with_nearly_the_same_answers_is_within_measurement_error():
    first = answers(3)
    second = dict(first)
    for item in ITEMS[:12]:  # a dozen statements answered one step differently
        second[item.id] = 4
    changes = reliability.domain_changes(
        earlier=scoring.score(answers=first, sex="M", age=40), later=scoring.score(answers=second, sex="M", age=40)
    )
    assert not any(c.reliable for c in changes.values())


def keyed(value: int) -> dict[str, int]:
    """Answers whose keyed score is ``value`` on every statement (a domain's raw score is 24 × value)."""
    return {item.id: value if item.keyed == "+" else 6 - value for item in ITEMS}


def test_a_large_change_is_reported_as_changed_with_its_direction():
    earlier = scoring.score(answers=keyed(2), sex="M", age=40)
    later = scoring.score(answers=keyed(4), sex="M", age=40)
    data = report.report(scores=later, previous=earlier)
    assert data["has_previous"] and len(data["reliable_changes"]) == 5
    for d in data["domains"]:
        assert d["reliable"] and d["direction"] == "higher" and d["change"] > 0
    back = report.report(scores=earlier, previous=later)
    assert all(d["direction"] == "lower" for d in back["domains"])


def test_comparison_notes_say_similar_within_error_and_who_is_higher_beyond_it():
    low = scoring.score(answers=answers(1), sex="F", age=30)
    high = scoring.score(answers=answers(5), sex="F", age=30)
    rows = report.comparison(first=high, second=high, first_name="You", second_name="Sam")
    assert all(row["similar"] for row in rows)
    rows = report.comparison(first=low, second=high, first_name="You", second_name="Sam")
    assert [row["code"] for row in rows] == ["O", "C", "E", "A", "N"]
    for row in rows:
        assert [p["name"] for p in row["people"]] == ["You", "Sam"]
        if not row["similar"]:
            assert "Sam" in row["note"] and "You" in row["note"]
