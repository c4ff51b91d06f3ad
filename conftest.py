"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.tests.factories import CustomerFactory, StaffFactory


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Reference rows installed by migrations survive the flush of transactional tests."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None or {"db", "transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
        from accounts.services import reference_data_ensure

        reference_data_ensure()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def member(db):
    """A member with a password ("correct-horse-42")."""
    return CustomerFactory(password="correct-horse-42")


@pytest.fixture
def member_client(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member)
    return client


@pytest.fixture
def staff_with_perms(db):
    """``staff_with_perms("app.codename", ...)`` -> a staff user holding exactly those permissions."""

    def make(*perms: str):
        user = StaffFactory()
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return user

    return make


@pytest.fixture
def staff_client(staff_with_perms):
    """``staff_client("app.codename", ...)`` -> an APIClient authenticated as such a staff user."""

    def make(*perms: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(staff_with_perms(*perms))
        return client

    return make


@pytest.fixture
def task_queue(settings, transactional_db):
    """The real task engine: tasks are queued (not run at commit), and the queue starts and ends empty.

    procrastinate's tables are not Django-managed, so a transactional test's flush leaves them alone.
    """
    from django.db import connection

    settings.TASKS_EAGER = False

    def empty() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_periodic_defers, procrastinate_events CASCADE")

    empty()
    yield
    empty()
