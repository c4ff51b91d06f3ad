"""Receivers of other apps' signals: they call rewards services, inside the sender's transaction.

A person becomes a loyalty member when they sign up or claim their account
(``person_signed_up``) or submit a test with their email (``person_identified``): that is
where their wallet, welcome credit and referral code are made. Staff are never members:
every receiver skips them.

Expected refusals (an invalid or self-referral code) never break the sender's action:
each receiver works in a savepoint and only swallows the refusal, never a database error
outside its savepoint.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.selectors import is_member
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError
from rewards import services

logger = logging.getLogger(__name__)


def _referral_from(*, user, code: str, context) -> None:
    code = (code or "").strip() or getattr(context, "referral_code", "")
    if not code:
        return
    try:
        with transaction.atomic():
            services.referral_create_pending(referee=user, code=code, context=context)
    except (ValidationError, ApplicationError) as exc:
        logger.info("referral code %r not applied to person %s: %s", code, user.pk, exc)


def on_person_signed_up(sender, *, user, referral_code: str = "", context=None, **kwargs) -> None:
    if not is_member(user):
        return
    services.member_enrol(user=user, context=context)
    _referral_from(user=user, code=referral_code, context=context)


def on_person_identified(sender, *, user, created: bool = False, context=None, **kwargs) -> None:
    if not is_member(user):
        return
    services.member_enrol(user=user, context=context)
    if created and getattr(context, "referral_code", ""):
        _referral_from(user=user, code="", context=context)


def on_email_verified(sender, *, user, context=None, **kwargs) -> None:
    if not is_member(user):
        return
    services.referral_convert(referee=user, context=context)
    services.email_verified_reward(user=user, context=context)


def on_user_logged_in(sender, *, user, request=None, **kwargs) -> None:
    """The documented write of a log-in: today's reward (members only)."""
    if not is_member(user):
        return
    try:
        services.daily_reward_claim(user=user, context=RequestContext.from_request(request) if request else None)
    except (ValidationError, ApplicationError) as exc:  # never block a log-in
        logger.warning("daily reward not claimed for person %s: %s", user.pk, exc)


def on_quiz_completed(sender, *, result, user=None, anonymous_id: str = "", context=None, **kwargs) -> None:
    if not is_member(user):
        return
    services.quiz_reward(result=result, user=user, context=context)
