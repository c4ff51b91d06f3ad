"""Reads about people, brands and channels: what other apps may know about ``accounts``.

Other apps import this module (never ``accounts.models``): the default brand, brands and
people by key, and the value sets they validate against (career stages, Kit states) are
re-exported here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import (  # noqa: F401  (re-exported: the values other apps validate against)
    BIG_FIVE_TEST_CHANNEL_ID,
    DEFAULT_BRAND_SLUG,
    Brand,
    CareerStage,
    Channel,
    Customer,
    KitState,
    PersonChange,
    User,
    normalize_email,
)
from focusedroom.db import analytics_alias, fetch_prepared

# The people table, for analytics SQL in higher apps (AI profiles).
PEOPLE_TABLE = User._meta.db_table
BRAND_TABLE = Brand._meta.db_table
# Who changed a person's consent and when (experiments' unsubscribe guardrail).
PERSON_CHANGE_TABLE = PersonChange._meta.db_table


_PERSON_ID_SLOT = -1_000_000_007  # stands for the id while the query is compiled


@functools.cache
def _active_person_query() -> tuple[str, tuple, int, list[str], list[tuple[int, list, object]]]:
    """``active_person``'s statement, compiled by the ORM once per process: its SQL, parameters,
    the id's position among them, the columns' attribute names and each column's converters."""
    queryset = User.objects.filter(pk=_PERSON_ID_SLOT, is_active=True, deleted_at__isnull=True)
    compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    columns = [column for column, _, _ in compiler.select]
    converters = [(index, convs, expression) for index, (convs, expression) in compiler.get_converters(columns).items()]
    return sql, tuple(params), params.index(_PERSON_ID_SLOT), [c.target.attname for c in columns], converters


def active_person(user_id: int) -> User | None:
    """The person with this id if active and not deleted, with every column: the same rows as
    ``User.objects.filter(pk=…, is_active=True, deleted_at__isnull=True).first()``, at the cost of
    the statement alone, prepared once per connection (an authenticated API request reads it on every call)."""
    sql, params, slot, attnames, converters = _active_person_query()
    connection = connections[DEFAULT_DB_ALIAS]
    args = list(params)
    args[slot] = user_id
    row = fetch_prepared(sql, args, read=True)  # planned once per connection
    if row is None:
        return None
    if converters:
        row = list(row)
        for index, convs, expression in converters:
            for converter in convs:
                row[index] = converter(row[index], expression, connection)
    return User.from_db(DEFAULT_DB_ALIAS, attnames, row)


def erased_email(user_id: int) -> str:
    """The address an erased person's row keeps (unique, undeliverable)."""
    return f"erased-{user_id}@erased.invalid"


def brand_default() -> Brand:
    """FocusedRoom itself: the default brand (installed by a migration; the one lookup of it)."""
    return Brand.objects.get(slug=DEFAULT_BRAND_SLUG)


def brand_default_id() -> int | None:
    return Brand.objects.filter(slug=DEFAULT_BRAND_SLUG).values_list("pk", flat=True).first()


def brand_by_slug(slug: str, *, active_only: bool = True) -> Brand | None:
    brands = Brand.objects.filter(slug=slug)
    return (brands.filter(is_active=True) if active_only else brands).first()


def brands(*, active_only: bool = True) -> QuerySet[Brand]:
    return Brand.objects.filter(is_active=True) if active_only else Brand.objects.all()


def brand_ids_by_slug(slugs: Iterable[str]) -> dict[str, int]:
    return dict(Brand.objects.filter(slug__in=set(slugs)).values_list("slug", "pk"))


def brand_get(pk: int) -> Brand:
    return Brand.objects.get(pk=pk)


def person_get(pk: int, *, include_deleted: bool = False) -> User | None:
    """A person by id (soft-deleted people only when asked)."""
    manager = User.all_objects if include_deleted else User.objects
    return manager.filter(pk=pk).first()


def person_by_email(email: str) -> User | None:
    return User.objects.filter(email=normalize_email(email)).first()


def people(*, include_deleted: bool = False) -> QuerySet[User]:
    return User.all_objects.all() if include_deleted else User.objects.all()


def person_ids_existing(ids: Iterable) -> set:
    return set(User.objects.filter(pk__in=set(ids)).values_list("pk", flat=True))


def customers() -> QuerySet[Customer]:
    """People who are not staff (and not soft-deleted)."""
    return Customer.objects.all()


def channels() -> QuerySet[Channel]:
    return Channel.objects.all()


def holds_account(user) -> bool:
    """The address belongs to someone who has an account: a password of their own or a verified address.

    Nothing is attached to such a person, nor changed about them, without their proven act (logged
    in, or a link sent to their address). A customer record made by a test submission (no password,
    never verified) does not hold an account.
    """
    return bool(user is not None and (user.is_email_verified or user.has_usable_password()))


def is_member(user) -> bool:
    """A loyalty member: an active person who is not staff (staff earn no gems)."""
    return bool(user is not None and getattr(user, "pk", None) and not user.is_staff and user.is_active)


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in the current time zone: a range bound an index can use
    (``created_at__date__gte`` converts every row's timestamp and reads the whole table)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def new_customers_per_day(*, days: int = 30) -> dict:
    """New customers per day and channel for the last ``days`` days (one grouped query + channels)."""
    today = timezone.localdate()
    since = today - timedelta(days=days - 1)
    rows = (
        Customer.objects.using(analytics_alias())  # the dashboard's aggregate: the replica
        .filter(created_at__gte=day_start(since))
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
