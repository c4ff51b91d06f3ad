"""Token authentication on the hot path: no write per request, the person's row only, revocation that holds.

``accounts.token_cache``: a token seen in the last ``API_TOKEN_CACHE_SECONDS`` costs one read of the
person; revoking forgets it in this process at once, and in every other process within the TTL.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services, token_cache
from accounts.models import ApiToken
from accounts.tests.factories import CustomerFactory
from focusedroom.context import RequestContext


@pytest.fixture
def person_and_client(db):
    person = CustomerFactory(password="correct-horse-42")
    token, raw = services.api_token_create(user=person, name="phone")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return person, token, client


def _me(client) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get("/api/v1/me/").status_code
    return status, [q["sql"] for q in queries.captured_queries]


def test_last_use_is_written_at_most_once_a_minute(person_and_client):
    person, token, client = person_and_client
    status, first = _me(client)
    assert status == 200 and sum('UPDATE "accounts_apitoken"' in q for q in first) == 1
    token.refresh_from_db()
    assert token.last_used_at is not None
    for _ in range(3):
        status, later = _me(client)
        assert status == 200 and not any("accounts_apitoken" in q for q in later), later
    # A minute later (as this process remembers it), one more write.
    token_cache.get(token.key_hash).last_used_at -= timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    status, again = _me(client)
    assert status == 200 and sum('UPDATE "accounts_apitoken"' in q for q in again) == 1


def test_a_known_token_reads_only_the_persons_row(person_and_client):
    person, token, client = person_and_client
    _me(client)
    status, queries = _me(client)
    assert status == 200
    auth = [q for q in queries if '"accounts_user"' in q and "WHERE" in q]
    assert auth and not any("accounts_apitoken" in q for q in queries)


def test_a_token_revoked_in_this_process_stops_working_at_once(person_and_client):
    person, token, client = person_and_client
    assert _me(client)[0] == 200
    assert client.delete("/api/v1/auth/token/").status_code in (200, 204)
    assert _me(client)[0] == 401


def test_a_password_change_ends_every_token_at_once(person_and_client):
    person, token, client = person_and_client
    assert _me(client)[0] == 200
    services.person_set_password(user=person, password="another-horse-77", context=RequestContext.system())
    assert _me(client)[0] == 401


def test_a_token_revoked_by_another_process_stops_working_within_the_ttl(person_and_client, monkeypatch, settings):
    person, token, client = person_and_client
    settings.API_TOKEN_CACHE_SECONDS = 30
    assert _me(client)[0] == 200
    # Another process revokes: this one has not heard of it.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    now = token_cache.clock()
    monkeypatch.setattr(token_cache, "clock", lambda: now + 29)
    assert _me(client)[0] == 200  # within the documented bound
    monkeypatch.setattr(token_cache, "clock", lambda: now + 31)
    assert _me(client)[0] == 401


def test_a_deactivated_person_is_refused_at_once_even_with_a_known_token(person_and_client):
    person, token, client = person_and_client
    assert _me(client)[0] == 200
    type(person).objects.filter(pk=person.pk).update(is_active=False)  # another process, no signal
    assert _me(client)[0] == 401


def test_without_memory_every_request_looks_the_token_up(person_and_client, settings):
    person, token, client = person_and_client
    settings.API_TOKEN_CACHE_SECONDS = 0
    _me(client)
    status, queries = _me(client)
    assert status == 200 and any("accounts_apitoken" in q for q in queries)


@pytest.mark.django_db
def test_the_persons_row_read_once_compiled_is_the_orms_row():
    from accounts.models import User
    from accounts.selectors import active_person

    person = CustomerFactory(
        name="Ada Lovelace", age=36, country_code="GB", career_stage="mid_career", marketing_opt_in=True
    )
    person.is_email_verified, person.email_verified_at = True, timezone.now()
    person.save()
    orm = User.objects.get(pk=person.pk)
    fast = active_person(person.pk)
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(fast, f) for f in fields] == [getattr(orm, f) for f in fields]
    assert not fast._state.adding and fast._state.db == "default"
    User.objects.filter(pk=person.pk).update(deleted_at=timezone.now())
    assert active_person(person.pk) is None
    User.objects.filter(pk=person.pk).update(deleted_at=None, is_active=False)
    assert active_person(person.pk) is None
    assert active_person(0) is None


@pytest.mark.parametrize("redis", [False, True])
def test_a_known_tokens_throttle_counts_once_per_request_while_the_person_is_read(
    person_and_client, monkeypatch, settings, redis, request
):
    from focusedroom import counters
    from focusedroom.api.throttling import RateThrottle

    if redis:
        request.getfixturevalue("with_redis")
    else:
        settings.REDIS_URL = ""
    monkeypatch.setattr(RateThrottle, "user_rate", "3/min")
    person, _token, client = person_and_client
    name = counters.digest("throttle-user", str(person.pk))
    if time_left_in_minute() < 5:  # the four requests below must fall in one window
        time.sleep(time_left_in_minute() + 0.1)
    assert client.get("/api/v1/me/").status_code == 200  # the token is looked up and remembered
    raw = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert token_cache.get(services.hash_token(raw)).user_id == person.pk  # known: the next reads overlap
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert counters.peek(name, window=60).count == 4  # one count per request, none twice


def time_left_in_minute() -> float:
    return 60 - time.time() % 60
