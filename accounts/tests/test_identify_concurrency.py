"""Same-email identification from parallel database connections never duplicates a person."""

import pytest

from accounts import services
from accounts.models import User
from focusedroom.testing import run_in_parallel


@pytest.mark.django_db(transaction=True)
def test_parallel_identifications_with_one_email_in_many_cases_create_one_person():
    variants = [
        f"{' ' * (i % 3)}{'Parallel' if i % 2 else 'PARALLEL'}.Person@Example.COM{' ' * (i % 2)}" for i in range(20)
    ]
    created, errors = run_in_parallel(
        len(variants), lambda i: services.person_identify(email=variants[i], profile={"name": "P"})[1]
    )
    assert errors == []
    assert created.count(True) == 1 and len(created) == 20
    assert User.all_objects.filter(email="parallel.person@example.com").count() == 1


@pytest.mark.django_db
def test_identify_never_erases_with_blanks_and_only_grants_consent():
    user, created = services.person_identify(
        email="keep@example.com", profile={"name": "Kim", "age": 30}, marketing_opt_in=True
    )
    assert created
    again, created = services.person_identify(
        email="KEEP@example.com", profile={"name": "", "age": None, "profession": "Chef"}, marketing_opt_in=False
    )
    assert not created and again.pk == user.pk
    again.refresh_from_db()
    assert (again.name, again.age, again.profession, again.marketing_opt_in) == ("Kim", 30, "Chef", True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("profile", "field"),
    [({"age": 12}, "age"), ({"age": "abc"}, "age"), ({"career_stage": "wizard"}, "career_stage"), ({"x": 1}, "x")],
)
def test_identify_rejects_bad_profile_values_with_field_messages(profile, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        services.person_identify(email="bad@example.com", profile=profile)
    assert field in info.value.message_dict
    assert not User.all_objects.filter(email="bad@example.com").exists()
