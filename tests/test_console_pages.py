"""Every page of the operator console, as a superuser with the demo data: it opens, and it shows no
Python object's repr (``<… object at 0x…>``) — not on lists, not on add forms, not on change pages."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

REPR = re.compile(r"object at 0x[0-9a-f]+|DatabaseDefault")


@pytest.fixture
def superuser_client():
    call_command("seed_demo", scale=12, stdout=None)
    client = Client()
    client.force_login(User.objects.create_superuser("walker@focusedroom.local", "walk-every-page-42"))
    return client


def console_pages(superuser) -> list[str]:
    """Every changelist, every add form the console offers, and the change page of a record of each model."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    paths = []
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        paths.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(request):
            paths.append(reverse("admin:{}_{}_add".format(*info)))
        record = model_admin.get_queryset(request).order_by("pk").first()
        if record is not None:
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[record.pk]))
    return paths


def test_no_console_page_shows_an_object_repr(superuser_client):
    superuser = User.objects.get(email="walker@focusedroom.local")
    paths = console_pages(superuser)
    assert len(paths) > 80  # every model's list, add form and a record
    shown = {}
    for path in paths:
        response = superuser_client.get(path)
        assert response.status_code == 200, path
        found = REPR.findall(response.content.decode())
        if found:
            shown[path] = found
    assert shown == {}


def test_the_consoles_own_pages_show_no_repr_either(superuser_client):
    from experiments.models import Experiment
    from profiles.models import TargetCustomerProfile

    experiment = Experiment.objects.order_by("created_at").first()
    profile = TargetCustomerProfile.objects.order_by("created_at").first()
    paths = ["/admin/", reverse("admin:profiles_profilecontainer_setup")]
    paths.append(reverse("admin:experiments_experiment_lifecycle", args=[experiment.pk, "pause"]))
    try:
        paths.append(reverse("admin:profiles_targetcustomerprofile_versions", args=[profile.pk]))
    except NoReverseMatch:  # pragma: no cover - the history page is part of the profiles console
        pytest.fail("the version history page is missing")
    for path in paths:
        response = superuser_client.get(path)
        assert response.status_code == 200, path
        assert not REPR.findall(response.content.decode()), path
