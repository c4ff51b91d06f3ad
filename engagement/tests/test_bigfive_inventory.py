"""The IPIP-NEO-120 inventory data against Johnson's scoring program."""

from collections import Counter

from engagement.bigfive.inventory import DOMAINS, FACETS, ITEMS, ITEMS_BY_ID, SCALE

# Items whose answer buttons run 5…1 in Johnson's forms (shortipipneo1/2.cgi): minus-keyed.
JOHNSON_MINUS_KEYED = {
    9,
    19,
    24,
    30,
    39,
    40,
    48,
    49,
    51,
    53,
    54,
    60,
    62,
    67,
    68,
    69,
    70,
    73,
    74,
    75,
    78,
    79,
    80,
    81,
    83,
    84,
    85,
    88,
    89,
    90,
    92,
    94,
    96,
    97,
    98,
    99,
    100,
    101,
    102,
    103,
    104,
    105,
    106,
    107,
    108,
    109,
    110,
    111,
    113,
    114,
    115,
    116,
    118,
    119,
    120,
}


def test_120_items_numbered_1_to_120_with_unique_ids():
    assert [item.num for item in ITEMS] == list(range(1, 121))
    assert len(ITEMS_BY_ID) == 120


def test_keying_matches_johnsons_forms():
    assert {item.num for item in ITEMS if item.keyed == "-"} == JOHNSON_MINUS_KEYED
    assert {item.keyed for item in ITEMS} == {"+", "-"}


def test_domain_and_facet_follow_johnsons_scoring_loop():
    # shortipipneo3.cgi: facet scale i (1..30) sums items i, i+30, i+60, i+90; scales cycle N, E, O, A, C.
    for item in ITEMS:
        scale = (item.num - 1) % 30
        assert item.domain == "NEOAC"[scale % 5], item
        assert item.facet == scale // 5 + 1, item


def test_four_items_per_facet_twenty_four_per_domain():
    assert Counter(item.facet_code for item in ITEMS) == {f"{d}{i}": 4 for d in DOMAINS for i in range(1, 7)}
    assert all(len(FACETS[d]) == 6 for d in DOMAINS)


def test_spot_check_texts_against_source():
    by_num = {item.num: item for item in ITEMS}
    assert by_num[1].text == "Worry about things."
    assert by_num[28].text == "Tend to vote for liberal political candidates."
    assert by_num[58].text == "Believe that there is no absolute right or wrong."
    assert (by_num[88].text, by_num[88].keyed) == ("Tend to vote for conservative political candidates.", "-")
    assert (by_num[120].text, by_num[120].keyed) == ("Act without thinking.", "-")
    assert by_num[1].facet_name == "Anxiety" and by_num[30].facet_name == "Cautiousness"


def test_reverse_scoring_is_six_minus_answer():
    plus, minus = ITEMS_BY_ID["N1-1"], ITEMS_BY_ID["A2-1"]
    assert [plus.keyed_score(a) for a in range(1, 6)] == [1, 2, 3, 4, 5]
    assert [minus.keyed_score(a) for a in range(1, 6)] == [5, 4, 3, 2, 1]
    assert [v for v, _ in SCALE] == [1, 2, 3, 4, 5]
