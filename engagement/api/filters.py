import django_filters

from accounts.selectors import CareerStage
from accounts.services import career_stage_value
from engagement.models import QuizResult, QuizType
from focusedroom.api.filters import NormalizedChoiceFilter


class QuizResultFilter(django_filters.FilterSet):
    quiz_type = django_filters.ChoiceFilter(choices=QuizType.choices)
    channel = django_filters.NumberFilter(field_name="customer__channel_id")
    career_stage = NormalizedChoiceFilter(
        field_name="customer__career_stage", choices=CareerStage.choices, normalize=career_stage_value
    )
    opt_in = django_filters.BooleanFilter(field_name="customer__marketing_opt_in")
    anonymous = django_filters.BooleanFilter(field_name="customer", lookup_expr="isnull")
    customer = django_filters.NumberFilter(field_name="customer_id")
    email = django_filters.CharFilter(method="filter_email")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = QuizResult
        fields = ["quiz_type", "channel", "career_stage", "opt_in", "anonymous", "customer"]

    def filter_email(self, queryset, name, value):
        return queryset.filter(customer__email=value.strip().lower())
