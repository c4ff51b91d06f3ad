"""The integrations part of GDPR export and erasure.

Export: the person's outbox messages, webhook deliveries about them, AI profile.
Erasure: unsent outbox messages are dropped, sent ones blanked, and a Customer.io deletion
(per brand workspace that heard of the person) and a Kit unsubscription are queued with
the identifiers the providers need — read before ``accounts`` pseudonymises the person,
which it does last; webhook payloads are blanked; the AI profile is deleted; the person leaves
every audience (their membership rows are deleted: the providers delete the person anyway).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from integrations import services
from integrations.models import AIProfile, AudienceMember, OutboxMessage, WebhookLog


def export(*, user) -> dict[str, Any]:
    profile = (
        AIProfile.objects.filter(user=user)
        .values(
            "engagement_score",
            "churn_probability",
            "purchase_probability",
            "predicted_lifetime_value",
            "product_affinity_scores",
            "recommended_segment",
            "next_best_action",
            "calculated_at",
        )
        .first()
    )
    return {
        "outbox_messages": list(
            OutboxMessage.objects.filter(user=user)
            .order_by("created_at", "id")
            .values("created_at", "destination", "action", "event_name", "event_data", "status", "processed_at")
        ),
        "webhook_deliveries": list(
            WebhookLog.objects.filter(user=user)
            .order_by("created_at", "id")
            .values("created_at", "source", "webhook_type", "payload", "processed_successfully")
        ),
        "ai_profile": profile,
        "audiences": list(
            AudienceMember.objects.filter(user=user)
            .order_by("entered_at", "id")
            .values("profile_id", "profile__name", "in_customerio", "in_kit", "entered_at", "synced_at")
        ),
    }


@transaction.atomic
def erase(*, user) -> None:
    services.outbox_erase_person(user=user)
    WebhookLog.objects.filter(user=user).update(payload={})
    AIProfile.objects.filter(user=user).delete()
    AudienceMember.objects.filter(user=user).delete()
    services.audience_results_refresh_soon()  # audience counts drop the person within a minute
