"""Reads about people that are more than a one-line queryset."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Channel, Customer


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in the current time zone: a range bound an index can use
    (``created_at__date__gte`` converts every row's timestamp and reads the whole table)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def new_customers_per_day(*, days: int = 30) -> dict:
    """New customers per day and channel for the last ``days`` days (one grouped query + channels)."""
    today = timezone.localdate()
    since = today - timedelta(days=days - 1)
    rows = (
        Customer.objects.filter(created_at__gte=day_start(since))
        .annotate(day=TruncDate("created_at"))
        .values("day", "channel_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    channels = list(Channel.objects.all())
    series = {c.id: [0] * days for c in channels}
    totals = {c.id: 0 for c in channels}
    for row in rows:
        if row["channel_id"] in series:
            index = (row["day"] - since).days
            series[row["channel_id"]][index] = row["n"]
            totals[row["channel_id"]] += row["n"]
    return {
        "since": since,
        "days": [since + timedelta(days=i) for i in range(days)],
        "channels": [{"channel": c, "per_day": series[c.id], "total": totals[c.id]} for c in channels],
        "total": sum(totals.values()),
    }
