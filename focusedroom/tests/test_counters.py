"""Fixed-window counters (``focusedroom.counters``) and the API throttle on them, on both stores.

What the database cache got wrong is what is tested here: counts are never dropped however many
clients there are, and parallel increments from real connections (threads) are exact.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from focusedroom import counters, redis_client
from focusedroom.api.throttling import RateThrottle, ScopedRateThrottle
from focusedroom.testing import run_in_parallel

CLIENTS = 10_050


@pytest.fixture(params=["postgres", "redis"])
def store(request, settings):
    if request.param == "redis":
        request.getfixturevalue("with_redis")
    else:
        settings.REDIS_URL = ""
    assert counters.backend() == request.param
    return request.param


def _request(address: str, user=None):
    return SimpleNamespace(META={"REMOTE_ADDR": address}, user=user or AnonymousUser())


def _address(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


@pytest.mark.django_db
def test_the_throttle_never_loses_counts_past_ten_thousand_clients(store, monkeypatch):
    monkeypatch.setattr(RateThrottle, "anon_rate", "3/day")
    view = SimpleNamespace()
    window_before = int(time.time() // 86400)
    assert all(RateThrottle().allow_request(_request(_address(i)), view) for i in range(CLIENTS))
    if int(time.time() // 86400) != window_before:
        pytest.skip("the day changed during the test")
    # The first and the last clients still have their count: two more allowed, then refused.
    checked = (0, 1, 2, CLIENTS // 2, CLIENTS - 1)
    for i in checked:
        throttle = RateThrottle()
        assert throttle.allow_request(_request(_address(i)), view)
        assert throttle.allow_request(_request(_address(i)), view)
        assert not throttle.allow_request(_request(_address(i)), view)
        assert 0 < throttle.wait() <= 86400
    # And every count is there, exactly (a refused request counts too).
    sample = [*range(0, CLIENTS, 97), *checked]
    found = [counters.peek(counters.digest("throttle-anon", _address(i)), window=86400).count for i in sample]
    assert found == [4 if i in checked else 1 for i in sample]
    if store == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM focusedroom_counter WHERE key LIKE 'throttle-anon:%%'")
            assert cursor.fetchone()[0] == CLIENTS


@pytest.mark.django_db(transaction=True)
def test_parallel_increments_are_exact(store):
    name = counters.digest("parallel", "one-client")
    threads, each = 8, 50

    def work(i):
        return [counters.hit(name, window=86400).count for _ in range(each)]

    results, errors = run_in_parallel(threads, work)
    assert errors == []
    seen = sorted(c for counts in results for c in counts)
    # Each increment saw its own count: no two increments read the same value, none was lost.
    assert seen == list(range(1, threads * each + 1))
    assert counters.peek(name, window=86400).count == threads * each


@pytest.mark.django_db
def test_a_window_restarts_its_count_and_a_late_event_counts_in_the_newer_window(store):
    name = counters.digest("windows", "client")
    t = 1_800_000_000.0  # aligned on a 60-second window
    assert counters.hit(name, window=60, now=t).count == 1
    assert counters.hit(name, window=60, now=t + 59).count == 2
    assert counters.hit(name, window=60, now=t + 59).reset_in == 1
    assert counters.hit(name, window=60, now=t + 60).count == 1
    assert counters.peek(name, window=60, now=t + 61).count == 1
    if store == "postgres":  # one row per key: a late request of the old window counts in the newer one
        assert counters.hit(name, window=60, now=t + 30).count == 2
    counters.clear(name, window=60, now=t + 61)
    assert counters.peek(name, window=60, now=t + 61).count == 0


@pytest.mark.django_db
def test_ended_windows_are_pruned_from_the_table(settings):
    settings.REDIS_URL = ""
    now = time.time()
    counters.hit(counters.digest("prune", "old"), window=60, now=now - 3600)
    counters.hit(counters.digest("prune", "current"), window=60, now=now)
    assert counters.prune(now=now) >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM focusedroom_counter WHERE key LIKE 'prune:%%'")
        assert [k for (k,) in cursor.fetchall()] == [counters.digest("prune", "current")]


@pytest.mark.django_db
def test_the_counter_table_is_unlogged_with_only_its_primary_key():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'focusedroom_counter'")
        assert cursor.fetchone()[0] == "u"
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'focusedroom_counter'")
        assert [name for (name,) in cursor.fetchall()] == ["focusedroom_counter_pkey"]


def test_names_are_keyed_hashes():
    name = counters.digest("login-account", "someone@example.com")
    assert "someone" not in name and name.startswith("login-account:") and len(name) == len("login-account:") + 32


@pytest.mark.django_db
def test_an_anonymous_request_runs_one_throttle_and_one_statement(client, django_assert_num_queries, settings):
    settings.REDIS_URL = ""
    from rest_framework.settings import api_settings

    assert [RateThrottle] == api_settings.DEFAULT_THROTTLE_CLASSES
    with django_assert_num_queries(1) as ctx:  # the inventory reads nothing else from the database
        assert client.get("/api/v1/assessments/big-five/inventory/").status_code == 200
    assert "focusedroom_counter" in ctx.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_a_person_is_counted_by_id_under_the_user_rate(store, monkeypatch):
    from accounts.tests.factories import CustomerFactory

    monkeypatch.setattr(RateThrottle, "user_rate", "2/day")
    monkeypatch.setattr(RateThrottle, "anon_rate", "100/day")
    person = CustomerFactory()
    view = SimpleNamespace()
    # Two addresses, one person: one count.
    assert RateThrottle().allow_request(_request("10.9.9.1", person), view)
    assert RateThrottle().allow_request(_request("10.9.9.2", person), view)
    assert not RateThrottle().allow_request(_request("10.9.9.3", person), view)
    assert RateThrottle().allow_request(_request("10.9.9.3"), view)  # the address itself is not limited
    scoped = ScopedRateThrottle()
    assert scoped.allow_request(_request("10.9.9.3"), SimpleNamespace())  # no throttle_scope: no limit


def test_redis_hits_are_one_command_and_set_the_expiry(with_redis, monkeypatch):
    client = redis_client.client()
    counters.hit("warm-up", window=60)  # loads the script into this Redis (once per server)
    sent = []
    original = client.execute_command

    def execute_command(*args, **kwargs):
        sent.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", execute_command)
    assert counters.hit("one-trip", window=60).count == 1
    assert counters.hit("one-trip", window=60).count == 2
    assert sent == ["EVALSHA", "EVALSHA"]  # INCR and, for a window's first count, EXPIRE: one script
    monkeypatch.setattr(client, "execute_command", original)
    keys = client.keys(redis_client.key("ctr", "one-trip", "*"))
    assert len(keys) == 1
    assert 60 < client.ttl(keys[0]) <= 60 + counters.PRUNE_GRACE_SECONDS


def test_a_count_during_work_is_sent_before_the_work_and_read_after_it(with_redis):
    client = redis_client.client()
    counters.hit("warm-up", window=60)  # the script is on the server
    key_pattern = redis_client.key("ctr", "during", "*")

    def work():
        deadline = time.monotonic() + 2
        while not client.keys(key_pattern) and time.monotonic() < deadline:  # another connection looks
            time.sleep(0.005)
        return "read"

    result, counted = counters.hit_during("during", window=60, work=work)
    assert (result, counted.count) == ("read", 1)  # the count reached Redis while the work ran

    def failing():
        raise LookupError("the read failed")

    with pytest.raises(LookupError):
        counters.hit_during("during", window=60, work=failing)
    assert counters.hit("during", window=60).count == 3  # counted anyway; the connection is clean after it


@pytest.mark.django_db
def test_a_count_during_work_without_redis_counts_after_it(settings):
    settings.REDIS_URL = ""
    order = []
    result, counted = counters.hit_during("during-pg", window=60, work=lambda: order.append("work") or "read")
    assert (result, counted.count, order) == ("read", 1, ["work"])
    assert counters.peek("during-pg", window=60).count == 1
