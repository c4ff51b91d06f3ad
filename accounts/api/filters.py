import django_filters

from accounts.models import CareerStage, Customer, normalize_email
from accounts.services import career_stage_value
from focusedroom.api.filters import NormalizedChoiceFilter


class CustomerFilter(django_filters.FilterSet):
    channel = django_filters.NumberFilter(field_name="channel_id")
    career_stage = NormalizedChoiceFilter(choices=CareerStage.choices, normalize=career_stage_value)
    opt_in = django_filters.BooleanFilter(field_name="marketing_opt_in")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    email = django_filters.CharFilter(method="filter_email")

    class Meta:
        model = Customer
        fields = ["channel", "career_stage", "opt_in", "is_email_verified"]

    def filter_email(self, queryset, name, value):
        return queryset.filter(email=normalize_email(value))
