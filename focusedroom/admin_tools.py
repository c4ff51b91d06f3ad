"""Operator-console helpers for tables that grow without bound (customers, the event log,
ledger entries, quiz results, experiment traffic).

* ``EstimatedCountPaginator`` never runs ``COUNT(*)`` over a huge result: it asks the
  planner for its row estimate (``EXPLAIN``, one cheap query) and counts exactly only when
  the estimate is small. Page numbers past the real end redirect to the first page, as
  Django's admin does for any page out of range.
* ``fixed_values_filter`` replaces Django's ``AllValuesFieldListFilter`` (a ``SELECT
  DISTINCT`` over the whole table on every page view) with a known list of values.
* ``indexed_values_filter`` lists the distinct values of a column that leads a B-tree
  index with a loose index scan (one index probe per value), not a full scan.
* ``DatabaseFilledFieldsHidden`` leaves the columns the database fills (timestamps with a
  database default, generated columns) off add forms: a record that does not exist yet has
  no value to show. The console's site applies it to every registered admin.
* ``humanize_age`` says how long ago something happened in words ("24 minutes").
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import NOT_PROVIDED, QuerySet
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 10_000


def estimated_count(queryset: QuerySet) -> int:
    """The planner's estimate of the rows ``queryset`` returns (one EXPLAIN, no scan)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a filter no row can match (e.g. an id beyond the column's range)
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            estimate = estimated_count(self.object_list)
            if estimate >= EXACT_COUNT_LIMIT:
                return estimate
        return super().count


class LargeTableAdminMixin:
    """For changelists over tables with millions of rows."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False


def fixed_values_filter(field_name: str, values: list[str], *, title: str | None = None):
    """A list filter offering ``values`` for ``field_name`` without reading the table."""

    class FixedValuesFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            return [(v, v or "(empty)") for v in values]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field_name: value}) if value is not None else queryset

    FixedValuesFilter.title = title or field_name.replace("_", " ")
    return FixedValuesFilter


LOOSE_SCAN_SQL = """
WITH RECURSIVE v AS (
    (SELECT {col} AS value FROM {table} ORDER BY {col} LIMIT 1)
    UNION ALL
    SELECT (SELECT {col} FROM {table} WHERE {col} > v.value ORDER BY {col} LIMIT 1) FROM v WHERE v.value IS NOT NULL
)
SELECT value FROM v WHERE value IS NOT NULL LIMIT 200
"""


def indexed_values_filter(field_name: str, *, title: str | None = None):
    """A list filter over the distinct values of an indexed column (loose index scan)."""

    class IndexedValuesFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            model = model_admin.model
            connection = connections[model.objects.db]
            quote = connection.ops.quote_name
            column = model._meta.get_field(field_name).column
            sql = LOOSE_SCAN_SQL.format(col=quote(column), table=quote(model._meta.db_table))
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return [(row[0], row[0]) for row in cursor.fetchall()]

        def queryset(self, request, queryset):
            value = self.value()
            return queryset.filter(**{field_name: value}) if value is not None else queryset

    IndexedValuesFilter.title = title or field_name.replace("_", " ")
    return IndexedValuesFilter


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services (logs, ledgers, traffic): viewable, never added, changed or deleted here.

    Their tables grow without bound, so pages show an estimated count instead of ``COUNT(*)``.
    """

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def database_fills(field) -> bool:
    """Whether the database (or the save) gives ``field`` its value: a new record has none yet."""
    if not isinstance(field, models.Field):
        return False
    return (
        isinstance(field, models.GeneratedField)
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
        or (field.db_default is not NOT_PROVIDED and not field.has_default())
    )


class DatabaseFilledFieldsHidden:
    """Add forms leave out the read-only fields the database fills (``created_at``, generated
    columns, …): an unsaved record has no value for them, only a placeholder object."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        readonly = set(self.get_readonly_fields(request, obj))
        hidden = {f.name for f in self.model._meta.get_fields() if f.name in readonly and database_fills(f)} | set(
            getattr(self, "hidden_on_add", ())
        )
        if not hidden:
            return fieldsets
        kept = []
        for name, options in fieldsets:
            fields = []
            for entry in options.get("fields", ()):
                if isinstance(entry, list | tuple):
                    line = tuple(f for f in entry if f not in hidden)
                    if line:
                        fields.append(line)
                elif entry not in hidden:
                    fields.append(entry)
            if fields:
                kept.append((name, {**options, "fields": fields}))
        return kept


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def humanize_age(age: timedelta | None) -> str:
    """``timedelta(minutes=24, seconds=4)`` -> "24 minutes"; at most two units, in words."""
    if age is None:
        return "—"
    seconds = max(int(age.total_seconds()), 0)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes = seconds // 60
    if days:
        return _plural(days, "day") + (f", {_plural(hours, 'hour')}" if hours else "")
    if hours:
        return _plural(hours, "hour") + (f", {_plural(minutes, 'minute')}" if minutes else "")
    if minutes:
        return _plural(minutes, "minute")
    return "less than a minute"
