"""The operator console's morning dashboard.

Each section reads through its app's selectors in a fixed number of queries, whatever
the size of the data, and is shown only to staff who may view the records behind it.
Every number links to the filtered changelist it counts. Sections are kept in the shared
cache for ``DASHBOARD_CACHE_SECONDS`` (default 120), so with millions of rows the heavy
aggregates run at most once per interval for the whole staff, not on every page view.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from focusedroom.charts import stacked_columns_svg


def changelist(model_label: str, **filters) -> str:
    app_label, model_name = model_label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def _customers(days: int) -> dict:
    from accounts.selectors import new_customers_per_day

    data = new_customers_per_day(days=days)
    since, until = data["since"].isoformat(), (timezone.localdate() + timedelta(days=1)).isoformat()
    for row in data["channels"]:
        row["url"] = changelist(
            "accounts.customer", channel__id__exact=row["channel"].id, created_at__gte=since, created_at__lt=until
        )
    data["url"] = changelist("accounts.customer", created_at__gte=since, created_at__lt=until)
    data["chart"] = stacked_columns_svg(
        days=data["days"],
        series=[(row["channel"].name, row["per_day"]) for row in data["channels"]],
        title=f"New customers per day by channel, last {days} days",
    )
    return data


def _tests(days: int) -> dict:
    from engagement.selectors import quiz_tests_per_day

    data = quiz_tests_per_day(days=days)
    since, until = data["since"].isoformat(), (timezone.localdate() + timedelta(days=1)).isoformat()
    window = {"quiz_type__exact": "big_five", "created_at__gte": since, "created_at__lt": until}
    data["url"] = changelist("engagement.quizresult", **window)
    data["with_email_url"] = changelist("engagement.quizresult", **window, customer__isempty="0")
    data["anonymous_url"] = changelist("engagement.quizresult", **window, customer__isempty="1")
    data["opt_in_url"] = changelist("engagement.quizresult", **window, customer__marketing_opt_in__exact="1")
    data["chart"] = stacked_columns_svg(
        days=data["days"],
        series=[("With email", data["per_day"]["with_email"]), ("Anonymous", data["per_day"]["anonymous"])],
        title=f"Big Five tests per day, last {days} days",
    )
    return data


def _gems() -> dict:
    from rewards.selectors import gems_this_week

    data = gems_this_week()
    since = data["since"].isoformat()
    data["issued_url"] = changelist("rewards.ledgerentry", kind__exact="CREDIT", created_at__gte=since)
    data["spent_url"] = changelist("rewards.ledgerentry", kind__exact="DEBIT", created_at__gte=since)
    data["top_achievements"] = [
        {
            "name": row["config__name"],
            "completed": row["completed_count"],
            "url": changelist("rewards.userachievement", config__id__exact=row["config_id"], completed__exact="1"),
        }
        for row in data["top_achievements"]
    ]
    return data


def _experiments() -> dict:
    from experiments.selectors import running_experiments_overview

    rows = running_experiments_overview()
    for row in rows:
        row["url"] = reverse("admin:experiments_experiment_results", args=[row["experiment"].pk])
    return {"rows": rows, "url": changelist("experiments.experiment", status__exact="running")}


def _budget_alerts() -> dict:
    from profiles.models import BudgetAlertFiring

    week_ago = timezone.now() - timedelta(days=7)
    recent = list(BudgetAlertFiring.objects.select_related("budget").order_by("-fired_at")[:5])
    for firing in recent:
        firing.url = reverse("admin:profiles_budget_change", args=[firing.budget_id])
    return {
        "recent": recent,
        "week_count": BudgetAlertFiring.objects.filter(fired_at__gte=week_ago).count(),
        "url": changelist("profiles.budget"),
    }


def _outbox() -> dict:
    from django.db.models import Count, Min, Q

    from engagement.models import OutboxMessage

    stats = OutboxMessage.objects.aggregate(
        pending=Count("id", filter=Q(status="pending")),
        processing=Count("id", filter=Q(status="processing")),
        failed=Count("id", filter=Q(status="failed")),
        oldest_pending=Min("created_at", filter=Q(status="pending")),
    )
    oldest = stats.pop("oldest_pending")
    stats["oldest_pending_age"] = timezone.now() - oldest if oldest else None
    stats["urls"] = {
        s: changelist("engagement.outboxmessage", status__exact=s) for s in ("pending", "processing", "failed")
    }
    return stats


# (permission needed, context key, builder)
SECTIONS = [
    ("accounts.view_customer", "customers", lambda: _customers(30)),
    ("engagement.view_quizresult", "tests", lambda: _tests(30)),
    ("experiments.view_experiment", "experiments", _experiments),
    ("rewards.view_ledgerentry", "gems", _gems),
    ("profiles.view_budget", "budget_alerts", _budget_alerts),
    ("engagement.view_outboxmessage", "outbox", _outbox),
]


def _section(key: str, build) -> dict:
    ttl = settings.DASHBOARD_CACHE_SECONDS
    if ttl <= 0:
        return build()
    return cache.get_or_set(f"dashboard:{key}", build, ttl)


def dashboard_context(*, request) -> dict:
    user = request.user
    return {"dashboard": {key: _section(key, build) for perm, key, build in SECTIONS if user.has_perm(perm)}}
