"""Console helpers: ages in words, add forms without the fields the database fills."""

from datetime import timedelta

import pytest
from django.contrib import admin

from focusedroom.admin_tools import DatabaseFilledFieldsHidden, database_fills, humanize_age


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(seconds=5), "less than a minute"),
        (timedelta(minutes=24, seconds=4.333101), "24 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=1, minutes=5), "1 hour, 5 minutes"),
        (timedelta(hours=3), "3 hours"),
        (timedelta(days=2, hours=1, minutes=30), "2 days, 1 hour"),
        (timedelta(days=1), "1 day"),
        (None, "—"),
    ],
)
def test_ages_are_said_in_words(age, words):
    assert humanize_age(age) == words


def test_fields_the_database_fills_are_recognised():
    from experiments.models import Experiment
    from profiles.models import Budget, TargetCustomerProfile

    assert database_fills(TargetCustomerProfile._meta.get_field("created_at"))  # auto_now_add + db_default
    assert database_fills(Experiment._meta.get_field("updated_at"))  # auto_now + db_default
    assert database_fills(Budget._meta.get_field("amount_remaining"))  # a generated column
    assert not database_fills(Experiment._meta.get_field("created_at"))  # has a Python default
    assert not database_fills(Budget._meta.get_field("name"))


def test_every_console_admin_hides_them_on_add_forms():
    assert all(isinstance(model_admin, DatabaseFilledFieldsHidden) for model_admin in admin.site._registry.values())
