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


def _window(since) -> dict[str, str]:
    """Changelist filters for ``since`` through today (the admin's date-filter parameters)."""
    until = timezone.localdate() + timedelta(days=1)
    return {"created_at__gte": since.isoformat(), "created_at__lt": until.isoformat()}


def _customers(days: int) -> dict:
    from accounts.selectors import new_customers_per_day

    data = new_customers_per_day(days=days)
    window = _window(data["since"])
    for row in data["channels"]:
        row["url"] = changelist("accounts.customer", channel__id__exact=row["channel"].id, **window)
    data["url"] = changelist("accounts.customer", **window)
    data["chart"] = stacked_columns_svg(
        days=data["days"],
        series=[(row["channel"].name, row["per_day"]) for row in data["channels"]],
        title=f"New customers per day by channel, last {days} days",
    )
    return data


def _tests(days: int) -> dict:
    from engagement.selectors import quiz_tests_per_day

    data = quiz_tests_per_day(days=days)
    window = {"quiz_type__exact": "big_five", **_window(data["since"])}
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
    from profiles.selectors import budget_alerts_recent

    data = budget_alerts_recent(limit=5, days=7)
    for firing in data["recent"]:
        firing.url = reverse("admin:profiles_budget_change", args=[firing.budget_id])
    return {"recent": data["recent"], "week_count": data["count"], "url": changelist("profiles.budget")}


def _outbox() -> dict:
    from integrations.selectors import outbox_summary

    summary = outbox_summary()
    return {
        **summary.counts,
        "oldest_pending_since": timezone.now() - summary.oldest_pending_age if summary.oldest_pending_age else None,
        "waiting": summary.waiting,
        "urls": {
            status: changelist("integrations.outboxmessage", status__exact=status)
            for status in ("pending", "processing", "failed")
        },
    }


# (permission needed, context key, builder)
SECTIONS = [
    ("accounts.view_customer", "customers", lambda: _customers(30)),
    ("engagement.view_quizresult", "tests", lambda: _tests(30)),
    ("experiments.view_experiment", "experiments", _experiments),
    ("rewards.view_ledgerentry", "gems", _gems),
    ("profiles.view_budget", "budget_alerts", _budget_alerts),
    ("integrations.view_outboxmessage", "outbox", _outbox),
]


def _section(key: str, build) -> dict:
    ttl = settings.DASHBOARD_CACHE_SECONDS
    if ttl <= 0:
        return build()
    return cache.get_or_set(f"dashboard:{key}", build, ttl)


def dashboard_context(*, request) -> dict:
    user = request.user
    return {"dashboard": {key: _section(key, build) for perm, key, build in SECTIONS if user.has_perm(perm)}}
