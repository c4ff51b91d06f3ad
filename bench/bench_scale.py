"""Realistic scale: a million customers and about ten million events.

Seeds (or reuses, idempotently) the ``seed_demo --scale N`` data set — N is
``BENCH_SCALE``, 1,000,000 by default — then, logged in as a superuser through Django's
test client against the benchmark database, measures:

* p50/p95 of every admin changelist and of one change page per model, against the
  trivial ``/healthz`` measured the same way in the same run (target: p95 under 1 s);
* the queries each changelist runs (fixed, no ``COUNT(*)`` over a huge table);
* every list endpoint of the API on page 1 and on a deep page (the ratio should be ~1);
* the admin index (the dashboard): its latency and its fixed number of queries.
"""

from __future__ import annotations

import os
import statistics
import time
from urllib.parse import urlsplit

from common import Result, captured_statements

SCALE = int(os.environ.get("BENCH_SCALE", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
DEEP_PAGES = int(os.environ.get("BENCH_DEEP_PAGES", "50"))
API_LISTS = [
    "/api/v1/customers/",
    "/api/v1/assessments/results/",
    "/api/v1/experiments/",
    "/api/v1/products/",
    "/api/v1/reward-items/",
    "/api/v1/ranks/",
    "/api/v1/achievement-configs/",
    "/api/v1/customer-profiles/",
    "/api/v1/brand-guidelines/",
    "/api/v1/budgets/",
    "/api/v1/profile-containers/",
    "/api/v1/campaign-usages/",
    "/api/v1/me/transactions/",
    "/api/v1/scans/",
    "/api/v1/redemptions/",
    "/api/v1/me/wishlist/",
    "/api/v1/me/goals/",
    "/api/v1/me/achievements/",
    "/api/v1/me/referrals/",
]


def _timed(client, url: str, *, repeat: int = REPEAT) -> tuple[float, float, int]:
    """p50 and p95 in ms of GET url, and its status."""
    status = client.get(url).status_code  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        status = client.get(url).status_code
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, status


def _queries(client, url: str) -> tuple[int, int]:

    with captured_statements() as ctx:
        client.get(url)
    counts = sum(1 for q in ctx.captured_queries if "COUNT(*)" in q["sql"].upper())
    return len(ctx.captured_queries), counts


def _seed() -> float:
    from django.core.management import call_command

    started = time.monotonic()
    call_command("seed_demo", scale=SCALE)
    return time.monotonic() - started


def _deep_url(client, url: str) -> tuple[str, int]:
    """The URL DEEP_PAGES pages into the list (following ``next`` links), and the pages followed."""
    current, pages = url, 0
    for _ in range(DEEP_PAGES):
        response = client.get(current)
        data = response.json() if response.status_code == 200 else {}
        nxt = data.get("next") if isinstance(data, dict) else None
        if not nxt:
            break
        parts = urlsplit(nxt)
        current, pages = parts.path + (f"?{parts.query}" if parts.query else ""), pages + 1
    return current, pages


def run() -> list[Result]:
    from django.contrib import admin
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from accounts.models import User

    seconds = _seed()
    setup_test_environment()  # the test client's host, locmem email
    admin_user, _ = User.all_objects.get_or_create(
        email="bench.admin@example.com", defaults={"is_staff": True, "is_superuser": True, "name": "Bench"}
    )
    client = Client(raise_request_exception=False)  # a failing page is reported with its status
    client.force_login(admin_user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM engagement_event")  # exact, once, for the report
        events = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM accounts_user")
        people = cursor.fetchone()[0]

    health50, health95, _ = _timed(client, "/healthz")
    results = [
        Result(
            f"seed_demo --scale {SCALE:,} (idempotent re-run)",
            seconds,
            "s",
            "—",
            0.0,
            f"{people:,} people, {events:,} events",
            higher_is_better=False,
        ),
    ]
    index50, index95, _ = _timed(client, "/admin/")
    index_queries, _ = _queries(client, "/admin/")
    results.append(
        Result(
            "GET /admin/ (dashboard) p95",
            index95,
            "ms",
            "/healthz p95",
            health95,
            f"p50 {index50:.0f} ms, {index_queries} queries",
            higher_is_better=False,
        )
    )

    slow = []
    for model, _model_admin in sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label):
        info = (model._meta.app_label, model._meta.model_name)
        url = reverse("admin:{}_{}_changelist".format(*info))
        p50, p95, status = _timed(client, url)
        queries, counts = _queries(client, url)
        note = f"p50 {p50:.0f} ms, {queries} queries, {counts} COUNT(*), HTTP {status}"
        results.append(
            Result(
                f"changelist {model._meta.label} p95", p95, "ms", "/healthz p95", health95, note, higher_is_better=False
            )
        )
        pk = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        if pk is not None:
            change_url = reverse("admin:{}_{}_change".format(*info), args=[pk])
            c50, c95, cstatus = _timed(client, change_url)
            results.append(
                Result(
                    f"change page {model._meta.label} p95",
                    c95,
                    "ms",
                    "/healthz p95",
                    health95,
                    f"p50 {c50:.0f} ms, HTTP {cstatus}",
                    higher_is_better=False,
                )
            )
            if c95 >= 1000:
                slow.append(change_url)
        if p95 >= 1000:
            slow.append(url)

    for url in API_LISTS:
        first50, first95, status = _timed(client, url)
        if status != 200:
            continue
        deep, pages = _deep_url(client, url)
        if pages == 0:
            results.append(
                Result(
                    f"API {url} page 1 p50",
                    first50,
                    "ms",
                    "/healthz p50",
                    health50,
                    "one page only",
                    higher_is_better=False,
                )
            )
            continue
        deep50, deep95, _ = _timed(client, deep)
        results.append(
            Result(
                f"API {url} page {pages + 1} p50",
                deep50,
                "ms",
                "page 1 p50",
                first50,
                f"p95 {deep95:.0f} vs {first95:.0f} ms",
                higher_is_better=False,
            )
        )
    if slow:
        print("Pages at or over 1 s at p95:", *slow, sep="\n  ")
    return results
