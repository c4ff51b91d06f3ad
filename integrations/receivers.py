"""Signal receivers that turn domain events into outbox rows, in the sender's transaction.

``connect()`` is called from ``EngagementConfig.ready()``.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from integrations import services


def on_person_identified(sender, *, user, **kwargs) -> None:
    services.outbox_identify(user=user)
    services.outbox_kit_sync(user=user)


def on_person_updated(sender, *, user, fields=(), source: str = "", **kwargs) -> None:
    services.outbox_identify(user=user)
    if "marketing_opt_in" in fields:
        if user.marketing_opt_in:
            services.outbox_kit_sync(user=user)
        elif source != "kit":  # Kit told us; no need to tell Kit back
            services.outbox_kit_unsubscribe(user=user)
    if set(fields) & set(services.KIT_CONSENT):
        if not services.may_receive_marketing(user):
            services.audience_person_leave_all(user=user)  # out of every audience at once, not at the next sync
        services.audience_results_refresh_soon()  # audience counts follow within a minute


def on_email_verified(sender, *, user, **kwargs) -> None:
    services.outbox_identify(user=user)
    services.outbox_event(user=user, name="email_verified", data={})
    services.outbox_kit_sync(user=user)


def on_quiz_completed(sender, *, result=None, user=None, **kwargs) -> None:
    if user is None:  # anonymous visitor: nothing to tell until they identify
        return
    data: dict = {}
    if getattr(result, "pk", None) is not None:
        data["result_id"] = str(result.pk)
    for attr in ("report_id", "quiz_type", "result_type"):
        value = getattr(result, attr, None)
        if value not in (None, ""):
            data[attr] = value if isinstance(value, int | str) else str(value)
    public_id = getattr(result, "public_id", None)
    if public_id:
        with contextlib.suppress(NoReverseMatch):
            data["report_url"] = settings.SITE_URL + reverse("bigfive-result", args=[public_id])
    services.outbox_event(user=user, name="big_five_completed", data=data)


def on_gems_credited(sender, *, entry, user, **kwargs) -> None:
    data = {"entry_id": entry.pk, "amount": entry.amount, "reason": entry.reason}
    services.outbox_event(user=user, name="gems_earned", data=data, brand=entry.brand)


def on_rank_changed(sender, *, user, brand, old_rank=None, new_rank=None, **kwargs) -> None:
    data = {"old_rank": getattr(old_rank, "key", None), "new_rank": getattr(new_rank, "key", None)}
    services.outbox_event(user=user, name="rank_changed", data=data, brand=brand)


def on_achievement_unlocked(sender, *, user, achievement, config, **kwargs) -> None:
    data = {
        "achievement_key": config.achievement_key,
        "name": config.name,
        "points_rewarded": achievement.points_rewarded,
    }
    services.outbox_event(user=user, name="achievement_unlocked", data=data, brand=config.brand)


def on_referral_converted(sender, *, referral, referrer, referee, **kwargs) -> None:
    data = {"referral_id": getattr(referral, "pk", None), "referee_id": referee.pk}
    services.outbox_event(user=referrer, name="referral_converted", data=data, brand=getattr(referral, "brand", None))


def on_gems_expiring(sender, *, user, lots, amount, expires_at, **kwargs) -> None:
    """The 14-day warning that gems will expire (sent once per lot: the rewards job marks each lot warned)."""
    data = {
        "amount": amount,
        "expires_at": expires_at,
        "lots": [{"lot_id": lot["lot_id"], "amount": lot["amount"], "expires_at": lot["expires_at"]} for lot in lots],
    }
    if settings.SITE_URL:
        with contextlib.suppress(NoReverseMatch):
            data["gems_url"] = settings.SITE_URL + reverse("rewards-history")
    services.outbox_event(user=user, name="gems_expiring", data=data)


def on_product_scanned(sender, *, user, product, points_awarded, **kwargs) -> None:
    data = {
        "product_id": product.pk,
        "sku": product.sku,
        "product_form": product.product_form,
        "points_awarded": points_awarded,
    }
    services.outbox_event(user=user, name="product_scanned", data=data, brand=product.brand)


def on_budget_alert_fired(sender, *, budget, threshold, actor=None, **kwargs) -> None:
    recipient = actor or getattr(budget, "created_by", None)
    if recipient is None:
        return
    data = {
        "budget_id": str(budget.pk),
        "name": budget.name,
        "account_id": budget.account_id,
        "threshold": threshold,
        "amount": str(budget.amount),
        "amount_spent": str(budget.amount_spent),
    }
    services.outbox_event(user=recipient, name="budget_alert", data=data)


def connect() -> None:
    from accounts import signals as accounts_signals
    from engagement import signals as engagement_signals
    from profiles import signals as profiles_signals
    from rewards import signals as rewards_signals

    pairs = [
        (accounts_signals.person_identified, on_person_identified),
        (accounts_signals.person_updated, on_person_updated),
        (accounts_signals.email_verified, on_email_verified),
        (engagement_signals.quiz_completed, on_quiz_completed),
        (engagement_signals.quiz_result_attached, on_quiz_completed),
        (rewards_signals.gems_credited, on_gems_credited),
        (rewards_signals.rank_changed, on_rank_changed),
        (rewards_signals.achievement_unlocked, on_achievement_unlocked),
        (rewards_signals.referral_converted, on_referral_converted),
        (rewards_signals.product_scanned, on_product_scanned),
        (rewards_signals.gems_expiring, on_gems_expiring),
        (profiles_signals.budget_alert_fired, on_budget_alert_fired),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"integrations.{receiver.__name__}")
