"""Reads of campaign profiles (seed 003 usage examples 2, 4, 6, 9 and 10)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q, QuerySet

from profiles.models import (
    SEARCH_CONFIG,
    ProfileVersion,
    TargetCustomerProfile,
    VersionedRecord,
)

# Example 4: a container with its profile, guidelines and budget in one query (the API's
# container detail). The actors are serialized as ids (``created_by_id``), so they are not joined.
CONTAINER_RELATED = ("customer_profile", "brand_guidelines", "budget")


def search_query(term: str) -> SearchQuery:
    """Web-search syntax: words, "quoted phrases", ``or``, ``-excluded``."""
    return SearchQuery(term, config=SEARCH_CONFIG, search_type="websearch")


def full_text_search(queryset: QuerySet, term: str) -> QuerySet:
    """Rows whose ``search_vector`` matches ``term``, best match first (GIN index)."""
    query = search_query(term)
    return (
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-created_at", "id")
    )


def profiles_search(*, account_id: str, term: str, limit: int = 20) -> list[TargetCustomerProfile]:
    """Example 9: full-text search over name, description, interests and demographics."""
    return list(full_text_search(TargetCustomerProfile.objects.filter(account_id=account_id), term)[:limit])


def age_range_overlaps(min_age: int | None, max_age: int | None) -> Q:
    """Profiles whose ``demographics.ageRange`` overlaps [min_age, max_age] (open ends allowed)."""
    condition = Q(demographics__has_key="ageRange")
    if max_age is not None:
        condition &= Q(demographics__ageRange__min__lte=max_age) | ~Q(demographics__ageRange__has_key="min")
    if min_age is not None:
        condition &= Q(demographics__ageRange__max__gte=min_age) | ~Q(demographics__ageRange__has_key="max")
    return condition


def age_range_within(min_age: int, max_age: int) -> Q:
    """Example 2: profiles whose age range lies within [min_age, max_age] (compared as numbers)."""
    return Q(demographics__ageRange__min__gte=min_age, demographics__ageRange__max__lte=max_age)


def profiles_by_age_range(*, account_id: str, min_age: int, max_age: int) -> QuerySet[TargetCustomerProfile]:
    return TargetCustomerProfile.objects.filter(age_range_within(min_age, max_age), account_id=account_id)


ACCOUNT_COUNTS_SQL = """
SELECT
  (SELECT count(*) FROM target_customer_profiles WHERE account_id = %(a)s AND deleted_at IS NULL),
  (SELECT count(*) FROM brand_guidelines WHERE account_id = %(a)s AND deleted_at IS NULL),
  (SELECT count(*) FROM budgets WHERE account_id = %(a)s AND deleted_at IS NULL),
  (SELECT count(*) FROM customer_profile_containers WHERE account_id = %(a)s AND deleted_at IS NULL),
  (SELECT count(*) FROM customer_profile_containers
    WHERE account_id = %(a)s AND deleted_at IS NULL AND is_complete),
  (SELECT coalesce(sum(amount), 0) FROM budgets
    WHERE account_id = %(a)s AND status = 'ACTIVE' AND deleted_at IS NULL),
  (SELECT coalesce(sum(amount_spent), 0) FROM budgets
    WHERE account_id = %(a)s AND status = 'ACTIVE' AND deleted_at IS NULL),
  (SELECT count(*) FROM campaign_profile_usage WHERE account_id = %(a)s AND is_active)
"""


def _account_counts(account_id: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNT_COUNTS_SQL, {"a": account_id})
        return cursor.fetchone()


def account_profile_status(*, account_id: str) -> dict[str, Any]:
    """Example 6: first-time user detection — has the account set anything up yet? (one query)"""
    profiles, guidelines, budgets, *_ = _account_counts(account_id)
    return {
        "account_id": account_id,
        "is_first_time_user": profiles == 0 and guidelines == 0 and budgets == 0,
        "has_customer_profile": profiles > 0,
        "has_brand_guidelines": guidelines > 0,
        "has_budget": budgets > 0,
        "profile_counts": {
            "customer_profiles_count": profiles,
            "brand_guidelines_count": guidelines,
            "budgets_count": budgets,
        },
    }


def account_profile_summary(*, account_id: str) -> dict[str, Any]:
    """Example 10: totals of an account (one query)."""
    profiles, guidelines, budgets, containers, complete, active_budget, active_spent, usages = _account_counts(
        account_id
    )
    return {
        "account_id": account_id,
        "total_profiles": profiles,
        "total_guidelines": guidelines,
        "total_budgets": budgets,
        "total_containers": containers,
        "complete_containers": complete,
        "total_active_budget": Decimal(active_budget),
        "total_active_spent": Decimal(active_spent),
        "total_campaign_usage": usages,
    }


def record_versions(*, record: VersionedRecord) -> QuerySet[ProfileVersion]:
    """Every version of a record, newest first."""
    return (
        ProfileVersion.objects.filter(profile_type=record.profile_type, profile_id=record.pk)
        .select_related("created_by")
        .order_by("-version")
    )


def budget_alerts_recent(*, limit: int = 5, days: int = 7) -> dict[str, Any]:
    """The latest alert firings (with their budgets) and how many fired in the last ``days`` days (two queries)."""
    from datetime import timedelta

    from django.utils import timezone

    from profiles.models import BudgetAlertFiring

    since = timezone.now() - timedelta(days=days)
    return {
        "recent": list(BudgetAlertFiring.objects.select_related("budget").order_by("-fired_at")[:limit]),
        "count": BudgetAlertFiring.objects.filter(fired_at__gte=since).count(),
    }


# ------------------------------------------------------------------------------ audiences
#
# What a profile says about its audience in terms FocusedRoom knows about its customers. The
# audience itself (who matches, how many, the sync to Customer.io and Kit) is computed by
# ``integrations`` — the one app that may read profiles, engagement's Big Five results and the
# consent rule together (docs/architecture.md, "Audiences").

# The seed's demographics a customer record can answer, and those it cannot (shown as "not applied").
AUDIENCE_GENDERS = {"male": "M", "female": "F"}  # -> the sex recorded with the Big Five result (norms)
AUDIENCE_UNKNOWN_DEMOGRAPHICS = {
    "incomeRange": "income",
    "educationLevel": "education",
    "languages": "languages",
    "occupations": "occupations",
}
AUDIENCE_UNKNOWN_LOCATION = {"states": "states", "cities": "cities", "radius": "radius"}


@dataclass(frozen=True)
class AudienceCriteria:
    """Who a profile's audience is: every bound is optional (None or empty = no limit)."""

    age_min: int | None = None
    age_max: int | None = None
    countries: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    traits: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)  # code -> (min, max)
    not_applied: tuple[str, ...] = ()  # what the profile says that customers' records cannot tell

    @property
    def needs_result(self) -> bool:
        """Whether only customers with a Big Five result can match."""
        return bool(self.traits or self.sexes)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def audience_criteria(*, profile: TargetCustomerProfile) -> AudienceCriteria:
    """A profile's demographics and trait ranges as the criteria customers are matched against.

    ``ageRange`` -> the customer's age; ``location.countries`` -> their country; ``gender``
    ``male``/``female`` -> the sex recorded with their latest Big Five result (``all`` = anyone);
    trait ranges -> the percentiles of their latest Big Five result. Interests, income, education,
    languages, occupations, states, cities and radius are not known about customers: they are
    listed in ``not_applied`` and do not narrow the audience.
    """
    demographics = profile.demographics if isinstance(profile.demographics, dict) else {}
    age = demographics.get("ageRange") if isinstance(demographics.get("ageRange"), dict) else {}
    location = demographics.get("location") if isinstance(demographics.get("location"), dict) else {}
    countries = tuple(sorted({c for c in location.get("countries") or [] if isinstance(c, str)}))
    not_applied = [label for key, label in AUDIENCE_UNKNOWN_DEMOGRAPHICS.items() if demographics.get(key)]
    not_applied += [f"location {label}" for key, label in AUDIENCE_UNKNOWN_LOCATION.items() if location.get(key)]
    gender = demographics.get("gender")
    sexes: tuple[str, ...] = ()
    if gender in AUDIENCE_GENDERS:
        sexes = (AUDIENCE_GENDERS[gender],)
    elif gender and gender != "all":
        not_applied.append(f"gender {gender}")
    if profile.interests:
        not_applied.append("interests")
    return AudienceCriteria(
        age_min=_whole(age.get("min")),
        age_max=_whole(age.get("max")),
        countries=countries,
        sexes=sexes,
        traits=profile.trait_ranges,
        not_applied=tuple(not_applied),
    )


def customer_profile_get(pk: Any, *, include_deleted: bool = False) -> TargetCustomerProfile | None:
    """A target customer profile by id (None when there is none, or the id is not a UUID)."""
    manager = TargetCustomerProfile.all_objects if include_deleted else TargetCustomerProfile.objects
    try:
        return manager.filter(pk=pk).first()
    except (ValueError, ValidationError):
        return None


def customer_profiles_for_audiences() -> QuerySet[TargetCustomerProfile]:
    """Live, active profiles: the ones whose audience the periodic job measures."""
    return TargetCustomerProfile.objects.filter(is_active=True).order_by("created_at", "id")
