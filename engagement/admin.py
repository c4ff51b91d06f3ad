"""Operator console: event log, quiz results and blog engagement (all read-only).

The outbox monitor, webhook log and AI profiles live in ``integrations.admin``.
"""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from engagement.bigfive.inventory import DISPLAY_ORDER, DOMAINS, FACETS
from engagement.bigfive.norms import NORM_GROUPS
from engagement.customer_csv import customers_export
from engagement.models import BlogEngagement, Event, QuizResult
from engagement.selectors import with_test_counts
from focusedroom import registries
from focusedroom.admin_tools import ReadOnlyAdmin, fixed_values_filter, indexed_values_filter
from focusedroom.context import DEVICE_TYPES as KNOWN_DEVICE_TYPES

DEVICE_TYPES = [*KNOWN_DEVICE_TYPES, ""]  # "" when the request had no user agent


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "user", "anonymous_id", "points_awarded", "device_type")
    list_filter = (indexed_values_filter("event_type"), fixed_values_filter("device_type", DEVICE_TYPES))
    search_fields = ("user__email", "anonymous_id")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


def _levels_summary(result: QuizResult) -> str:
    levels = (result.scores or {}).get("levels") or {}
    percentiles = (result.scores or {}).get("percentiles") or {}
    return " · ".join(f"{d} {levels[d][0].upper()}{percentiles.get(d, '')}" for d in DISPLAY_ORDER if d in levels)


def _scores_table(result: QuizResult):
    scores = result.scores or {}
    if not scores.get("levels"):
        return "—"
    facets = scores.get("facets", {})
    rows = []
    for d in DISPLAY_ORDER:
        rows.append(
            format_html(
                "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                DOMAINS[d],
                scores["raw_scores"][d],
                scores["t_scores"][d],
                scores["percentiles"][d],
                scores["levels"][d],
            )
        )
        for i, name in enumerate(FACETS[d], start=1):
            code = f"{d}{i}"
            rows.append(
                format_html(
                    '<tr><td style="padding-left:1.5em">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                    name,
                    facets["raw_scores"][code],
                    facets["t_scores"][code],
                    facets["percentiles"][code],
                    facets["levels"][code],
                )
            )
    group = scores.get("norm_group", {})
    return format_html(
        "<p>Norm group: {} ({})</p><table><thead><tr><th>Domain / facet</th><th>Raw</th><th>T</th>"
        "<th>Percentile</th><th>Level</th></tr></thead><tbody>{}</tbody></table>",
        group.get("label", "—"),
        group.get("id", ""),
        format_html_join("", "{}", ((row,) for row in rows)),
    )


@admin.register(QuizResult)
class QuizResultAdmin(ReadOnlyAdmin):
    """Big Five results: read-only; scores shown as a table."""

    list_display = ("created_at", "customer", "report_id", "quiz_type", "levels", "norm_group", "earned_gems")
    list_filter = (
        "quiz_type",
        fixed_values_filter("norm_group", sorted(NORM_GROUPS)),
        "sex",
        fixed_values_filter("device_type", DEVICE_TYPES),
        ("customer", admin.EmptyFieldListFilter),
        "customer__marketing_opt_in",
        "created_at",
    )
    search_fields = ("customer__email", "public_id")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    fields = (
        "public_id",
        "customer",
        "quiz_type",
        "quiz_version",
        "report_id",
        "result_type",
        "scores_readable",
        "suggestions",
        "earned_gems",
        "sex",
        "age",
        "norm_group",
        "first_name",
        "ip_address",
        "user_agent",
        "device_type",
        "referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "session_identifier",
        "experiment_data",
        "created_at",
        "report_link",
    )
    readonly_fields = fields

    @admin.display(description="Levels (percentile)")
    def levels(self, obj):
        return _levels_summary(obj)

    @admin.display(description="Scores")
    def scores_readable(self, obj):
        return _scores_table(obj)

    @admin.display(description="Report")
    def report_link(self, obj):
        url = reverse("bigfive-result", args=[obj.public_id])
        return format_html('<a href="{}" target="_blank" rel="noopener">Open the report</a>', url)


class QuizResultInline(admin.TabularInline):
    """A customer's results, for the Customers admin (accounts)."""

    model = QuizResult
    fk_name = "customer"
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-report_id",)
    fields = ("report_id", "quiz_type", "created_at", "levels", "report_link")
    readonly_fields = fields
    verbose_name = "test result"
    verbose_name_plural = "test results"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Levels (percentile)")
    def levels(self, obj):
        return _levels_summary(obj)

    @admin.display(description="Report")
    def report_link(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("bigfive-result", args=[obj.public_id])
        return format_html('<a href="{}" target="_blank" rel="noopener">Open</a>', url)


@admin.register(BlogEngagement)
class BlogEngagementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "post_slug", "engagement_type", "short_feedback")
    list_filter = ("engagement_type", indexed_values_filter("post_slug"))
    search_fields = ("post_slug", "feedback_text")
    date_hierarchy = "created_at"
    exclude = ("user_identifier",)

    @admin.display(description="Feedback")
    def short_feedback(self, obj):
        return (obj.feedback_text[:80] + "…") if len(obj.feedback_text) > 80 else obj.feedback_text


@admin.display(description="Tests", ordering="tests_count")
def tests(obj):
    return obj.tests_count


@admin.action(description="Export selected customers as CSV", permissions=["view"])
def export_csv(modeladmin, request, queryset):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customers-{timezone.now():%Y%m%d-%H%M}.csv"'
    customers_export(stream=response, queryset=queryset.model.objects.filter(pk__in=queryset.values("pk")))
    return response


# The customer's console page (owned by accounts) shows their results, a test count and the CSV export.
registries.customer_console.register(
    "engagement",
    registries.CustomerConsoleExtension(
        inlines=[QuizResultInline], annotate=with_test_counts, list_display=[tests], actions=[export_csv]
    ),
)
