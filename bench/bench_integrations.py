"""Integrations: event ingestion through the batch endpoint and outbox delivery to a fake Customer.io.

* Event ingestion: ``POST /api/v1/events/`` with batches of 500 events (gunicorn, token auth,
  4 clients) against writing the same rows straight into PostgreSQL in the same run, with
  ``COPY`` and with ``executemany`` (4 connections each).
* Outbox delivery: 4 ``OutboxWorker`` threads draining 2,000 messages to the fake Customer.io
  server against the fake server's raw request rate (4 keep-alive clients, same requests).
"""

from __future__ import annotations

import json
import threading
import time

from common import Result, captured_statements, database_url, live_server, throughput

BATCH = 500
CONCURRENCY = 4
DURATION = 5.0
MESSAGES = 2000
SERVICE_BATCHES = 20


def _events(user_id: int, n: int) -> list[dict]:
    return [
        {
            "event_type": "page_viewed",
            "page_url": "https://focusedroom.example/report",
            "metadata": {"n": n, "i": i, "section": "traits"},
            "session_identifier": f"s{n}",
        }
        for i in range(BATCH)
    ]


def _direct_rate(user_id: int, method: str) -> float:
    """Events/second written straight into the table by CONCURRENCY connections."""
    import psycopg

    from engagement.models import Event

    dsn = database_url()
    table = Event._meta.db_table
    cols = (
        "(event_type, user_id, anonymous_id, metadata, experiment_context, variant_context, page_url, "
        "points_awarded, user_agent, device_type, session_identifier, created_at)"
    )
    ua = "Mozilla/5.0 (X11; Linux x86_64) bench"
    counts = [0] * CONCURRENCY
    stop = time.monotonic() + DURATION

    def rows(n: int):
        return [
            (
                "page_viewed",
                user_id,
                "",
                json.dumps({"n": n, "i": i, "section": "traits"}),
                "",
                "",
                "https://focusedroom.example/report",
                0,
                ua,
                "desktop",
                f"s{n}",
                "now",
            )
            for i in range(BATCH)
        ]

    def work(k: int) -> None:
        with psycopg.connect(dsn) as conn:
            n = 0
            while time.monotonic() < stop:
                with conn.transaction(), conn.cursor() as cur:
                    if method == "copy":
                        with cur.copy(f"COPY {table} {cols} FROM STDIN") as copy:
                            for row in rows(n):
                                copy.write_row(row)
                    else:
                        cur.executemany(f"INSERT INTO {table} {cols} VALUES ({', '.join(['%s'] * 12)})", rows(n))
                n += 1
            counts[k] = n * BATCH

    threads = [threading.Thread(target=work, args=(k,)) for k in range(CONCURRENCY)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def _ingestion() -> list[Result]:
    from accounts import services
    from accounts.models import User

    user, _ = User.objects.get_or_create(email="bench.events@example.com", defaults={"name": "Bench"})
    _, token = services.api_token_create(user=user, name="bench-events")
    copy_before = _direct_rate(user.pk, "copy")
    with live_server(workers=4) as url:
        rps = throughput(
            url + "/api/v1/events/",
            method="POST",
            body_factory=lambda n: _events(user.pk, n),
            headers={"Authorization": f"Token {token}", "User-Agent": "Mozilla/5.0 (iPhone) bench"},
            concurrency=CONCURRENCY,
            duration=DURATION,
            expect=(201,),
        )
    endpoint = rps * BATCH
    # COPY brackets the endpoint's run (measured before and after it, averaged) against load drift.
    copy = (copy_before + _direct_rate(user.pk, "copy")) / 2
    many = _direct_rate(user.pk, "executemany")
    statements = _statements_per_batch(user, token)
    note = (
        f"batches of {BATCH}, {CONCURRENCY} clients; compiled validation, enrichment, ids from the sequence "
        f"and one COPY per batch; {statements:g} statements per request"
    )
    service, service_copy = _service_rates(user)
    return [
        Result(
            "event ingestion service (events_ingest), batches of 500",
            service,
            "events/s",
            "COPY of the same rows, same connection, alternated",
            service_copy,
            "compiled validation, reference checks, enrichment, ids from the sequence, one COPY; no HTTP",
        ),
        Result("POST /api/v1/events/ (batch)", endpoint, "events/s", "COPY of the same rows", copy, note),
        Result("POST /api/v1/events/ (batch)", endpoint, "events/s", "executemany of the same rows", many, note),
    ]


def _service_rates(user) -> tuple[float, float]:
    """Events/second through ``events_ingest`` (validation, enrichment, ids, COPY) on this process's
    connection, and through a bare COPY of the same rows on the same connection, alternated
    batch by batch so both see the same load."""
    from django.db import connection
    from django.utils import timezone

    from engagement.event_log import events_ingest
    from engagement.models import Event
    from focusedroom.context import RequestContext

    context = RequestContext(ip="127.0.0.1", user_agent="Mozilla/5.0 (iPhone) bench")
    table = Event._meta.db_table
    cols = (
        "(event_type, user_id, anonymous_id, brand_id, metadata, experiment_context, variant_context, page_url, "
        "product_id, points_awarded, ip_address, user_agent, device_type, session_identifier, created_at)"
    )
    spent = {"service": 0.0, "copy": 0.0}
    for n in range(SERVICE_BATCHES):
        batch = _events(user.pk, n)
        started = time.perf_counter()
        events_ingest(payload=batch, actor=user, may_post_for_anyone=False, context=context)
        spent["service"] += time.perf_counter() - started
        started = time.perf_counter()
        now = timezone.now()
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} {cols} FROM STDIN") as copy:
            for event in batch:
                copy.write_row(
                    (
                        event["event_type"],
                        user.pk,
                        "",
                        None,
                        json.dumps(event["metadata"]),
                        "",
                        "",
                        event["page_url"],
                        None,
                        0,
                        "127.0.0.1",
                        context.user_agent,
                        context.device_type,
                        event["session_identifier"],
                        now,
                    )
                )
        spent["copy"] += time.perf_counter() - started
    return SERVICE_BATCHES * BATCH / spent["service"], SERVICE_BATCHES * BATCH / spent["copy"]


def _statements_per_batch(user, token: str) -> float:
    """SQL statements of one batch request, counted in this process on the same code path."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone) bench")

    def post(n: int) -> None:
        body = json.dumps(_events(user.pk, n))
        response = client.post("/api/v1/events/", data=body, content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(f"events endpoint answered {response.status_code}")

    post(-1)
    with captured_statements() as queries:
        for n in range(5):
            post(n)
    return queries.sent / 5


def _delivery() -> list[Result]:
    import requests
    from django.conf import settings
    from django.db import connection

    from accounts.models import DEFAULT_BRAND_SLUG, Brand, User
    from integrations.fakes import FakeCustomerIO
    from integrations.models import OutboxMessage
    from integrations.outbox import OutboxWorker

    brand, _ = Brand.objects.get_or_create(slug=DEFAULT_BRAND_SLUG, defaults={"name": "FocusedRoom"})
    saved = (brand.customer_io_site_id, brand.customer_io_api_key, settings.CUSTOMERIO_TRACK_URL)
    user, _ = User.objects.get_or_create(email="bench.outbox@example.com", defaults={"name": "Bench"})
    with FakeCustomerIO(site_id="bench", api_key="bench-key", record=False) as fake:
        try:
            brand.customer_io_site_id, brand.customer_io_api_key = "bench", "bench-key"
            brand.save()
            settings.CUSTOMERIO_TRACK_URL = fake.url

            # Baseline: the fake server's raw rate for the same requests.
            counts = [0] * CONCURRENCY
            per_client = MESSAGES // CONCURRENCY

            def raw(k: int) -> None:
                session = requests.Session()
                for n in range(per_client):
                    session.post(
                        f"{fake.url}/customers/{user.pk}/events",
                        json={"name": "gems_earned", "data": {"n": n}},
                        auth=("bench", "bench-key"),
                        timeout=10,
                    ).raise_for_status()
                counts[k] = per_client

            threads = [threading.Thread(target=raw, args=(k,)) for k in range(CONCURRENCY)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            raw_rate = sum(counts) / (time.monotonic() - started)

            OutboxMessage.objects.filter(user=user).delete()
            OutboxMessage.objects.bulk_create(
                [OutboxMessage(user=user, event_name="gems_earned", event_data={"n": n}) for n in range(MESSAGES)]
            )

            def drain() -> None:
                try:
                    worker = OutboxWorker(batch_size=100, lease_seconds=60)
                    while worker.process_batch().claimed:
                        pass
                finally:
                    connection.close()

            threads = [threading.Thread(target=drain) for _ in range(CONCURRENCY)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
            sent = OutboxMessage.objects.filter(user=user, status="sent").count()
            if sent != MESSAGES:
                raise RuntimeError(f"only {sent} of {MESSAGES} outbox messages were sent")
            OutboxMessage.objects.filter(user=user).delete()
        finally:
            brand.customer_io_site_id, brand.customer_io_api_key, settings.CUSTOMERIO_TRACK_URL = saved
            brand.save()
    return [
        Result(
            "outbox delivery (4 workers)",
            MESSAGES / elapsed,
            "msg/s",
            "fake Customer.io raw requests",
            raw_rate,
            f"{MESSAGES} messages, batches of 100: claim, HTTP call, guarded outcome update",
        )
    ]


def run() -> list[Result]:
    return _ingestion() + _delivery()
