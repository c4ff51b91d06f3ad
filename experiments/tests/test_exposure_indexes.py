"""The exposure tables carry no index that another one already covers (each is paid on every exposure)."""

import pytest
from django.db import connection

from experiments.models import Impression, Participation


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def _columns(definition: str) -> list[str]:
    inside = definition.split("USING btree (", 1)[1].split(")", 1)[0]
    return [c.strip().split()[0] for c in inside.split(",")]


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["impressions", "user_experiment_participation"])
def test_no_full_index_is_a_prefix_of_another(table):
    indexes = _indexes(table)
    plain = {n: _columns(d) for n, d in indexes.items() if "WHERE" not in d and "UNIQUE" not in d}
    everything = {n: _columns(d) for n, d in indexes.items()}
    for name, columns in plain.items():
        for other, their in everything.items():
            assert other == name or their[: len(columns)] != columns or "WHERE" in indexes[other], (name, other)
    # Nothing indexes user_id or experiment_id alone: the partial user index and the composite ones serve.
    assert not any(cols in (["user_id"], ["experiment_id"]) for n, cols in plain.items())


@pytest.mark.django_db
def test_new_exposure_rows_get_time_ordered_ids(make_experiment):
    from experiments import services

    make_experiment(key="ordered")
    for i in range(3):
        services.exposure_record(key="ordered", anonymous_id=f"ordered-visitor-{i}")
    ids = list(Impression.objects.order_by("impression_at").values_list("id", flat=True))
    assert all(i.version == 7 for i in ids) and ids == sorted(ids, key=lambda u: u.int >> 80)
    assert all(p.version == 7 for p in Participation.objects.values_list("id", flat=True))
