"""Receivers of other apps' signals: they call rewards services, inside the sender's transaction.

Expected refusals (an invalid or self-referral code) never break the sender's action:
each receiver works in a savepoint and only swallows the refusal, never a database error
outside its savepoint.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from focusedroom.errors import ApplicationError
from rewards import services

logger = logging.getLogger(__name__)


def _referral_from(*, user, code: str, request) -> None:
    code = (code or "").strip() or (request.COOKIES.get(services.REFERRAL_COOKIE, "") if request is not None else "")
    if not code:
        return
    try:
        with transaction.atomic():
            services.referral_create_pending(referee=user, code=code, request=request)
    except (ValidationError, ApplicationError) as exc:
        logger.info("referral code %r not applied to person %s: %s", code, user.pk, exc)


def on_person_signed_up(sender, *, user, referral_code: str = "", request=None, **kwargs) -> None:
    services.wallet_get_or_create(user=user)
    _referral_from(user=user, code=referral_code, request=request)


def on_person_identified(sender, *, user, created: bool = False, request=None, **kwargs) -> None:
    if created and request is not None and request.COOKIES.get(services.REFERRAL_COOKIE):
        _referral_from(user=user, code="", request=request)


def on_email_verified(sender, *, user, request=None, **kwargs) -> None:
    services.referral_convert(referee=user, request=request)
    services.email_verified_reward(user=user)


def on_user_logged_in(sender, *, user, request=None, **kwargs) -> None:
    try:
        services.daily_reward_claim(user=user, request=request)
    except (ValidationError, ApplicationError) as exc:  # never block a log-in
        logger.warning("daily reward not claimed for person %s: %s", user.pk, exc)


def on_quiz_completed(sender, *, result, user=None, anonymous_id: str = "", request=None, **kwargs) -> None:
    services.quiz_reward(result=result, user=user)
