"""Campaign profiles: full-text and JSON-containment search over 100,000 profiles.

Each query runs twice in the same run on the same data: with the GIN indexes, and with
index scans disabled (``SET enable_indexscan/enable_bitmapscan = off``) as the baseline.
Also reported: the container detail endpoint's query count against loading the same
records one by one.
"""

from __future__ import annotations

from common import Result, captured_statements, per_call

ROWS = 100_000
ACCOUNT_PREFIX = "bench-"

# One statement, idempotent: inserts the rows numbered after the ones already there.
GENERATE = """
INSERT INTO target_customer_profiles (name, description, account_id, demographics, interests, behavior, persona, metadata)
SELECT
  (ARRAY['Busy parents', 'Young professionals', 'Retired travellers', 'Students', 'Gamers', 'Home cooks',
         'Fitness fans', 'Book lovers', 'Music fans', 'Pet owners'])[1 + i %% 10]
    || CASE WHEN i %% 1000 = 0 THEN ' marathon runners' ELSE '' END || ' #' || i,
  'Audience segment number ' || i,
  %(prefix)s || (i %% 500),
  jsonb_build_object(
    'gender', (ARRAY['all', 'female', 'male', 'non-binary'])[1 + i %% 4],
    'ageRange', jsonb_build_object('min', 18 + i %% 30, 'max', 30 + i %% 40),
    'location', jsonb_build_object(
      'countries', jsonb_build_array((ARRAY['US', 'CA', 'GB', 'DE', 'FR'])[1 + i %% 5]),
      'cities', jsonb_build_array(CASE WHEN i %% 1000 = 7 THEN 'Reykjavik'
                                       ELSE (ARRAY['New York', 'London', 'Berlin', 'Paris', 'Toronto'])[1 + i %% 5] END))),
  ARRAY[(ARRAY['technology', 'cooking', 'travel', 'fitness', 'reading', 'gaming', 'music'])[1 + i %% 7],
        (ARRAY['coffee', 'tea', 'wine', 'yoga', 'hiking'])[1 + i %% 5]],
  '{"devicePreferences": ["mobile"]}'::jsonb,
  '{}'::jsonb,
  '{"source": "imported"}'::jsonb
FROM generate_series(%(start)s, %(stop)s) AS i
"""

FTS_TERM = "marathon runner"
CONTAINS = {"location": {"cities": ["Reykjavik"]}}


def _ensure_rows() -> int:
    from django.db import connection

    from profiles.models import TargetCustomerProfile

    have = TargetCustomerProfile.all_objects.filter(account_id__startswith=ACCOUNT_PREFIX).count()
    with connection.cursor() as cursor:
        if have < ROWS:
            cursor.execute(GENERATE, {"prefix": ACCOUNT_PREFIX, "start": have + 1, "stop": ROWS})
        # Flushes the GIN pending lists of a bulk load (autovacuum does it in production) and
        # refreshes statistics, so both measurements see settled indexes.
        cursor.execute("VACUUM ANALYZE target_customer_profiles")
    return TargetCustomerProfile.all_objects.filter(account_id__startswith=ACCOUNT_PREFIX).count()


def _timed(fn, *, indexes: bool) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        value = "on" if indexes else "off"
        cursor.execute(f"SET enable_indexscan = {value}")
        cursor.execute(f"SET enable_bitmapscan = {value}")
    try:
        return per_call(fn, repeat=15, warmup=2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_indexscan")
            cursor.execute("RESET enable_bitmapscan")


def _container_queries() -> tuple[int, int]:
    from rest_framework.test import APIClient

    from accounts.models import User
    from profiles import services
    from profiles.models import ProfileContainer

    staff = User.objects.filter(email="bench.profiles@focusedroom.local").first()
    if staff is None:
        staff = User.objects.create_superuser("bench.profiles@focusedroom.local", None)
    container = ProfileContainer.objects.filter(account_id="benchdetail", name="Bench container").first()
    if container is None:
        data = {"name": "Bench container"}
        data["customer_profile"] = services.customer_profile_create(
            account_id="benchdetail", data={"name": "Bench profile"}, actor=staff
        )
        data["brand_guidelines"] = services.brand_guidelines_create(
            account_id="benchdetail", data={"brand_name": "Bench brand"}, actor=staff
        )
        data["budget"] = services.budget_create(
            account_id="benchdetail", data={"name": "Bench budget", "amount": "100.00"}, actor=staff
        )
        container = services.container_create(account_id="benchdetail", data=data, actor=staff)
    client = APIClient()
    client.force_authenticate(staff)
    url = f"/api/v1/profile-containers/{container.pk}/"
    client.get(url)
    with captured_statements() as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    endpoint = [
        q["sql"]
        for q in captured.captured_queries
        if "focusedroom_counter" not in q["sql"]
        and not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))
    ]
    with captured_statements() as naive:
        row = ProfileContainer.objects.get(pk=container.pk)
        _ = (row.customer_profile, row.brand_guidelines, row.budget, row.budget.alert_firings.count())
    return len(endpoint), len(naive.captured_queries)


def run() -> list[Result]:
    from profiles import selectors
    from profiles.models import TargetCustomerProfile

    count = _ensure_rows()
    live = TargetCustomerProfile.objects.filter(account_id__startswith=ACCOUNT_PREFIX)
    search = selectors.full_text_search(live, FTS_TERM)[:20]
    contains = live.filter(demographics__contains=CONTAINS).order_by("-created_at")[:20]
    assert len(list(search)) == 20 and len(list(contains)) == 20

    results = []
    for label, queryset, note in (
        ("full-text search (?search=)", search, "GIN on the generated tsvector column"),
        ("JSON containment (demographics @>)", contains, "GIN on demographics"),
    ):
        with_index = _timed(lambda qs=queryset: list(qs.all()), indexes=True)
        without = _timed(lambda qs=queryset: list(qs.all()), indexes=False)
        results.append(
            Result(
                f"{label}, {count:,} profiles",
                1 / with_index,
                "queries/s",
                "same query, index scans off",
                1 / without if without else float("nan"),
                note + f" ({with_index * 1000:.2f} ms vs {without * 1000:.1f} ms)",
            )
        )
    endpoint, naive = _container_queries()
    results.append(
        Result(
            "GET /api/v1/profile-containers/<id>/ (3 records embedded)",
            endpoint,
            "queries",
            "loading the records one by one",
            naive,
            "one JOIN; throttle-cache queries and BEGIN/COMMIT not counted",
            higher_is_better=False,
        )
    )
    return results
