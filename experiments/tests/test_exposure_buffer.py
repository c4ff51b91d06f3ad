"""Buffered exposures (Redis Stream + ``manage.py exposure_writer``) store exactly what the
synchronous path stores: the same traffic through both modes gives the same participations and
impressions — stickiness, first exposures, eligibility, identity stitching and the "several
variants" rule included. And a buffered exposure writes nothing in the request.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import CustomerFactory
from experiments import exposure_buffer, services
from experiments.models import Experiment, Impression, Participation
from focusedroom import counters
from focusedroom.api.throttling import RateThrottle


def _experiment(key: str) -> Experiment:
    experiment = services.experiment_create(
        data={"name": f"Mode {key}", "key": key, "seed": "same-seed-for-both", "coverage": Decimal("0.5")},
        variants=[
            {"name": "control", "weight": Decimal("0.34")},
            {"name": "b", "weight": Decimal("0.33")},
            {"name": "c", "weight": Decimal("0.33")},
        ],
    )
    return services.experiment_start(experiment=experiment)


def _traffic(key: str, person, other) -> None:
    """Visitors and people seen several times; coverage widened mid-way (first variants stick); a visitor
    who becomes a person already exposed (merge, maybe a conflict: several variants)."""
    visitors = [f"visitor-{i:04d}" for i in range(40)]
    for round_ in range(2):
        for i, v in enumerate(visitors):
            services.exposure_record(
                key=key, anonymous_id=v, tracking={"page_url": f"/p/{round_}", "device_type": "mobile"}
            )
            if i % 7 == 0:
                services.exposure_record(key=key, user=person, tracking={"metadata": {"round": round_}})
    experiment = Experiment.objects.get(key=key)
    services.experiment_update(experiment=experiment, data={"coverage": Decimal("1")})
    for v in visitors[:20]:
        services.exposure_record(key=key, anonymous_id=v, tracking={"bounce": True})
    services.exposure_record(key=key, user=other)
    for v in ("visitor-0003", "visitor-0004"):
        services.exposure_record(key=key, anonymous_id=v)
    with transaction.atomic():
        services.identity_stitch(user=person, anonymous_id="visitor-0003")
    with transaction.atomic():
        services.identity_stitch(user=other, anonymous_id="visitor-0004")
    services.exposure_record(key=key, user=person, tracking={"scroll_depth_percent": 40})
    services.exposure_record(key=key, anonymous_id="visitor-0005")


def _who(row) -> str:
    return f"user:{row.user_id}" if row.user_id else f"anon:{row.anonymous_id}"


def _snapshot(key: str) -> dict:
    experiment = Experiment.objects.get(key=key)
    participations = {}
    for p in Participation.objects.filter(experiment=experiment).select_related("variant"):
        impressions = list(
            Impression.objects.filter(experiment=experiment, user_id=p.user_id, anonymous_id=p.anonymous_id)
            .select_related("variant")
            .order_by("impression_at", "is_first_exposure")
        )
        firsts = [i for i in impressions if i.is_first_exposure]
        participations[_who(p)] = {
            "variant": p.variant.name,
            "eligible": p.was_eligible_at_exposure,
            "criteria": p.eligibility_criteria,
            "total": p.total_impressions,
            "multiple": p.has_multiple_exposures,
            "merges": [(m["kept"], m["conflict"]) for m in p.identity_merges or []],
            "device": p.device_type,
            "channel": p.acquisition_channel,
            "first_is_earliest": p.first_exposure_date == min(i.impression_at for i in impressions)
            if len(firsts) <= 1
            else None,
            "impressions": sorted(
                (
                    i.variant.name,
                    i.is_first_exposure,
                    i.user_was_eligible,
                    str(i.user_eligibility_status),
                    str(i.user_context),
                    i.page_url,
                    i.device_type,
                    str(i.metadata),
                    i.bounce,
                    i.scroll_depth_percent,
                )
                for i in impressions
            ),
        }
        assert p.total_impressions == len(impressions), _who(p)
    return participations


@pytest.mark.django_db(transaction=True)
def test_buffered_and_synchronous_exposures_store_the_same_rows(with_redis, settings):
    person, other = CustomerFactory(), CustomerFactory()
    settings.EXPOSURE_BUFFER = "sync"
    _experiment("mode-sync")
    _traffic("mode-sync", person, other)

    settings.EXPOSURE_BUFFER = "redis"
    _experiment("mode-buffered")
    before = Impression.objects.count()
    _traffic("mode-buffered", person, other)
    assert Impression.objects.count() == before  # nothing written yet: all in the stream
    assert exposure_buffer.backlog() > 100
    call_command("exposure_writer", "--once", "--consumer", "test", "--batch", "37")
    assert exposure_buffer.backlog() == 0

    sync, buffered = _snapshot("mode-sync"), _snapshot("mode-buffered")
    assert set(sync) == set(buffered)
    assert sync == buffered
    # The traffic exercised what it meant to.
    assert any(not p["eligible"] for p in sync.values()) and any(p["eligible"] for p in sync.values())
    assert sum(1 for p in sync.values() if p["merges"]) == 2
    assert all(p["first_is_earliest"] is not False for p in sync.values())


@pytest.mark.django_db
def test_a_buffered_exposure_writes_nothing_in_the_request(with_redis, settings, make_experiment, client):
    settings.EXPOSURE_BUFFER = "redis"
    make_experiment(key="no-write")
    services.exposure_record(key="no-write", anonymous_id="warm-up-visitor")  # the definition is in memory now
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/experiments/no-write/exposures/",
            {"participant": {"anonymous_id": "request-visitor-1"}, "page_url": "/"},
            content_type="application/json",
        )
    assert response.status_code == 200 and response.json()["variant"] in ("control", "variant-1")
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert not {"INSERT", "UPDATE", "DELETE", "COPY"} & set(statements), statements
    assert exposure_buffer.backlog() == 2


def _redis_commands(monkeypatch) -> list[str]:
    """The names of the Redis commands sent from now on (the list grows as they are sent)."""
    import redis

    commands: list[str] = []
    real = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda self, *args, **kw: commands.append(args[0]) or real(self, *args, **kw)
    )
    return commands


def test_a_buffered_exposure_is_one_round_trip_and_never_uses_a_definition_changed_meanwhile(
    with_redis, settings, make_experiment, monkeypatch
):
    settings.EXPOSURE_BUFFER = "redis"
    experiment = make_experiment(key="held-copy")
    services.exposure_record(key="held-copy", anonymous_id="held-visitor-0")  # the definition is in memory now
    commands = _redis_commands(monkeypatch)
    assert services.exposure_record(key="held-copy", anonymous_id="held-visitor-1").recorded
    assert commands == ["EVALSHA"]  # the definitions' version checked and the entry appended together
    assert exposure_buffer.backlog() == 2

    # Paused meanwhile (another process would only see the version move): this process's copy still
    # says running, the append refuses it, the definition is read again and nothing is recorded.
    services.experiment_pause(experiment=experiment)
    answer = services.exposure_record(key="held-copy", anonymous_id="held-visitor-2")
    assert (answer.recorded, answer.in_experiment, answer.reason) == (False, False, "not_running")
    assert exposure_buffer.backlog() == 2
    services.experiment_start(experiment=Experiment.objects.get(key="held-copy"))
    assert services.exposure_record(key="held-copy", anonymous_id="held-visitor-3").recorded
    assert exposure_buffer.backlog() == 3


@pytest.mark.django_db(transaction=True)
def test_the_writer_finishes_what_it_read_before_a_crash_and_never_writes_twice(with_redis, settings, make_experiment):
    from experiments.management.commands import exposure_writer

    settings.EXPOSURE_BUFFER = "redis"
    experiment = make_experiment(key="crash")
    for i in range(10):
        services.exposure_record(key="crash", anonymous_id=f"crash-visitor-{i}")
    exposure_buffer.ensure_group()
    # 1. Read, then died before writing: the entries stay pending for this consumer.
    assert len(exposure_buffer.read_new("w1", 4, None)) == 4
    # 2. Read the next ones, wrote and committed them, died before acknowledging.
    entries = exposure_buffer.read_new("w1", 3, None)
    original_ack = exposure_buffer.ack
    exposure_buffer.ack = lambda ids: (_ for _ in ()).throw(ConnectionError("died"))
    try:
        with pytest.raises(ConnectionError):
            exposure_writer.write(entries)
    finally:
        exposure_buffer.ack = original_ack
    assert Impression.objects.filter(experiment=experiment).count() == 3
    # The restart: pending entries first (the written ones recognised by their impression id), then the rest.
    call_command("exposure_writer", "--once", "--consumer", "w1")
    assert Impression.objects.filter(experiment=experiment).count() == 10
    assert Participation.objects.filter(experiment=experiment).count() == 10
    assert exposure_buffer.backlog() == 0


@pytest.mark.django_db(transaction=True)
def test_entries_another_writer_abandoned_are_claimed(with_redis, settings, make_experiment, monkeypatch):
    settings.EXPOSURE_BUFFER = "redis"
    experiment = make_experiment(key="abandoned")
    for i in range(5):
        services.exposure_record(key="abandoned", anonymous_id=f"abandoned-visitor-{i}")
    exposure_buffer.ensure_group()
    assert len(exposure_buffer.read_new("dead-writer", 10, None)) == 5
    monkeypatch.setattr(exposure_buffer, "CLAIM_IDLE_MS", 0)
    call_command("exposure_writer", "--once", "--consumer", "alive-writer")
    assert Impression.objects.filter(experiment=experiment).count() == 5
    assert exposure_buffer.backlog() == 0


@pytest.mark.django_db(transaction=True)
def test_the_running_writer_lingers_after_a_partial_batch_and_stops_on_sigterm(
    with_redis, settings, make_experiment, monkeypatch
):
    import os
    import signal

    from experiments.management.commands import exposure_writer

    settings.EXPOSURE_BUFFER = "redis"
    experiment = make_experiment(key="linger")
    for i in range(3):
        services.exposure_record(key="linger", anonymous_id=f"linger-visitor-{i}")
    slept = []

    def sleep(seconds):  # the linger after the partial batch: stop the writer the way a deployment does
        slept.append(seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(exposure_writer.time, "sleep", sleep)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        call_command("exposure_writer", "--consumer", "lingering", "--batch", "10", "--linger-ms", "250")
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert slept == [0.25]  # 3 entries of a batch of 10: one wait, then SIGTERM ended the loop
    assert Impression.objects.filter(experiment=experiment).count() == 3
    assert exposure_buffer.backlog() == 0


def test_the_writer_refuses_to_run_without_the_buffer(settings):
    from django.core.management.base import CommandError

    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="buffer is off"):
        call_command("exposure_writer", "--once")


def test_make_run_may_always_start_the_writer(settings):
    settings.REDIS_URL = ""
    call_command("exposure_writer", "--if-enabled")  # the buffer is off: nothing to do, no error


def _exposures(key: str) -> str:
    return f"/api/v1/experiments/{key}/exposures/"


def _anonymous_count() -> int:
    """The hour's throttle count of the test client's address (127.0.0.1)."""
    return counters.peek(counters.digest("throttle-anon", "127.0.0.1"), window=3600).count


@pytest.mark.django_db
def test_a_buffered_exposure_counts_its_throttle_in_the_append_and_appends_nothing_over_the_limit(
    with_redis, settings, make_experiment, client, monkeypatch
):
    """The default throttle's count travels in the append's script (one round trip for both); every
    request counts once whatever it does — refused, previewed, not recorded — and over the limit
    the answer is 429 and nothing is appended, whatever the body says."""
    settings.EXPOSURE_BUFFER = "redis"
    monkeypatch.setattr(RateThrottle, "anon_rate", "6/hour")
    experiment = make_experiment(key="counted")
    services.exposure_record(key="counted", anonymous_id="warm-up-visitor")  # the definition is in memory now
    commands = _redis_commands(monkeypatch)

    def post(body: dict, query: str = ""):
        return client.post(_exposures("counted") + query, body, content_type="application/json")

    assert post({"participant": {"anonymous_id": "counted-visitor-1"}}).status_code == 200
    assert commands == ["EVALSHA"]  # counted and appended in one script
    assert (_anonymous_count(), exposure_buffer.backlog()) == (1, 2)
    assert post({"participant": {"anonymous_id": "counted-visitor-2"}, "colour": "red"}).status_code == 400
    assert post({"participant": {"anonymous_id": "counted-visitor-3"}}, "?fr_force=counted:control").status_code == 200
    assert (_anonymous_count(), exposure_buffer.backlog()) == (3, 2)  # each counted once, on its own

    # The definitions moved since this process loaded them (paused elsewhere): the script counts
    # and refuses the append, the experiment is read again and records nothing — counted once.
    services.experiment_pause(experiment=experiment)
    answer = post({"participant": {"anonymous_id": "counted-visitor-4"}})
    assert answer.status_code == 200 and answer.json()["in_experiment"] is False
    assert (_anonymous_count(), exposure_buffer.backlog()) == (4, 2)
    services.experiment_start(experiment=Experiment.objects.get(key="counted"))
    assert post({"participant": {"anonymous_id": "counted-visitor-5"}}).status_code == 200
    assert post({"participant": {"anonymous_id": "counted-visitor-6"}}).status_code == 200
    assert (_anonymous_count(), exposure_buffer.backlog()) == (6, 4)

    commands.clear()
    refused = post({"participant": {"anonymous_id": "counted-visitor-7"}})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert commands == ["EVALSHA"] and exposure_buffer.backlog() == 4  # counted, nothing appended
    assert post({"participant": {"anonymous_id": "counted-visitor-8"}, "colour": "red"}).status_code == 429
    assert _anonymous_count() == 8


@pytest.mark.django_db
def test_a_synchronous_exposure_is_refused_over_the_limit_before_it_writes(
    settings, make_experiment, client, monkeypatch
):
    """Without the buffer the throttle counts before the view, as for any request (the counter table)."""
    settings.REDIS_URL = ""
    monkeypatch.setattr(RateThrottle, "anon_rate", "2/hour")
    make_experiment(key="sync-counted")
    for i in range(2):
        body = {"participant": {"anonymous_id": f"sync-counted-{i}"}}
        assert client.post(_exposures("sync-counted"), body, content_type="application/json").status_code == 200
    body = {"participant": {"anonymous_id": "sync-counted-2"}}
    assert client.post(_exposures("sync-counted"), body, content_type="application/json").status_code == 429
    assert Impression.objects.filter(experiment__key="sync-counted").count() == 2
    assert _anonymous_count() == 3


@pytest.mark.django_db
def test_a_person_s_buffered_exposure_is_counted_once_under_the_user_rate(
    with_redis, settings, make_experiment, client, monkeypatch
):
    """A token's count is made while the person's row is read (``count_person_while``): the append
    then carries no second count."""
    from accounts.services import api_token_create

    settings.EXPOSURE_BUFFER = "redis"
    monkeypatch.setattr(RateThrottle, "user_rate", "2/hour")
    make_experiment(key="person-counted")
    person = CustomerFactory()
    _, raw = api_token_create(user=person)
    answers = [
        client.post(
            _exposures("person-counted"), {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {raw}"
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert counters.peek(counters.digest("throttle-user", str(person.pk)), window=3600).count == 3
    assert exposure_buffer.backlog() == 2
