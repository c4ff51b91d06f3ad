"""Filters of the campaign-profile endpoints, including the seed's JSON queries."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from profiles import selectors
from profiles.models import BrandGuidelines, Budget, CampaignProfileUsage, ProfileContainer, TargetCustomerProfile


class NumberPairFilter(django_filters.BaseCSVFilter, django_filters.NumberFilter):
    """``?age_overlap=25,40``: two numbers (either may be left empty: ``25,`` or ``,40``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", "Two comma-separated ages, e.g. 25,40; leave one side empty for an open end.")
        super().__init__(*args, **kwargs)


def _pair(name: str, values) -> tuple[int | None, int | None]:
    if len(values) != 2:
        raise ValidationError({name: ["Give two comma-separated ages, e.g. 25,40."]})
    low, high = (int(v) if v is not None else None for v in values)
    if low is not None and high is not None and low > high:
        raise ValidationError({name: ["The first age is above the second."]})
    return low, high


@extend_schema_field(OpenApiTypes.STR)
class JSONParamFilter(django_filters.Filter):
    """A JSON document in a query parameter, e.g. ``?demographics_contains={"gender":"female"}``."""

    field_class = forms.JSONField

    def __init__(self, *args, json_field: str, **kwargs):
        self.json_field = json_field
        kwargs.setdefault("help_text", f"JSON that `{json_field}` contains (containment, @>).")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if not isinstance(value, dict | list):
            raise ValidationError({self.field_name: ["Give a JSON object or array."]})
        return qs.filter(**{f"{self.json_field}__contains": value})


class CSVStringsFilter(django_filters.BaseCSVFilter, django_filters.CharFilter):
    pass


class RecordFilter(django_filters.FilterSet):
    """Filters shared by profiles, guidelines, budgets and containers."""

    account_id = django_filters.CharFilter()
    search = django_filters.CharFilter(method="filter_search", help_text="Full-text search (web-search syntax).")
    deleted = django_filters.BooleanFilter(
        method="filter_deleted", help_text="true: only soft-deleted records; false (default): only live ones."
    )

    def filter_queryset(self, queryset):
        if self.form.cleaned_data.get("deleted") is None:
            queryset = queryset.filter(deleted_at__isnull=True)
        return super().filter_queryset(queryset)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return selectors.full_text_search(queryset, value) if value else queryset

    def filter_deleted(self, queryset, name, value):
        return queryset.filter(deleted_at__isnull=not value)


class CustomerProfileFilter(RecordFilter):
    gender = django_filters.CharFilter(field_name="demographics__gender", help_text="demographics.gender equals.")
    age_overlap = NumberPairFilter(method="filter_age_overlap")
    age_within = NumberPairFilter(method="filter_age_within")
    demographics_has_key = django_filters.CharFilter(field_name="demographics", lookup_expr="has_key")
    demographics_contains = JSONParamFilter(json_field="demographics")
    behavior_contains = JSONParamFilter(json_field="behavior")
    persona_contains = JSONParamFilter(json_field="persona")
    interests = CSVStringsFilter(field_name="interests", lookup_expr="overlap", help_text="Any of these interests.")
    interests_all = CSVStringsFilter(field_name="interests", lookup_expr="contains", help_text="All of these.")

    class Meta:
        model = TargetCustomerProfile
        fields = ["account_id", "is_active", "is_default"]

    def filter_age_overlap(self, queryset, name, value):
        return queryset.filter(selectors.age_range_overlaps(*_pair(name, value)))

    def filter_age_within(self, queryset, name, value):
        low, high = _pair(name, value)
        if low is None or high is None:
            raise ValidationError({name: ["Give both ages, e.g. 25,40."]})
        return queryset.filter(selectors.age_range_within(low, high))


class BrandGuidelinesFilter(RecordFilter):
    industry = django_filters.CharFilter(lookup_expr="iexact")
    brand_values = CSVStringsFilter(field_name="brand_values", lookup_expr="overlap")
    high_level_guidelines_contains = JSONParamFilter(json_field="high_level_guidelines")
    full_style_guide_contains = JSONParamFilter(json_field="full_style_guide")
    full_style_guide_has_key = django_filters.CharFilter(field_name="full_style_guide", lookup_expr="has_key")

    class Meta:
        model = BrandGuidelines
        fields = ["account_id", "is_active", "is_default", "detail_level", "industry"]


class BudgetFilter(RecordFilter):
    type = django_filters.ChoiceFilter(field_name="budget_type", choices=Budget.Type.choices)
    campaign_id = django_filters.CharFilter(method="filter_campaign", help_text="Budgets used by this campaign.")
    alerts_contains = JSONParamFilter(json_field="alerts")

    class Meta:
        model = Budget
        fields = ["account_id", "status", "delivery_method", "period", "is_shared", "is_default"]

    def filter_campaign(self, queryset, name, value):
        return queryset.filter(campaign_ids__contains=[value])


class ContainerFilter(RecordFilter):
    is_complete = django_filters.BooleanFilter()

    class Meta:
        model = ProfileContainer
        fields = [
            "account_id",
            "status",
            "is_default",
            "is_primary",
            "customer_profile",
            "brand_guidelines",
            "budget",
        ]


class UsageFilter(django_filters.FilterSet):
    class Meta:
        model = CampaignProfileUsage
        fields = ["account_id", "campaign_id", "usage_type", "is_active", "container", "customer_profile", "budget"]
