"""The profiles part of GDPR export and erasure.

Campaign records point at people only through their audit columns (``created_by``,
``updated_by``) and the version history's ``created_by``: the staff member who wrote them.
Export lists the records a person created or last changed, and every version they wrote.
Erasure changes nothing here: the audit columns keep pointing at the person's
(pseudonymised) row, so "who did it" stays answerable without personal data.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from profiles.models import (
    BrandGuidelines,
    Budget,
    CampaignProfileUsage,
    ProfileContainer,
    ProfileVersion,
    TargetCustomerProfile,
)

AUDITED = (TargetCustomerProfile, BrandGuidelines, Budget, ProfileContainer, CampaignProfileUsage)


def export(*, user) -> dict[str, Any]:
    records = {}
    for model in AUDITED:
        rows = model._base_manager.filter(Q(created_by=user) | Q(updated_by=user))
        records[model._meta.db_table] = [
            {"id": str(pk), "created_by_me": created == user.pk, "last_changed_by_me": updated == user.pk}
            for pk, created, updated in rows.order_by("created_at").values_list("pk", "created_by_id", "updated_by_id")
        ]
    versions = ProfileVersion.objects.filter(created_by=user).order_by("created_at", "profile_id", "version")
    return {
        "campaign_records": records,
        "versions_written": [
            {"type": profile_type, "id": str(profile_id), "version": version, "at": at.isoformat()}
            for profile_type, profile_id, version, at in versions.values_list(
                "profile_type", "profile_id", "version", "created_at"
            )
        ],
    }
