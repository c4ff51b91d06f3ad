"""The engagement part of GDPR export and erasure (registered with ``accounts.gdpr``).

Export: the person's events, outbox messages, webhook deliveries about them, AI profile.
Erasure: events keep their type, time and points but lose IP, user agent, URL, metadata
and ids; unsent outbox messages are dropped, sent ones blanked, and Customer.io and Kit
deletions are queued; webhook payloads are blanked; the AI profile is deleted.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from engagement import event_log
from engagement.integrations import services
from engagement.integrations.models import AIProfile, WebhookLog
from engagement.models import OutboxMessage


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
        "events": event_log.events_export(user=user),
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
    }


@transaction.atomic
def erase(*, user) -> None:
    event_log.events_erase(user=user)
    services.outbox_erase_person(user=user)
    WebhookLog.objects.filter(user=user).update(payload={})
    AIProfile.objects.filter(user=user).delete()


def register() -> None:
    from accounts import gdpr

    gdpr.register(name="engagement", export=export, erase=erase)
