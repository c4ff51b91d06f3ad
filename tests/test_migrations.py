"""Migrations that change how data is held keep every row: tested on a database that has rows."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0003_verification_custom_fields"), ("engagement", "0005_console_order_index")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _head():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_integrations_move_and_plain_reference_columns_keep_every_row():
    old = _migrate(BEFORE)
    try:
        User = old.get_model("accounts", "User")
        Event = old.get_model("engagement", "Event")
        Outbox = old.get_model("engagement", "OutboxMessage")
        Token = old.get_model("accounts", "EmailVerificationToken")
        Product = old.get_model("rewards", "Product")
        Brand = old.get_model("accounts", "Brand")
        Experiment = old.get_model("experiments", "Experiment")
        ContentType = old.get_model("contenttypes", "ContentType")

        brand = Brand.objects.get(slug="focusedroom")
        person = User.objects.create(email="kept@example.com", password="!")
        product = Product.objects.create(brand=brand, sku="SKU-1", name="Mat", points_award=10, msrp="19.90")
        experiment = Experiment.objects.create(key="moved", name="Moved")
        Event.objects.create(user=person, event_type="product_scanned", product=product)
        Outbox.objects.create(user=person, event_name="identify", action="identify")
        token = Token.objects.create(
            user=person,
            token="a" * 64,
            email=person.email,
            expires_at="2999-01-01T00:00:00Z",
            experiment=experiment,
        )
        ContentType.objects.get_or_create(app_label="engagement", model="outboxmessage")

        new = _migrate(_head())
        Event = new.get_model("engagement", "Event")
        Outbox = new.get_model("integrations", "OutboxMessage")
        Token = new.get_model("accounts", "EmailVerificationToken")
        ContentType = new.get_model("contenttypes", "ContentType")

        assert Event.objects.get(user_id=person.pk).product_id == product.pk
        assert Outbox.objects.get(user_id=person.pk).event_name == "identify"
        assert Token.objects.get(pk=token.pk).experiment_id == uuid.UUID(str(experiment.pk))
        assert ContentType.objects.filter(app_label="integrations", model="outboxmessage").exists()
        assert not ContentType.objects.filter(app_label="engagement", model="outboxmessage").exists()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY "
                "(ARRAY['engagement_event'::regclass, 'email_verification_tokens'::regclass]) "
                "AND confrelid = ANY (ARRAY['rewards_product'::regclass, 'experiments'::regclass])"
            )
            assert cursor.fetchone()[0] == 0
    finally:
        _migrate(_head())


@pytest.mark.django_db(transaction=True)
def test_open_sessions_move_with_their_person_and_earlier_replays_are_counted():
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    old = _migrate([("accounts", "0005_person_change_log"), ("integrations", "0001_initial")])
    try:
        User = old.get_model("accounts", "User")
        WebhookLog = old.get_model("integrations", "WebhookLog")
        person = User.objects.create(email="logged.in@example.com", password="!")
        encoder = SessionStore()
        later = timezone.now() + timezone.timedelta(days=1)
        with connection.cursor() as cursor:
            for key, data, expire in (
                ("k" * 32, encoder.encode({SESSION_KEY: str(person.pk), "other": 1}), later),
                ("a" * 32, encoder.encode({"cart": [1]}), later),
                ("x" * 32, encoder.encode({SESSION_KEY: str(person.pk)}), timezone.now() - timezone.timedelta(days=1)),
            ):
                cursor.execute(
                    "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (%s, %s, %s)",
                    [key, data, expire],
                )
        WebhookLog.objects.create(source="kit", webhook_type="t", event_id="e", processed_successfully=True)
        for _ in range(2):
            WebhookLog.objects.create(
                source="kit", webhook_type="t", event_id="e", is_duplicate=True, processed_successfully=True
            )

        new = _migrate(_head())
        Session = new.get_model("accounts", "Session")
        WebhookLog = new.get_model("integrations", "WebhookLog")
        moved = {s.session_key: s.user_id for s in Session.objects.all()}
        assert moved == {"k" * 32: person.pk, "a" * 32: None}  # open sessions only, with their person
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_session")
            assert cursor.fetchone()[0] == 3  # the old rows stay
        first = WebhookLog.objects.get(is_duplicate=False)
        assert first.replay_count == 2 and first.last_replayed_at is not None
        assert WebhookLog.objects.count() == 3
    finally:
        _migrate(_head())


BEFORE_PARTITIONS = [
    ("accounts", "0007_default_brand_function"),
    ("engagement", "0009_compare_links"),
    ("experiments", "0006_lean_exposure_indexes_uuid7"),
]


def _relkind(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_events_and_impressions_move_into_monthly_partitions_without_losing_a_row():
    from datetime import UTC, datetime

    from focusedroom import partitions

    old = _migrate(BEFORE_PARTITIONS)
    try:
        assert _relkind("engagement_event") == "r" and _relkind("impressions") == "r"
        User = old.get_model("accounts", "User")
        Brand = old.get_model("accounts", "Brand")
        Event = old.get_model("engagement", "Event")
        Experiment = old.get_model("experiments", "Experiment")
        Variant = old.get_model("experiments", "Variant")
        Participation = old.get_model("experiments", "Participation")
        Impression = old.get_model("experiments", "Impression")
        Conversion = old.get_model("experiments", "Conversion")

        default = Brand.objects.get(slug="focusedroom")
        other = Brand.objects.create(slug="partner", name="Partner")
        person = User.objects.create(email="months@example.com", password="!")
        # Rows in many months, one of them older than the two years the migration covers by itself.
        times = [
            datetime(2023, 5, 20, tzinfo=UTC),
            datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC),
            datetime(2025, 2, 1, tzinfo=UTC),
            datetime(2026, 6, 15, 8, tzinfo=UTC),
        ]
        times.append(partitions._utc(partitions.month_start(datetime.now(UTC))))
        events = [
            Event.objects.create(
                user=person,
                event_type=f"e{i}",
                created_at=at,
                brand=other if i == 1 else None,
                metadata={"i": i},
                page_url=f"/p{i}",
            )
            for i, at in enumerate(times)
        ]
        experiment = Experiment.objects.create(key="months", name="Months")
        variant = Variant.objects.create(experiment=experiment, name="control", weight="1", is_control=True)
        participation = Participation.objects.create(user=person, experiment=experiment, variant=variant)
        impressions = [
            Impression.objects.create(
                user=person, experiment=experiment, variant=variant, impression_at=at, city=f"c{i}"
            )
            for i, at in enumerate(times)
        ]
        conversion = Conversion.objects.create(
            user=person, participation=participation, experiment=experiment, variant=variant, conversion_type="x"
        )
        before_events = {e.pk: (e.event_type, e.created_at, e.metadata, e.page_url) for e in events}
        before_impressions = {i.pk: (i.impression_at, i.city) for i in impressions}

        new = _migrate(_head())
        assert _relkind("engagement_event") == "p" and _relkind("impressions") == "p"
        Event = new.get_model("engagement", "Event")
        Impression = new.get_model("experiments", "Impression")
        Participation = new.get_model("experiments", "Participation")
        Conversion = new.get_model("experiments", "Conversion")

        assert {
            e.pk: (e.event_type, e.created_at, e.metadata, e.page_url) for e in Event.objects.all()
        } == before_events
        assert {i.pk: (i.impression_at, i.city) for i in Impression.objects.all()} == before_impressions
        # Every row is in the partition of its month.
        with connection.cursor() as cursor:
            cursor.execute("SELECT tableoid::regclass::text, created_at FROM engagement_event")
            for part, at in cursor.fetchall():
                assert part == partitions.partition_name("engagement_event", partitions.month_start(at))
        assert partitions.partitions("engagement_event")[0].start == datetime(2023, 5, 1, tzinfo=UTC)
        # Brands: kept where known, the default brand elsewhere — on old and new tables alike.
        assert dict(Event.objects.values_list("event_type", "brand_id")) == {
            f"e{i}": other.pk if i == 1 else default.pk for i in range(len(times))
        }
        assert set(Impression.objects.values_list("brand_id", flat=True)) == {default.pk}
        assert Participation.objects.get(pk=participation.pk).brand_id == default.pk
        assert Conversion.objects.get(pk=conversion.pk).brand_id == default.pk
        # The identity sequence carries on after the moved rows.
        fresh = Event.objects.create(event_type="after", user_id=person.pk)
        assert fresh.pk > max(before_events)

        # And back: one plain table again, every row (the new one too) kept.
        back = _migrate(BEFORE_PARTITIONS)
        assert _relkind("engagement_event") == "r" and _relkind("impressions") == "r"
        assert back.get_model("engagement", "Event").objects.count() == len(times) + 1
        assert back.get_model("experiments", "Impression").objects.count() == len(times)
    finally:
        _migrate(_head())
