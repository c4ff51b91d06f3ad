"""Reads of the engagement app that other apps and views may use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.selectors import channels, customers, day_start
from engagement.bigfive import reliability, report
from engagement.bigfive.inventory import DISPLAY_ORDER, DOMAINS
from engagement.models import (
    BIG_FIVE_LATEST_VIEW,  # noqa: F401  (re-exported: the view's name, for higher apps' SQL)
    BigFiveLatest,
    BlogEngagement,
    BlogEngagementType,
    CompareLink,
    Event,
    QuizResult,
    QuizType,
)
from focusedroom.db import analytics_alias

# Seed 001's verification queries, verbatim.
SEED_001_DUPLICATE_EMAILS_SQL = "SELECT email_id, COUNT(*) FROM customer GROUP BY email_id HAVING COUNT(*) > 1;"
SEED_001_REPORT_TRACKING_SQL = """SELECT customer_id, email_id, COUNT(*) as tests, MAX(report_id) as latest
FROM customer c JOIN big_five_result bfr ON c.customer_id = bfr.customer_id
GROUP BY customer_id, email_id HAVING COUNT(*) > 1;"""


# The event log's table, for analytics SQL in higher apps (AI profiles).
EVENT_LOG_TABLE = Event._meta.db_table


# The trait columns of ``big_five_latest`` by domain code: for higher apps that narrow people by personality.
BIG_FIVE_LATEST_COLUMNS: dict[str, str] = {
    "O": "openness",
    "C": "conscientiousness",
    "E": "extraversion",
    "A": "agreeableness",
    "N": "neuroticism",
}


def big_five_latest() -> QuerySet[BigFiveLatest]:
    """One row per live customer: latest Big Five percentiles (NULL without a result) and, as of the last
    refresh, age, country, channel, career stage and consent fields (the materialised view)."""
    return BigFiveLatest.objects.all()


def event_count(*, user, event_type: str, since=None, brand_id: int | None = None) -> int:
    """How many events of a type the person has (since a moment, for a brand)."""
    events = Event.objects.filter(user=user, event_type=event_type)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if brand_id:
        events = events.filter(brand_id=brand_id)
    return events.count()


def events_of_person(*, user, event_types: list[str], after_id: int = 0, limit: int = 50) -> list[Event]:
    """The person's events of these types with an id above ``after_id``, oldest first."""
    return list(
        Event.objects.filter(user=user, event_type__in=event_types, id__gt=after_id)
        .select_related("brand")
        .order_by("id")[:limit]
    )


def latest_event_id(*, user, event_types: list[str]) -> int:
    """The id of the person's latest event of these types (0 when none)."""
    return (
        Event.objects.filter(user=user, event_type__in=event_types).order_by("-id").values_list("id", flat=True).first()
        or 0
    )


def recent_events_of_person(*, user, event_types: list[str], limit: int = 20) -> list[Event]:
    """The person's latest events of these types, newest first."""
    return list(
        Event.objects.filter(user=user, event_type__in=event_types).select_related("brand").order_by("-id")[:limit]
    )


def quiz_results_of_person(*, user, quiz_type: str = QuizType.BIG_FIVE) -> QuerySet[QuizResult]:
    """A person's results of one quiz type, oldest first (report 1, 2, 3…)."""
    return QuizResult.objects.filter(customer=user, quiz_type=quiz_type).order_by("report_id")


def quiz_result_count_of_person(*, user, quiz_type: str = QuizType.BIG_FIVE) -> int:
    return QuizResult.objects.filter(customer=user, quiz_type=quiz_type).count()


def quiz_result_latest_of_person(*, user, quiz_type: str = QuizType.BIG_FIVE) -> QuizResult | None:
    return QuizResult.objects.filter(customer=user, quiz_type=quiz_type).order_by("-report_id").first()


def big_five_traits_before_many(*, participants: list[tuple[int | None, str, Any]]) -> list[dict[str, Any] | None]:
    """What each participant — ``(user id or None, anonymous id, before)``, in the answer's order —
    was measured as in their latest Big Five test taken before ``before``: the five domain
    percentiles and levels and the norm group, or None.

    Experiments record it at a participant's first exposure (segments and regression adjustment need
    traits measured before the exposure, never after). At most two indexed queries (people, visitors)
    for any number of participants: the exposure writer asks for a whole batch at once."""
    by_user: dict[int, list[int]] = {}
    by_visitor: dict[str, list[int]] = {}
    for i, (user_id, anonymous_id, _) in enumerate(participants):
        if user_id is not None:
            by_user.setdefault(user_id, []).append(i)
        elif anonymous_id:
            by_visitor.setdefault(anonymous_id, []).append(i)
    results = QuizResult.objects.filter(quiz_type=QuizType.BIG_FIVE)
    queries = (
        (by_user, results.filter(customer_id__in=list(by_user)).annotate(who=F("customer_id"))),
        (by_visitor, results.annotate(who=KT("quiz_metadata__anonymous_id")).filter(who__in=list(by_visitor))),
    )
    latest: dict[int, tuple] = {}  # participant's index -> (scores, norm group, created_at) of their latest test
    for wanted, query in queries:
        if not wanted:
            continue
        until = max(participants[i][2] for indexes in wanted.values() for i in indexes)
        rows = query.filter(created_at__lt=until).values_list("who", "scores", "norm_group", "created_at")
        for who, scores, norm_group, created_at in rows:
            for i in wanted.get(who, ()):
                if created_at < participants[i][2] and (i not in latest or created_at > latest[i][2]):
                    latest[i] = (scores, norm_group, created_at)
    return [
        traits_of(scores=latest[i][0], norm_group=latest[i][1], measured_at=latest[i][2]) if i in latest else None
        for i in range(len(participants))
    ]


def traits_of(*, scores: dict[str, Any], norm_group: str, measured_at) -> dict[str, Any] | None:
    """The domain part of a stored ``scores`` JSON (None when it has no domain percentiles)."""
    percentiles = (scores or {}).get("percentiles") or {}
    if not all(d in percentiles for d in DOMAINS):
        return None
    levels = scores.get("levels") or {}
    return {
        "percentiles": {d: percentiles[d] for d in DOMAINS},
        "levels": {d: levels.get(d, "") for d in DOMAINS},
        "norm_group": norm_group or (scores.get("norm_group") or {}).get("id", ""),
        "measured_at": measured_at.isoformat(),
    }


def quiz_result_get(*, public_id: str) -> QuizResult | None:
    """A result by its public id (the unguessable id of its URL), or None — also for a deleted
    or erased person's results (erasure gives them new ids too, so an old link stays dead)."""
    if not public_id or len(public_id) > 32:
        return None
    return (
        QuizResult.objects.select_related("customer")
        .filter(Q(customer__isnull=True) | Q(customer__deleted_at__isnull=True), public_id=public_id)
        .first()
    )


def quiz_result_is_owner(*, result: QuizResult, user) -> bool:
    """The viewer is the logged-in person the result belongs to: they see its number and their history.

    Anyone else holding the link (the report URL is shareable) sees the scores only."""
    return bool(
        result.customer_id is not None
        and user is not None
        and getattr(user, "is_authenticated", False)
        and user.pk == result.customer_id
    )


def bigfive_prefill(*, user) -> dict[str, Any]:
    """A logged-in member's demographics for the test form: their profile, and the sex of their latest test."""
    initial = {f: getattr(user, f) for f in ("name", "age", "profession", "career_stage", "purpose")}
    initial["sex"] = (
        QuizResult.objects.filter(customer=user, quiz_type=QuizType.BIG_FIVE)
        .exclude(sex="")
        .order_by("-report_id")
        .values_list("sex", flat=True)
        .first()
        or ""
    )
    return {k: v for k, v in initial.items() if v not in (None, "")}


def bigfive_history_panel(*, user, request=None) -> dict[str, Any]:
    """The member's Big Five reports for ``/account/`` (newest first)."""
    reports = list(
        QuizResult.objects.filter(customer=user, quiz_type=QuizType.BIG_FIVE)
        .order_by("-report_id")
        .only("public_id", "report_id", "created_at")[:20]
    )
    return {"reports": reports}


def visitor_ids_of_person(*, user) -> set[str]:
    """The anonymous visitor ids a person's browsers used (their tests and events): GDPR erasure
    reaches what those browsers recorded before the person identified."""
    ids = {
        value
        for value in QuizResult.objects.filter(Q(customer=user) | Q(pending__user=user))
        .values_list("quiz_metadata__anonymous_id", flat=True)
        .distinct()
        if value
    }
    events = Event.objects.filter(user=user).exclude(anonymous_id="")
    ids.update(events.values_list("anonymous_id", flat=True).distinct())
    return ids


def quiz_result_previous(*, result: QuizResult) -> QuizResult | None:
    """The same customer's report just before this one (None for anonymous or first reports)."""
    if result.customer_id is None or not result.report_id or result.report_id <= 1:
        return None
    return (
        QuizResult.objects.filter(
            customer_id=result.customer_id, quiz_type=result.quiz_type, report_id__lt=result.report_id
        )
        .order_by("-report_id")
        .first()
    )


def quiz_results_for_staff() -> QuerySet[QuizResult]:
    return QuizResult.objects.select_related("customer", "customer__channel")


def bigfive_report(*, result: QuizResult, previous: QuizResult | None = None) -> dict[str, Any]:
    """What the results page (and its print version) shows, ready for the template (``bigfive.report``)."""
    data = report.report(scores=result.scores, previous=previous.scores if previous is not None else None)
    insights = (result.result_details or {}).get("insights") or {}
    data.update(
        {
            "paragraphs": [insights["domains"][d] for d in DISPLAY_ORDER if d in insights.get("domains", {})],
            "suggestion_list": insights.get("suggestions", []),
            "previous": previous,
        }
    )
    return data


def bigfive_reports_of_member(*, user) -> dict[str, Any]:
    """Every Big Five report of the member, newest first, with each domain's trend across reports
    (oldest first) and whether each report's change since the one before exceeds measurement error.

    One query whatever the number of reports."""
    results = list(
        QuizResult.objects.filter(customer=user, quiz_type=QuizType.BIG_FIVE)
        .order_by("report_id")
        .only("public_id", "report_id", "created_at", "scores", "norm_group")
    )
    rows = []
    previous = None
    for result in results:
        rows.append(report_row(result=result, previous=previous))
        previous = result
    trend = [
        {
            "code": code,
            "name": DOMAINS[code],
            "points": [
                {
                    "report_id": row["report_id"],
                    "created_at": row["created_at"],
                    "percentile": row["percentiles"][code],
                    "reliable": bool(row["changes"].get(code, {}).get("reliable")),
                }
                for row in rows
            ],
        }
        for code in DISPLAY_ORDER
    ]
    return {"reports": rows[::-1], "trend": trend, "count": len(rows)}


def report_rows(*, results: list[QuizResult]) -> list[dict[str, Any]]:
    """``report_row`` for a page of one person's results (any order), each with the report before it:
    one query for the report just before the oldest of the page, whatever the page size."""
    if not results:
        return []
    ordered = sorted(results, key=lambda r: r.report_id)
    before = quiz_result_previous(result=ordered[0])
    previous_of = {}
    for result in ordered:
        previous_of[result.pk] = before if before is None or before.report_id < result.report_id else None
        before = result
    return [report_row(result=r, previous=previous_of[r.pk]) for r in results]


def report_row(*, result: QuizResult, previous: QuizResult | None) -> dict[str, Any]:
    """One line of "My reports": date, norm group, the five percentiles and levels, the change since the
    report before (in percentile points, and whether it exceeds measurement error)."""
    scores = result.scores
    changes = {}
    if previous is not None:
        for code, change in reliability.domain_changes(earlier=previous.scores, later=scores).items():
            changes[code] = {
                "points": scores["percentiles"][code] - previous.scores["percentiles"][code],
                "reliable": change.reliable,
                "direction": change.direction,
            }
    return {
        "public_id": result.public_id,
        "report_id": result.report_id,
        "created_at": result.created_at,
        "norm_group": scores.get("norm_group", {}),
        "percentiles": {code: scores["percentiles"][code] for code in DISPLAY_ORDER},
        "levels": {code: scores["levels"][code] for code in DISPLAY_ORDER},
        "domains": [
            {
                "code": code,
                "short_name": DOMAINS[code].split()[0],
                "percentile": scores["percentiles"][code],
                "level": scores["levels"][code],
                "change": changes.get(code),
            }
            for code in DISPLAY_ORDER
        ],
        "changes": changes,
        "previous_report_id": previous.report_id if previous is not None else None,
    }


# ------------------------------------------------------------------ how long the test takes

DURATION_SAMPLE = 500  # the latest timed tests the median is taken from
DURATION_MIN_SAMPLE = 20  # fewer timed tests: the estimate below is shown instead
DURATION_PLAUSIBLE_SECONDS = (120, 3 * 3600)  # a faster "test" did not read the statements; a slower one paused
# Until enough tests are timed: 120 statements at about 5 seconds each (read, decide, click) plus a
# minute or two for the first page. An estimate, replaced by the measured median as soon as it exists.
DURATION_ESTIMATE_MINUTES = 12
DURATION_CACHE_SECONDS = 3600
_duration_cache: dict[str, Any] = {}

_DURATION_SQL = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds), COUNT(*)
  FROM (SELECT (quiz_metadata ->> 'duration_seconds')::int AS seconds
          FROM engagement_quizresult
         WHERE quiz_type = %s AND created_at >= %s
           AND jsonb_typeof(quiz_metadata -> 'duration_seconds') = 'number'
         ORDER BY created_at DESC
         LIMIT %s) AS timed
 WHERE seconds BETWEEN %s AND %s
"""


def bigfive_duration(*, refresh: bool = False) -> dict[str, Any]:
    """How long the test takes: the median of the latest timed tests, in whole minutes.

    ``{"minutes": 11, "measured": True, "sample": 240, "median_seconds": 655.0}``; with fewer than
    ``DURATION_MIN_SAMPLE`` timed tests, the estimate (``measured`` False). Kept in this process for
    an hour (a read that writes nothing: no shared cache row)."""
    now = timezone.now()
    cached = _duration_cache.get("value")
    if cached is not None and not refresh and _duration_cache["until"] > now:
        return cached
    with connection.cursor() as cursor:
        cursor.execute(
            _DURATION_SQL,
            [QuizType.BIG_FIVE, now - timedelta(days=180), DURATION_SAMPLE, *DURATION_PLAUSIBLE_SECONDS],
        )
        median, sample = cursor.fetchone()
    if sample >= DURATION_MIN_SAMPLE and median is not None:
        value = {"minutes": max(1, round(median / 60)), "measured": True, "sample": sample, "median_seconds": median}
    else:
        value = {"minutes": DURATION_ESTIMATE_MINUTES, "measured": False, "sample": sample, "median_seconds": median}
    _duration_cache.update(value=value, until=now + timedelta(seconds=DURATION_CACHE_SECONDS))
    return value


# ---------------------------------------------------------------------- compare links


def compare_links_of_person(*, user) -> list[CompareLink]:
    """The person's compare links (made or joined), newest first, with both sides' people."""
    return list(
        CompareLink.objects.filter(Q(owner=user) | Q(guest=user))
        .select_related("owner", "guest", "owner_result", "guest_result")
        .order_by("-created_at", "-id")[:50]
    )


def compare_link_of_viewer(*, public_id: str, user) -> CompareLink | None:
    """A compare link seen by one of its two people (None for anyone else, or when a side is gone)."""
    if not public_id or len(public_id) > 32 or user is None or not getattr(user, "is_authenticated", False):
        return None
    link = (
        CompareLink.objects.select_related("owner", "guest", "owner_result", "guest_result")
        .filter(Q(owner=user) | Q(guest=user), public_id=public_id, owner__deleted_at__isnull=True)
        .first()
    )
    if link is None or (link.guest is not None and link.guest.deleted_at is not None):
        return None
    return link


def person_first_name(user) -> str:
    """How a comparison names a person: their first name, else the first word of their name."""
    return (user.first_name or (user.name or "").split(" ")[0] or "").strip()[:100]


def compare_link_view(*, link: CompareLink, viewer) -> dict[str, Any]:
    """The comparison as one of its two people sees it: "you" first, the other person second."""
    viewer_is_owner = viewer.pk == link.owner_id
    mine, theirs = (link.owner_result, link.guest_result) if viewer_is_owner else (link.guest_result, link.owner_result)
    other = link.guest if viewer_is_owner else link.owner
    other_name = person_first_name(other) if other is not None else ""
    rows = []
    if theirs is not None and link.revoked_at is None:
        rows = report.comparison(
            first=mine.scores, second=theirs.scores, first_name="You", second_name=other_name or "The other person"
        )
    return {
        "link": link,
        "viewer_is_owner": viewer_is_owner,
        "other": other,
        "other_name": other_name or "the other person",
        "mine": mine,
        "theirs": theirs,
        "rows": rows,
    }


def blog_engagement_summary(*, post_slug: str, user_identifier: str = "") -> dict[str, Any]:
    """Counts per engagement type for a post, in one query, and what this visitor already did."""
    counts = BlogEngagement.objects.filter(post_slug=post_slug).aggregate(
        **{t: Count("id", filter=Q(engagement_type=t)) for t in BlogEngagementType.values},
        **{
            f"mine_{t}": Count("id", filter=Q(engagement_type=t, user_identifier=user_identifier))
            for t in BlogEngagementType.values
        },
    )
    return {
        "post_slug": post_slug,
        "counts": {t: counts[t] for t in BlogEngagementType.values},
        "total": sum(counts[t] for t in BlogEngagementType.values),
        "mine": [t for t in BlogEngagementType.values if user_identifier and counts[f"mine_{t}"]],
    }


def _share(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


_HISTORY_SQL = """
SELECT COUNT(*),
       COUNT(*) FILTER (WHERE tests > 1),
       COUNT(*) FILTER (WHERE latest <> tests OR first <> 1),
       COUNT(*) FILTER (WHERE distinct_reports <> tests)
  FROM (SELECT customer_id,
               COUNT(*) AS tests,
               COUNT(DISTINCT report_id) AS distinct_reports,
               MIN(report_id) AS first,
               MAX(report_id) AS latest
          FROM engagement_quizresult
         WHERE quiz_type = %s AND customer_id IS NOT NULL
         GROUP BY customer_id) per_customer
"""


def _report_history(quiz_type: str = QuizType.BIG_FIVE) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY_SQL, [quiz_type])
        with_tests, several, gaps, duplicates = cursor.fetchone()
    return {
        "customers_with_tests": with_tests,
        "customers_with_several_tests": several,
        "report_id_gaps": gaps,
        "report_id_duplicates": duplicates,
    }


def data_quality_report() -> dict[str, Any]:
    """Seed 001's checks and seed 000's "Data Quality" section, aggregated in SQL.

    ``problems`` lists broken invariants (duplicate emails, report_id gaps or
    duplicates, customers without a channel); ``manage.py data_quality`` exits
    non-zero when it is not empty.
    """
    people = customers()
    totals = people.aggregate(
        customers=Count("id"),
        with_name=Count("id", filter=~Q(name="")),
        with_career_stage=Count("id", filter=~Q(career_stage="")),
        with_age=Count("id", filter=Q(age__isnull=False)),
        with_profession=Count("id", filter=~Q(profession="")),
        with_purpose=Count("id", filter=~Q(purpose="")),
        with_channel=Count("id", filter=Q(channel__isnull=False)),
        opted_in=Count("id", filter=Q(marketing_opt_in=True)),
    )
    n = totals["customers"]
    results = QuizResult.objects.filter(quiz_type=QuizType.BIG_FIVE)
    result_totals = results.aggregate(results=Count("id"), anonymous=Count("id", filter=Q(customer__isnull=True)))
    history = _report_history()
    per_channel = {
        c["name"]: c["customers"]
        for c in channels()
        .annotate(customers=Count("people", filter=Q(people__is_staff=False, people__deleted_at__isnull=True)))
        .values("name", "customers")
    }
    with connection.cursor() as cursor:
        cursor.execute(SEED_001_DUPLICATE_EMAILS_SQL)
        duplicate_emails = [{"email_id": row[0], "count": row[1]} for row in cursor.fetchall()]
        cursor.execute(SEED_001_REPORT_TRACKING_SQL)
        returning = [{"customer_id": r[0], "email_id": r[1], "tests": r[2], "latest": r[3]} for r in cursor.fetchall()]
    customers_without_results = people.filter(~Exists(QuizResult.objects.filter(customer=OuterRef("pk")))).count()

    problems = []
    if duplicate_emails:
        problems.append(f"{len(duplicate_emails)} duplicate email(s) in customer.")
    if history["report_id_gaps"]:
        problems.append(f"{history['report_id_gaps']} customer(s) with report_id gaps.")
    if history["report_id_duplicates"]:
        problems.append(f"{history['report_id_duplicates']} customer(s) with duplicate report_ids.")
    if n and totals["with_channel"] != n:
        problems.append(f"{n - totals['with_channel']} customer(s) without a channel.")
    return {
        "customers": n,
        "big_five_results": result_totals["results"],
        "anonymous_results": result_totals["anonymous"],
        "customers_with_tests": history["customers_with_tests"],
        "customers_without_tests": customers_without_results,
        "customers_with_several_tests": history["customers_with_several_tests"],
        "report_id_gaps": history["report_id_gaps"],
        "report_id_duplicates": history["report_id_duplicates"],
        "duplicate_emails": duplicate_emails,
        "returning_customers": returning,
        "share_percent": {
            "name": _share(totals["with_name"], n),
            "career_stage": _share(totals["with_career_stage"], n),
            "age": _share(totals["with_age"], n),
            "profession": _share(totals["with_profession"], n),
            "purpose": _share(totals["with_purpose"], n),
            "channel": _share(totals["with_channel"], n),
            "marketing_opt_in": _share(totals["opted_in"], n),
        },
        "channels": per_channel,
        "problems": problems,
    }


def with_test_counts(queryset: QuerySet, *, quiz_type: str = QuizType.BIG_FIVE, name: str = "tests_count") -> QuerySet:
    """Annotate a queryset of people with their number of results of a quiz type (one SQL query)."""
    counts = (
        QuizResult.objects.filter(customer=OuterRef("pk"), quiz_type=quiz_type)
        .order_by()
        .values("customer")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(**{name: Coalesce(Subquery(counts, output_field=IntegerField()), 0)})


def quiz_tests_per_day(*, days: int = 30, quiz_type: str = QuizType.BIG_FIVE) -> dict[str, Any]:
    """Tests per day for the last ``days`` days, with how many gave an email and opted in (one query)."""
    since = timezone.localdate() - timedelta(days=days - 1)
    rows = (
        QuizResult.objects.using(analytics_alias())  # the dashboard's aggregate: the replica
        .filter(quiz_type=quiz_type, created_at__gte=day_start(since))
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            total=Count("id"),
            with_email=Count("id", filter=Q(customer__isnull=False)),
            opt_in=Count("id", filter=Q(customer__marketing_opt_in=True)),
        )
        .order_by()
    )
    per_day = {"with_email": [0] * days, "anonymous": [0] * days}
    totals = {"total": 0, "with_email": 0, "opt_in": 0}
    for row in rows:
        i = (row["day"] - since).days
        per_day["with_email"][i] = row["with_email"]
        per_day["anonymous"][i] = row["total"] - row["with_email"]
        for key in totals:
            totals[key] += row[key]
    return {
        "since": since,
        "days": [since + timedelta(days=i) for i in range(days)],
        "per_day": per_day,
        **totals,
        "anonymous": totals["total"] - totals["with_email"],
        "with_email_share": _share(totals["with_email"], totals["total"]),
        "opt_in_share": _share(totals["opt_in"], totals["total"]),
    }


def person_seen_from_ip(*, user, ip: str, since) -> bool:
    """Whether the person's events came from this IP address since ``since`` (referral fraud rules)."""
    return Event.objects.filter(user=user, created_at__gte=since, ip_address=ip).exists()
