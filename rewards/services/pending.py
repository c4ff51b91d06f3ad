"""Pending credits: gems a brand holds for some days before they become spendable.

A brand's ``pending_days`` (``Brand.settings["rewards"]``) names the credits it holds
(product scans, referral bonuses) and for how long. Such a credit is not a ledger entry
yet: it is a ``PendingCredit``, shown to the member as pending. The release job
(``manage.py release_pending_gems``) writes it as a normal credit once due — with the
same idempotency key, so a release is written once whatever happens — and staff can
cancel it within the window, with a reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, PermissionDenied
from rewards import signals
from rewards.models import LedgerEntry, PendingCredit, Wallet
from rewards.schemas import pending_days
from rewards.services.common import Kind
from rewards.services.ledger import entry_write, wallet_lock

if TYPE_CHECKING:
    from accounts.models import Brand, User


def credit_or_hold(
    *,
    wallet: Wallet,
    user: User,
    amount: int,
    reason: str,
    brand: Brand,
    idempotency_key: str,
    source: str = "",
    description: str = "",
    context: RequestContext | None = None,
) -> tuple[LedgerEntry | None, PendingCredit | None]:
    """Credit a member on a wallet the caller locked, or hold the credit when the brand says so.

    Returns ``(entry, None)`` for a credit written now, ``(None, pending)`` for a held one.
    """
    days = pending_days(brand, reason)
    if days <= 0:
        entry, _ = entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=amount,
            reason=reason,
            brand=brand,
            idempotency_key=idempotency_key,
            source=source,
            description=description,
            context=context,
        )
        return entry, None
    existing = PendingCredit.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise Conflict("This idempotency key was already used for another member.")
        return existing.entry, existing
    try:
        with transaction.atomic():
            pending = PendingCredit.objects.create(
                user=user,
                brand=brand,
                amount=amount,
                reason=reason,
                source=source[:100],
                description=description[:500],
                idempotency_key=idempotency_key,
                release_at=timezone.now() + timedelta(days=days),
            )
    except IntegrityError:
        pending = PendingCredit.objects.get(idempotency_key=idempotency_key)
        return pending.entry, pending
    signals.gems_held.send(sender=PendingCredit, pending=pending, user=user, context=context)
    return None, pending


@transaction.atomic
def pending_credit_release(*, pending: PendingCredit, context: RequestContext | None = None) -> PendingCredit:
    """Release one due pending credit as a ledger credit (idempotent; a cancelled one stays cancelled)."""
    pending = PendingCredit.objects.select_for_update().select_related("user", "brand").get(pk=pending.pk)
    if pending.status != PendingCredit.Status.PENDING or pending.release_at > timezone.now():
        return pending
    wallet = wallet_lock(user=pending.user, context=context)
    entry, _ = entry_write(
        wallet=wallet,
        user=pending.user,
        kind=Kind.CREDIT,
        amount=pending.amount,
        reason=pending.reason,
        brand=pending.brand,
        idempotency_key=pending.idempotency_key,
        source=pending.source,
        description=pending.description,
        context=context,
    )
    pending.status, pending.entry, pending.released_at = PendingCredit.Status.RELEASED, entry, timezone.now()
    pending.save(update_fields=["status", "entry", "released_at"])
    return pending


def pending_credits_release(*, now: datetime | None = None, context: RequestContext | None = None) -> int:
    """Release every due pending credit, each in its own transaction; returns how many were released."""
    now = now or timezone.now()
    context = context or RequestContext.system(source="task")
    due = PendingCredit.objects.filter(status=PendingCredit.Status.PENDING, release_at__lte=now).order_by(
        "release_at", "id"
    )
    released = 0
    for pending in due.only("pk").iterator(chunk_size=500):
        if pending_credit_release(pending=pending, context=context).status == PendingCredit.Status.RELEASED:
            released += 1
    return released


@transaction.atomic
def pending_credit_cancel(
    *, pending: PendingCredit, actor: User, reason: str, context: RequestContext | None = None
) -> PendingCredit:
    """Staff cancel a pending credit within its window, saying why. Cancelling twice is harmless;
    a credit already released is refused (reverse its ledger entry instead)."""
    if not (actor.is_staff and actor.has_perm("rewards.cancel_pendingcredit")):
        raise PermissionDenied("You do not have permission to cancel pending gems.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why these pending gems are cancelled."]})
    pending = PendingCredit.objects.select_for_update().get(pk=pending.pk)
    if pending.status == PendingCredit.Status.CANCELLED:
        return pending
    if pending.status == PendingCredit.Status.RELEASED:
        raise Conflict(
            "These gems were already released to the member; reverse their ledger entry instead.",
            fields={"pending": ["Already released."]},
        )
    pending.status = PendingCredit.Status.CANCELLED
    pending.cancelled_at, pending.cancelled_by, pending.cancel_reason = timezone.now(), actor, reason[:500]
    pending.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    return pending
