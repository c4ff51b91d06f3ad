"""Scoring against hand-computed cases: every norm group, both key directions."""

import pytest

from engagement.bigfive import scoring
from engagement.bigfive.inventory import ITEMS
from engagement.tests.helpers import answers

# All answers 3: every item scores 3 whatever its key -> facets 12, domains 72.
# All answers 5: plus-keyed items score 5, minus-keyed ones 1 (6 - 5):
#   N = N1 20 (1+,31+,61+,91+) + N2 16 + N3 16 + N4 16 + N5 8 (21+,51-,81-,111-) + N6 16 = 92
#   E = 12 + 12 + 16 + 16 + 20 + 20 = 96;  A2 Morality (9-,39-,69-,99-) = 4;  O6 Liberalism (28+,58+,88-,118-) = 12
#
# T = 50 + 10 (raw - mean) / sd, percentile = int(cubic(T)); e.g. men under 21, all 3s, N:
#   50 + 10 (72 - 67.84) / 15.83 = 52.63 -> int(59.9…) = 59.
CASES = {
    # group: (sex, age, T(N) all 3s, pct, T(N) all 5s, pct, T(E) all 5s, pct)
    "M_under_21": ("M", 18, 52.63, 59, 65.26, 94, 59.95, 82),
    "M_21_40": ("M", 30, 53.05, 60, 65.19, 94, 61.24, 86),
    "M_41_60": ("M", 50, 54.92, 67, 67.39, 97, 63.24, 90),
    "M_over_60": ("M", 70, 58.77, 79, 71.69, 99, 61.94, 87),
    "F_under_21": ("F", 16, 49.1, 46, 61.91, 87, 57.84, 76),
    "F_21_40": ("F", 21, 49.91, 49, 62.29, 88, 60.4, 83),
    "F_41_60": ("F", 60, 52.87, 60, 65.29, 94, 62.25, 88),
    "F_over_60": ("F", 61, 55.71, 69, 69.12, 99, 63.97, 92),
}


@pytest.mark.parametrize("group_id", sorted(CASES))
def test_hand_computed_cases_for_each_norm_group(group_id):
    sex, age, t3, p3, t5, p5, te5, pe5 = CASES[group_id]
    neutral = scoring.score(answers=answers(3), sex=sex, age=age)
    assert neutral["norm_group"]["id"] == group_id
    assert neutral["raw_scores"] == dict.fromkeys("NEOAC", 72)
    assert set(neutral["facets"]["raw_scores"].values()) == {12}
    assert neutral["t_scores"]["N"] == pytest.approx(t3, abs=0.01)
    assert neutral["percentiles"]["N"] == p3

    agree = scoring.score(answers=answers(5), sex=sex, age=age)
    assert agree["raw_scores"]["N"] == 92 and agree["raw_scores"]["E"] == 96
    assert agree["t_scores"]["N"] == pytest.approx(t5, abs=0.01)
    assert agree["percentiles"]["N"] == p5
    assert agree["t_scores"]["E"] == pytest.approx(te5, abs=0.01)
    assert agree["percentiles"]["E"] == pe5


def test_both_key_directions_at_facet_level():
    result = scoring.score(answers=answers(5), sex="F", age=30)
    facets = result["facets"]
    assert facets["raw_scores"]["N1"] == 20  # four plus-keyed items
    assert facets["raw_scores"]["A2"] == 4  # four minus-keyed items, reversed to 1
    assert facets["raw_scores"]["O6"] == 12  # two of each
    # A2 Morality, women 21-40: mean 17.34, sd 2.61 -> T = 50 + 10 (4 - 17.34) / 2.61 = -1.11 -> 1, low.
    assert facets["t_scores"]["A2"] == pytest.approx(-1.11, abs=0.01)
    assert (facets["percentiles"]["A2"], facets["levels"]["A2"]) == (1, "low")
    # N1 Anxiety: mean 13.08, sd 3.68 -> T = 50 + 10 (20 - 13.08) / 3.68 = 68.80 -> int(cubic) = 98, high.
    assert facets["t_scores"]["N1"] == pytest.approx(68.80, abs=0.01)
    assert (facets["percentiles"]["N1"], facets["levels"]["N1"]) == (98, "high")


def test_reversing_the_answers_of_one_minus_item_moves_its_facet_the_other_way():
    base = answers(3)
    low = scoring.score(answers={**base, "A2-1": 5}, sex="M", age=30)  # "Use others for my own ends": 5 -> 1
    high = scoring.score(answers={**base, "A2-1": 1}, sex="M", age=30)
    assert low["facets"]["raw_scores"]["A2"] == 10 and high["facets"]["raw_scores"]["A2"] == 14
    assert low["raw_scores"]["A"] == 70 and high["raw_scores"]["A"] == 74


def test_zero_to_hundred_scores_and_result_shape():
    result = scoring.score(answers=answers(1), sex=None, age=None)
    assert result["inventory"] == {"id": "ipip-neo-120", "version": "1.0"}
    assert result["norm_group"]["id"] == "all_all" and result["norm_group"]["derived"] is True
    for key in ("raw_scores", "scores", "t_scores", "percentiles", "levels"):
        assert set(result[key]) == set("NEOAC")
        assert len(result["facets"][key]) == 30
    # All 1s: plus items 1, minus items 5. N = 4+8+8+8+16+8 = 52 on 24-120 -> (52-24)/96 = 29.
    assert result["raw_scores"]["N"] == 52 and result["scores"]["N"] == 29
    assert scoring.score(answers=answers(3))["scores"]["O"] == 50


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "Answer all 120 items"),
        ({**answers(3), "N1-1": 6}, "whole number from 1 to 5"),
        ({**answers(3), "N1-1": 0}, "whole number from 1 to 5"),
        ({**answers(3), "N1-1": True}, "whole number from 1 to 5"),
        ({**answers(3), "N1-1": 2.5}, "whole number from 1 to 5"),
        ({**answers(3), "X9-9": 3}, "Unknown item ids: X9-9"),
        ([3] * 120, "Send an object"),
    ],
)
def test_clean_answers_rejects_bad_sets(bad, message):
    with pytest.raises(scoring.AnswersError) as exc:
        scoring.clean_answers(bad)
    assert message in " ".join(exc.value.errors["answers"])


def test_clean_answers_accepts_numeric_strings():
    cleaned = scoring.clean_answers({item.id: "4" for item in ITEMS})
    assert set(cleaned.values()) == {4}


def test_result_type():
    assert scoring.result_type(scoring.score(answers=answers(5), sex="F", age=30)) == "low_agreeableness"
    average = {"t_scores": dict.fromkeys("NEOAC", 52.0), "levels": dict.fromkeys("NEOAC", "average")}
    assert scoring.result_type(average) == "balanced"
    assert (
        scoring.result_type(
            {**average, "t_scores": {**average["t_scores"], "C": 58}, "levels": {**average["levels"], "C": "high"}}
        )
        == "high_conscientiousness"
    )
