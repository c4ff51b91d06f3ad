"""Demo campaign-planning data: a few accounts with profiles, guidelines, budgets, containers and usage.

Idempotent: an account that has any demo record (``metadata.source == "demo"``), deleted or
not, is left alone, so seeding again never duplicates a record. Every account has its own
brand: the agency clients added at large scales copy a named account's audience and budget,
not its brand name.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from profiles import services
from profiles.models import BrandGuidelines, Budget, ProfileContainer, TargetCustomerProfile

ACCOUNTS = [
    {
        "account_id": "focusedroom",
        "profile": {
            "name": "Career changers 28–40",
            "description": "Mid-career professionals weighing a change of direction",
            "demographics": {
                "ageRange": {"min": 28, "max": 40},
                "gender": "all",
                "location": {"countries": ["US", "CA", "GB"]},
                "educationLevel": "bachelors",
            },
            "interests": ["career growth", "personality", "coaching"],
            "behavior": {"devicePreferences": ["mobile", "desktop"], "onlineActivityLevel": "active"},
            "persona": {
                "name": "Restless Riley",
                "motivations": ["meaning", "growth"],
                "painPoints": ["lack of time", "uncertainty"],
            },
        },
        "guidelines": {
            "brand_name": "FocusedRoom",
            "industry": "Education",
            "brand_values": ["focus", "growth", "honesty"],
            "high_level_guidelines": {
                "colors": {"primary": [{"name": "Focus Indigo", "hex": "#3F3DBC"}]},
                "typography": {"primaryFont": "Inter", "typeSizes": ["16px", "24px", "32px"]},
            },
        },
        "budget": {"name": "Big Five test acquisition", "amount": Decimal("5000.00"), "spent": "3100.00"},
        "campaign": "big-five-spring",
    },
    {
        "account_id": "acme-fitness",
        "profile": {
            "name": "Weekend runners",
            "description": "Amateur runners training for their first marathon",
            "demographics": {
                "ageRange": {"min": 25, "max": 45},
                "gender": "female",
                "location": {"cities": ["Lisbon"]},
            },
            "interests": ["running", "nutrition", "wearables"],
            "behavior": {"devicePreferences": ["mobile"], "purchaseBehavior": ["frequent_buyer"]},
            "persona": {"name": "Marathon Maya", "motivations": ["health", "achievement"]},
        },
        "guidelines": {
            "brand_name": "Acme Fitness",
            "industry": "Retail",
            "brand_values": ["energy", "community"],
            "detail_level": "full",
            "high_level_guidelines": {"colors": {"primary": [{"name": "Acme Red", "hex": "#D62828"}]}},
            "full_style_guide": {
                "voiceGuidelines": {"brandVoice": "professional", "primaryTone": ["energetic", "friendly"]},
                "logoGuidelines": {"clearSpace": "0.5x logo height", "minimumSize": {"width": 120, "height": 40}},
            },
        },
        "budget": {"name": "Marathon season", "amount": Decimal("12000.00"), "spent": "10150.00"},
        "campaign": "marathon-2025",
    },
    {
        "account_id": "northwind-books",
        "profile": {
            "name": "Night-owl readers",
            "description": "Readers who buy e-books late in the evening",
            "demographics": {"ageRange": {"min": 18, "max": 34}, "gender": "all"},
            "interests": ["fantasy", "e-books"],
            "behavior": {"onlineActivityLevel": "very_active", "socialMediaPlatforms": ["instagram", "tiktok"]},
            "persona": {"name": "Late-night Leo", "values": ["escapism", "convenience"]},
        },
        "guidelines": {"brand_name": "Northwind Books", "industry": "Publishing", "brand_values": ["curiosity"]},
        "budget": {"name": "Holiday reads", "amount": Decimal("2500.00"), "spent": "400.00", "period": "LIFETIME"},
        "campaign": None,
    },
]
ALERTS = [{"threshold": 50}, {"threshold": 80}, {"threshold": 100}]
META = {"source": "demo", "tags": ["demo"]}


def _seeded(account_id: str) -> bool:
    """Whether the account has a demo record of any kind (soft-deleted ones included)."""
    return any(
        model.all_objects.filter(account_id=account_id, metadata__source="demo").exists()
        for model in (ProfileContainer, TargetCustomerProfile, BrandGuidelines, Budget)
    )


def _account(account_id: str, spec: dict) -> bool:
    """One campaign account's demo profiles; False when it is already there."""
    if _seeded(account_id):
        return False
    brand = spec["guidelines"]["brand_name"]
    profile = services.customer_profile_create(
        account_id=account_id, data={**spec["profile"], "metadata": META, "is_default": True}, actor=None
    )
    guidelines = services.brand_guidelines_create(
        account_id=account_id, data={**spec["guidelines"], "metadata": META}, actor=None
    )
    budget_spec = spec["budget"]
    period = budget_spec.get("period", "MONTHLY")
    dates = {"start_date": date(2025, 11, 1), "end_date": date(2026, 1, 31)} if period == "LIFETIME" else {}
    budget = services.budget_create(
        account_id=account_id,
        data={
            "name": budget_spec["name"],
            "amount": budget_spec["amount"],
            "period": period,
            "alerts": ALERTS,
            "metadata": META,
            **dates,
        },
        actor=None,
    )
    services.budget_record_spend(budget=budget, amount_spent=budget_spec["spent"], actor=None)
    container = services.container_create(
        account_id=account_id,
        data={
            "name": f"{brand}: default container",
            "customer_profile": profile,
            "brand_guidelines": guidelines,
            "budget": budget,
            "is_default": True,
            "is_primary": True,
            "metadata": META,
        },
        actor=None,
    )
    services.container_create(
        account_id=account_id,
        data={
            "name": f"{brand}: draft container",
            "customer_profile": profile,
            "status": "DRAFT",
            "metadata": META,
        },
        actor=None,
    )
    if spec["campaign"]:
        services.campaign_usage_record(
            campaign_id=spec["campaign"],
            account_id=account_id,
            usage_type="CONTAINER",
            container=container,
            actor=None,
        )
    return True


def accounts_for(scale: int) -> list[tuple[str, dict]]:
    """The three named accounts, plus one more agency account per 10,000 customers at large scales."""
    from focusedroom.bulk import bulk_enabled

    accounts = [(spec["account_id"], spec) for spec in ACCOUNTS]
    if bulk_enabled(scale):
        for k in range(1, scale // 10_000 + 1):
            spec = ACCOUNTS[k % len(ACCOUNTS)]
            campaign = f"{spec['campaign']}-client-{k:04d}" if spec["campaign"] else None  # campaigns are per account
            guidelines = {**spec["guidelines"], "brand_name": f"Agency client {k:04d}"}  # its own brand
            accounts.append((f"agency-client-{k:04d}", {**spec, "campaign": campaign, "guidelines": guidelines}))
    return accounts


@transaction.atomic
def seed(*, scale: int) -> str:
    accounts = accounts_for(scale)
    created = sum(_account(account_id, spec) for account_id, spec in accounts)
    return f"{created} campaign accounts created, {len(accounts) - created} already there"
