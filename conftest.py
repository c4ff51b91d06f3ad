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
def with_redis(settings):
    """Run the test with ``REDIS_URL`` set (``TEST_REDIS_URL``, default db 13 on 127.0.0.1) and a key
    prefix of its own; its keys are deleted afterwards. Skipped when no Redis answers."""
    import os
    import uuid

    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url}")
    settings.REDIS_URL = url
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex[:10]}:"
    yield client
    for key in client.scan_iter(match=settings.REDIS_KEY_PREFIX + "*", count=1000):
        client.delete(key)


@pytest.fixture(autouse=True)
def _forget_process_memory():
    """Copies a process keeps in memory (experiment definitions, API tokens) start empty in every test:
    the database they were read from is rolled back between tests."""
    from accounts import token_cache
    from experiments.selectors import definitions_forget_local

    definitions_forget_local()
    token_cache.clear()
    yield
    definitions_forget_local()
    token_cache.clear()


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


@pytest.fixture(scope="session")
def pg_pair(django_db_setup, django_db_blocker):
    """A real primary + streaming hot standby (``focusedroom.pgpair``) holding a copy of the test database.

    Started once per session, only by the tests that ask for it (the read replica, the cluster test).
    """
    from django.db import connection

    from focusedroom.embedded_db import database_url_for
    from focusedroom.pgpair import PostgresPair

    # The test database (in a session fixture the connection may still carry the configured name).
    name = connection.settings_dict["NAME"]
    if not name.startswith("test_"):
        name = connection.creation._get_test_db_name()
    source = database_url_for({**connection.settings_dict, "NAME": name})
    pair = PostgresPair().start()
    try:
        pair.load_from(source)
        yield pair
    finally:
        pair.stop()
