"""Stored answers of API requests sent with an ``Idempotency-Key`` header."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from rewards.models import IdempotencyRecord

if TYPE_CHECKING:
    from accounts.models import User


def idempotency_begin(*, user: User, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """Claim an ``Idempotency-Key`` for the caller's transaction (concurrent claims wait)."""
    return IdempotencyRecord.objects.get_or_create(user=user, key=key, defaults={"fingerprint": fingerprint})


def idempotency_finish(*, record: IdempotencyRecord, status_code: int, body: Any) -> None:
    record.status_code = status_code
    record.response_body = body
    record.save(update_fields=["status_code", "response_body"])


@transaction.atomic
def idempotency_erase(*, user: User) -> None:
    """GDPR erasure: the stored answers go."""
    IdempotencyRecord.objects.filter(user=user).delete()
