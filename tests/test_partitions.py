"""Partitioned history: events and impressions by month — creation ahead, retention by whole
months, triggers and indexes on every partition, erasure across partitions, brand_id filled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import ProgrammingError
from django.utils import timezone

from accounts import gdpr_services
from accounts.models import Brand
from accounts.tests.factories import CustomerFactory
from engagement import event_log
from engagement.models import Event
from engagement.services import event_record
from experiments import services as experiment_services
from experiments.models import Conversion, ConversionAttribution, Impression, Participation
from focusedroom import partitions, registries
from focusedroom import tasks as focusedroom_tasks
from focusedroom.errors import ApplicationError
from integrations import webhooks
from integrations.models import WebhookLog

HISTORY = {"engagement_event": "created_at", "impressions": "impression_at"}


def _one(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _months_ago(n: int, day: int = 15) -> datetime:
    month = partitions.add_months(partitions.month_start(timezone.now()), -n)
    return datetime(month.year, month.month, day, 12, tzinfo=UTC)


@pytest.fixture
def make_experiment(db):
    def make(key):
        variants = [
            {"name": "control", "weight": Decimal("0.5"), "config_json": {}},
            {"name": "variant-1", "weight": Decimal("0.5"), "config_json": {}},
        ]
        experiment = experiment_services.experiment_create(data={"name": key, "key": key}, variants=variants)
        return experiment_services.experiment_start(experiment=experiment)

    return make


@pytest.fixture
def default_brand(db):
    return Brand.objects.get(slug="focusedroom")


class TestShape:
    @pytest.mark.parametrize(("table", "column"), HISTORY.items())
    def test_partitioned_by_month_with_the_partition_key_in_the_primary_key(self, db, table, column):
        assert partitions.is_partitioned(table)
        assert _one("SELECT pg_get_partkeydef(%s::regclass)", [table]) == [(f"RANGE ({column})",)]
        [(pkey,)] = _one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
            [table],
        )
        assert pkey == f"PRIMARY KEY (id, {column})"
        assert not _one(
            "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'",
            [table],
        ), "no default partition: a month without a partition is refused, not hidden"

    @pytest.mark.parametrize(("model", "table"), [(Event, "engagement_event"), (Impression, "impressions")])
    def test_the_models_index_names_are_on_the_parent_and_every_partition_has_them(self, db, model, table):
        parent = {name for (name,) in _one("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])}
        assert {index.name for index in model._meta.indexes} <= parent
        expected = len(parent)
        for part in partitions.partitions(table):
            [(count,)] = _one("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [part.name])
            assert count == expected, part.name

    def test_months_are_covered_from_two_years_back_to_three_months_ahead(self, db):
        for status in partitions.partitions_status():
            assert status.partitioned and status.months_ahead >= 3, status
        parts = partitions.partitions("engagement_event")
        assert parts[0].start <= _months_ago(23, day=1)
        for earlier, later in zip(parts, parts[1:], strict=False):
            assert earlier.end == later.start  # contiguous months, no gap

    def test_the_append_only_trigger_fires_on_every_partition(self, db):
        person = CustomerFactory()
        old = Event.objects.create(user=person, event_type="x", created_at=_months_ago(5))
        new = Event.objects.create(user=person, event_type="x")
        triggers = _one(
            "SELECT count(*) FROM pg_trigger t JOIN pg_inherits i ON i.inhrelid = t.tgrelid "
            "WHERE i.inhparent = 'engagement_event'::regclass AND t.tgname LIKE 'pgtrigger_append_only_%%'"
        )[0][0]
        assert triggers == len(partitions.partitions("engagement_event"))
        for event in (old, new):
            with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
                Event.objects.filter(pk=event.pk).update(event_type="y")
            with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
                Event.objects.filter(pk=event.pk).delete()
        month = partitions.partition_name("engagement_event", partitions.month_start(old.created_at))
        with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic(), connection.cursor() as c:
            c.execute(f'DELETE FROM "{month}"')  # straight at the partition: refused too

    def test_ids_stay_unique_and_increasing_across_months(self, db):
        person = CustomerFactory()
        events = [Event.objects.create(user=person, event_type="x", created_at=_months_ago(n)) for n in (7, 0, 3)]
        ids = [e.pk for e in events]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert Event.objects.get(pk=ids[0]).created_at == events[0].created_at  # the ORM's pk lookup works

    def test_a_month_without_a_partition_is_refused(self, db):
        far = timezone.now() + timedelta(days=365 * 5)
        with pytest.raises(IntegrityError, match="no partition"), transaction.atomic():
            Event.objects.create(event_type="x", created_at=far)


class TestCreation:
    def test_ensure_creates_the_missing_months_once(self, db):
        start = partitions.add_months(partitions.month_start(timezone.now()), 30)
        created = partitions.partitions_ensure(
            table="engagement_event", start=start, end=partitions.add_months(start, 2)
        )
        assert created == [
            partitions.partition_name("engagement_event", partitions.add_months(start, n)) for n in range(3)
        ]
        assert partitions.partitions_ensure(table="engagement_event", start=start, end=start) == []
        event = Event.objects.create(event_type="x", created_at=datetime(start.year, start.month, 2, tzinfo=UTC))
        assert Event.objects.filter(pk=event.pk).exists()

    def test_the_periodic_task_creates_the_months_ahead_and_runs_retention(self, db, settings):
        settings.PARTITIONS_MONTHS_AHEAD = 5
        settings.EVENTS_RETENTION_DAYS = 365
        ancient = Event.objects.create(event_type="x", created_at=_months_ago(20))
        task = focusedroom_tasks.partitions_maintain
        assert task.name == "focusedroom.partitions_maintain"
        assert any(p.task is task for p in focusedroom_tasks.app.periodic_registry.periodic_tasks.values())
        task(timestamp=int(timezone.now().timestamp()))
        for status in partitions.partitions_status():
            assert status.months_ahead >= 5
        assert not Event.objects.filter(pk=ancient.pk).exists()
        oldest = partitions.partitions("engagement_event")[0]
        assert oldest.end > timezone.now() - timedelta(days=365)
        # Impressions keep everything unless IMPRESSIONS_RETENTION_DAYS says otherwise.
        assert partitions.partitions("impressions")[0].start <= _months_ago(23, day=1)

    def test_maintenance_is_idempotent(self, db):
        partitions.partitions_maintain()
        again = partitions.partitions_maintain()
        assert again.created == {"engagement_event": [], "impressions": []}
        assert set(again.retention) >= {"events", "impressions", "webhook_log"}
        assert set(registries.partitioned_tables.names()) == set(HISTORY)

    def test_partitions_command_reports_and_ensures(self, db, capsys):
        call_command("partitions", "--ensure")
        out = capsys.readouterr().out
        assert "engagement_event" in out and "impressions" in out and "months ahead" in out


class TestRetention:
    def test_prune_drops_whole_old_months_and_keeps_young_ones(self, db, capsys):
        person = CustomerFactory()
        old = [Event(user=person, event_type="old", created_at=_months_ago(n)) for n in (6, 6, 9)]
        recent = [Event(user=person, event_type="recent", created_at=_months_ago(n)) for n in (0, 1, 2)]
        Event.objects.bulk_create(old + recent)
        cutoff = timezone.now() - timedelta(days=120)
        call_command("prune_events", "--older-than", "120")
        out = capsys.readouterr().out
        assert "deleted 3 events older than 120 days" in out
        assert sorted(Event.objects.values_list("event_type", flat=True)) == ["recent"] * 3
        for part in partitions.partitions("engagement_event"):
            assert part.end > cutoff  # every month wholly past the cutoff went
        # The month holding the cutoff stays whole: a month goes only when all of it is old.
        assert partitions.partitions("engagement_event")[0].start <= cutoff

    def test_prune_keeps_the_window_the_api_writes_into(self, db):
        with pytest.raises(ApplicationError, match="more than 30 days"):
            event_log.events_prune(older_than_days=30)

    def test_impression_retention_drops_old_months_only(self, db, settings, make_traffic):
        old_ids, new_ids = make_traffic()
        settings.IMPRESSIONS_RETENTION_DAYS = 200
        dropped = experiment_services.impressions_retention()
        assert dropped and all(name.startswith("impressions_p") for name in dropped)
        assert not Impression.objects.filter(pk__in=old_ids).exists()
        assert Impression.objects.filter(pk__in=new_ids).count() == len(new_ids)
        settings.IMPRESSIONS_RETENTION_DAYS = 0
        assert experiment_services.impressions_retention() is None

    def test_webhook_log_keeps_six_months_by_row_delete(self, db, settings):
        now = timezone.now()
        rows = WebhookLog.objects.bulk_create(
            [
                WebhookLog(
                    source="kit",
                    webhook_type="t",
                    event_id=f"e{i}",
                    processed_successfully=True,
                    created_at=now - timedelta(days=days),
                )
                for i, days in enumerate((400, 200, 184, 100, 1))
            ]
        )
        assert settings.WEBHOOK_LOG_RETENTION_DAYS == 183
        assert webhooks.webhook_log_retention() == 3
        assert set(WebhookLog.objects.values_list("pk", flat=True)) == {rows[3].pk, rows[4].pk}
        assert webhooks.webhook_log_prune(older_than_days=50, chunk=1) == 1


@pytest.fixture
def make_traffic(make_experiment):
    """Impressions of one person and one visitor in several months; returns (old ids, young ids)."""

    def make():
        experiment = make_experiment(key="partitioned-traffic")
        person = CustomerFactory()
        experiment_services.exposure_record(key=experiment.key, user=person, tracking={"city": "Paris"})
        experiment_services.exposure_record(key=experiment.key, anonymous_id="visitor-1", tracking={"city": "Lyon"})
        participation = Participation.objects.get(experiment=experiment, user=person)
        impressions = []
        for n in (0, 1, 9, 14):
            impressions.append(
                Impression(
                    user=person,
                    variant_id=participation.variant_id,
                    experiment=experiment,
                    impression_at=_months_ago(n),
                    city="Paris",
                    page_url="https://x.example/?email=a",
                )
            )
        Impression.objects.bulk_create(impressions)
        old = [i.pk for i in impressions[2:]]
        new = list(Impression.objects.exclude(pk__in=old).values_list("pk", flat=True))
        return old, new

    return make


class TestErasureAcrossPartitions:
    def test_a_persons_events_and_impressions_are_erased_in_every_month(self, db, make_experiment):
        person = CustomerFactory()
        experiment = make_experiment(key="erase-everywhere")
        experiment_services.exposure_record(key=experiment.key, user=person, tracking={"city": "Paris"})
        participation = Participation.objects.get(experiment=experiment, user=person)
        months = (0, 2, 7, 13, 22)
        Event.objects.bulk_create(
            [
                Event(
                    user=person,
                    event_type="page_viewed",
                    created_at=_months_ago(n),
                    page_url="/secret",
                    user_agent="UA",
                    ip_address="203.0.113.9",
                    metadata={"q": "me"},
                )
                for n in months
            ]
        )
        Impression.objects.bulk_create(
            [
                Impression(
                    user=person,
                    variant_id=participation.variant_id,
                    experiment=experiment,
                    impression_at=_months_ago(n),
                    city="Paris",
                    user_agent="UA",
                    page_url="/secret",
                )
                for n in months
            ]
        )
        spread = {
            p
            for (p,) in _one(
                "SELECT DISTINCT tableoid::regclass::text FROM engagement_event WHERE user_id = %s", [person.pk]
            )
        }
        assert len(spread) == len(months)  # the rows really live in five partitions

        gdpr_services.person_erase(user=person)

        events = Event.objects.filter(user=person)
        assert events.count() == len(months)
        assert not events.exclude(page_url="").exists()
        assert not events.filter(ip_address__isnull=False).exists()
        assert not events.exclude(user_agent="").exists()
        assert not events.exclude(metadata={}).exists()
        impressions = Impression.objects.filter(user=person)
        assert impressions.count() == len(months) + 1
        assert not impressions.filter(city__isnull=False).exists()
        assert not impressions.filter(page_url__isnull=False).exists()


class TestBrand:
    def test_every_writer_fills_the_default_brand_in_the_same_statement(self, db, default_brand, make_experiment):
        person = CustomerFactory()
        other = Brand.objects.create(slug="other-brand", name="Other")
        event_record(event_type="page_viewed", user=person)
        assert Event.objects.get(event_type="page_viewed").brand_id == default_brand.pk
        assert event_record(event_type="scan", user=person, brand=other).brand_id == other.pk
        stored = event_log.events_ingest(
            payload=[{"event_type": "a"}, {"event_type": "b", "brand": "other-brand"}],
            actor=person,
            may_post_for_anyone=False,
        )
        assert dict(Event.objects.filter(pk__in=stored).values_list("event_type", "brand_id")) == {
            "a": default_brand.pk,
            "b": other.pk,
        }
        experiment = make_experiment(key="branded")
        experiment_services.exposure_record(key=experiment.key, user=person, tracking={})
        experiment_services.conversion_record(conversion_type="signup", user=person)
        for model in (Participation, Impression, Conversion, ConversionAttribution):
            assert set(model.objects.values_list("brand_id", flat=True)) == {default_brand.pk}, model
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM engagement_event WHERE brand_id IS NULL")
            assert cursor.fetchone()[0] == 0


class TestQueriesStillWork:
    def test_seed_views_console_order_and_time_ranges(self, db):
        person = CustomerFactory()
        Event.objects.bulk_create([Event(user=person, event_type="x", created_at=_months_ago(n)) for n in (0, 4, 8)])
        for view in ("customer", "big_five_result", "quiz_results", "quiz_attempts"):
            _one(f"SELECT count(*) FROM {view}")
        newest = list(Event.objects.order_by("-created_at", "-id").values_list("created_at", flat=True)[:2])
        assert newest == sorted(newest, reverse=True)
        since = _months_ago(5, day=1)
        assert Event.objects.filter(created_at__gte=since).count() == 2
        plan = "\n".join(
            r[0]
            for r in _one(
                "EXPLAIN SELECT * FROM engagement_event WHERE created_at >= %s AND created_at < %s",
                [_months_ago(1, day=1).replace(hour=0), _months_ago(0, day=1).replace(hour=0)],
            )
        )
        read = set(re.findall(r" on (engagement_event_p\d+)", plan))
        assert len(read) == 1, plan  # pruning: one month read, not all of them


@pytest.mark.django_db(transaction=True)
def test_two_workers_creating_the_same_months_at_once_do_not_collide():
    import threading

    start = partitions.add_months(partitions.month_start(timezone.now()), 40)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work():
        try:
            barrier.wait()
            partitions.partitions_ensure(table="impressions", start=start, end=partitions.add_months(start, 3))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        names = [p.name for p in partitions.partitions("impressions")]
        assert names.count(partitions.partition_name("impressions", start)) == 1
    finally:
        with connection.cursor() as cursor:
            for n in range(4):
                cursor.execute(
                    f'DROP TABLE IF EXISTS "{partitions.partition_name("impressions", partitions.add_months(start, n))}"'
                )


@pytest.mark.django_db(transaction=True)
def test_retention_outside_a_transaction_detaches_concurrently_then_drops():
    """What the daily task does (autocommit): DETACH … CONCURRENTLY, then DROP; other months untouched."""
    month = datetime(2001, 3, 1, tzinfo=UTC)
    created = partitions.partitions_ensure(table="engagement_event", start=month, end=month)
    assert created == ["engagement_event_p200103"]
    Event.objects.create(event_type="ancient", created_at=month + timedelta(days=4))
    kept = Event.objects.create(event_type="today")
    assert not connection.in_atomic_block
    dropped = partitions.partitions_drop_before(table="engagement_event", cutoff=datetime(2001, 4, 1, tzinfo=UTC))
    assert [(d.name, d.rows) for d in dropped] == [("engagement_event_p200103", 1)]
    assert _one("SELECT to_regclass('engagement_event_p200103')") == [(None,)]
    assert list(Event.objects.values_list("pk", flat=True)) == [kept.pk]
