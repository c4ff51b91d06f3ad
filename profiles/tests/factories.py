"""Factories for campaign-profile tests (built through the services, like real callers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from profiles import services
from profiles.models import BrandGuidelines, Budget, ProfileContainer, TargetCustomerProfile

DEMOGRAPHICS = {
    "ageRange": {"min": 25, "max": 40},
    "gender": "all",
    "location": {
        "countries": ["US", "CA"],
        "cities": ["San Francisco", "New York"],
        "radius": {"latitude": 37.7749, "longitude": -122.4194, "radius": 50, "unit": "miles"},
    },
    "incomeRange": {"min": 75000, "max": 150000},
    "educationLevel": "bachelors",
}
BEHAVIOR = {
    "devicePreferences": ["mobile", "desktop"],
    "purchaseBehavior": ["frequent_buyer", "high_value_buyer"],
    "onlineActivityLevel": "very_active",
    "socialMediaPlatforms": ["instagram", "linkedin", "twitter"],
}
PERSONA = {
    "name": "Tech-Savvy Professional",
    "description": "Young professional interested in latest tech",
    "motivations": ["efficiency", "innovation", "quality"],
    "painPoints": ["lack of time", "information overload"],
    "values": ["quality", "convenience", "sustainability"],
}
HIGH_LEVEL = {
    "logo": {"primaryLogoUrl": "https://example.com/logo.svg", "usageRules": ["Use on white background"]},
    "colors": {"primary": [{"name": "Brand Blue", "hex": "#0066CC"}]},
    "typography": {"primaryFont": "Inter", "typeSizes": ["16px", "24px", "32px"]},
}
FULL_GUIDE = {
    "logoGuidelines": {"logos": [], "clearSpace": "0.5x logo height", "minimumSize": {"width": 120, "height": 40}},
    "colorPalette": {"primary": [{"name": "Brand Blue", "hex": "#0066CC"}], "secondary": [], "accent": []},
    "typographyGuidelines": {"primaryFont": {"family": "Inter"}, "typeScale": []},
    "voiceGuidelines": {"brandVoice": "professional", "primaryTone": ["professional", "friendly"]},
}


def make_profile(*, account_id: str = "acct-1", actor=None, **data: Any) -> TargetCustomerProfile:
    values = {
        "name": "Millennial Tech Enthusiasts",
        "description": "Early adopters who love gadgets",
        "demographics": DEMOGRAPHICS,
        "interests": ["technology", "running"],
        "behavior": BEHAVIOR,
        "persona": PERSONA,
        **data,
    }
    return services.customer_profile_create(account_id=account_id, data=values, actor=actor)


def make_guidelines(*, account_id: str = "acct-1", actor=None, **data: Any) -> BrandGuidelines:
    values = {
        "brand_name": "FocusedRoom",
        "high_level_guidelines": HIGH_LEVEL,
        "industry": "Education",
        "brand_values": ["focus", "growth"],
        **data,
    }
    return services.brand_guidelines_create(account_id=account_id, data=values, actor=actor)


def make_budget(*, account_id: str = "acct-1", actor=None, **data: Any) -> Budget:
    values = {"name": "Spring launch", "amount": Decimal("1000.00"), **data}
    return services.budget_create(account_id=account_id, data=values, actor=actor)


def make_container(*, account_id: str = "acct-1", actor=None, complete: bool = True, **data: Any) -> ProfileContainer:
    values: dict[str, Any] = {"name": "Launch container", **data}
    if complete:
        values.setdefault("customer_profile", make_profile(account_id=account_id))
        values.setdefault("brand_guidelines", make_guidelines(account_id=account_id))
        values.setdefault("budget", make_budget(account_id=account_id))
    return services.container_create(account_id=account_id, data=values, actor=actor)
