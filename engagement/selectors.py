"""Reads of the engagement app that other apps and views may use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.selectors import channels, customers, day_start
from engagement.bigfive.inventory import DISPLAY_ORDER, DOMAINS, FACETS
from engagement.models import BlogEngagement, BlogEngagementType, Event, QuizResult, QuizType

# Seed 001's verification queries, verbatim.
SEED_001_DUPLICATE_EMAILS_SQL = "SELECT email_id, COUNT(*) FROM customer GROUP BY email_id HAVING COUNT(*) > 1;"
SEED_001_REPORT_TRACKING_SQL = """SELECT customer_id, email_id, COUNT(*) as tests, MAX(report_id) as latest
FROM customer c JOIN big_five_result bfr ON c.customer_id = bfr.customer_id
GROUP BY customer_id, email_id HAVING COUNT(*) > 1;"""


# The event log's table, for analytics SQL in higher apps (AI profiles).
EVENT_LOG_TABLE = Event._meta.db_table


def event_count(*, user, event_type: str, since=None, brand_id: int | None = None) -> int:
    """How many events of a type the person has (since a moment, for a brand)."""
    events = Event.objects.filter(user=user, event_type=event_type)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if brand_id:
        events = events.filter(brand_id=brand_id)
    return events.count()


def quiz_results_of_person(*, user, quiz_type: str = QuizType.BIG_FIVE) -> QuerySet[QuizResult]:
    """A person's results of one quiz type, oldest first (report 1, 2, 3…)."""
    return QuizResult.objects.filter(customer=user, quiz_type=quiz_type).order_by("report_id")


def quiz_result_count_of_person(*, user, quiz_type: str = QuizType.BIG_FIVE) -> int:
    return QuizResult.objects.filter(customer=user, quiz_type=quiz_type).count()


def quiz_result_latest_of_person(*, user, quiz_type: str = QuizType.BIG_FIVE) -> QuizResult | None:
    return QuizResult.objects.filter(customer=user, quiz_type=quiz_type).order_by("-report_id").first()


def big_five_traits_before(*, user=None, anonymous_id: str = "", before) -> dict[str, Any] | None:
    """What the person (or the visitor, by their anonymous id) was measured as in their latest Big Five
    test taken before ``before``: the five domain percentiles and levels and the norm group, or None.

    Experiments record it at a participant's first exposure (segments and regression adjustment
    need traits measured before the exposure, never after). One indexed lookup.
    """
    results = QuizResult.objects.filter(quiz_type=QuizType.BIG_FIVE, created_at__lt=before)
    if user is not None:
        results = results.filter(customer=user)
    elif anonymous_id:
        results = results.alias(visitor=KT("quiz_metadata__anonymous_id")).filter(visitor=anonymous_id)
    else:
        return None
    row = results.order_by("-created_at").values("scores", "norm_group", "created_at").first()
    if row is None:
        return None
    return traits_of(scores=row["scores"], norm_group=row["norm_group"], measured_at=row["created_at"])


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
    """What the results page (and its print version) shows, ready for the template."""
    scores = result.scores
    facets = scores["facets"]
    prev_scores = previous.scores if previous is not None else None
    domains = []
    for code in DISPLAY_ORDER:
        pct = scores["percentiles"][code]
        row = {
            "code": code,
            "name": DOMAINS[code],
            "short_name": DOMAINS[code].split()[0],
            "percentile": pct,
            "level": scores["levels"][code],
            "t_score": scores["t_scores"][code],
            "raw": scores["raw_scores"][code],
            "score": scores["scores"][code],
            "facets": [
                {
                    "code": f"{code}{i}",
                    "name": FACETS[code][i - 1],
                    "percentile": facets["percentiles"][f"{code}{i}"],
                    "level": facets["levels"][f"{code}{i}"],
                    "raw": facets["raw_scores"][f"{code}{i}"],
                }
                for i in range(1, 7)
            ],
        }
        if prev_scores is not None:
            before = prev_scores["percentiles"][code]
            row["previous_percentile"] = before
            row["change"] = pct - before
            row["previous_level"] = prev_scores["levels"][code]
        domains.append(row)
    insights = (result.result_details or {}).get("insights") or {}
    return {
        "domains": domains,
        "paragraphs": [insights["domains"][d] for d in DISPLAY_ORDER if d in insights.get("domains", {})],
        "suggestion_list": insights.get("suggestions", []),
        "norm_group": scores.get("norm_group", {}),
        "previous": previous,
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
        QuizResult.objects.filter(quiz_type=quiz_type, created_at__gte=day_start(since))
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
