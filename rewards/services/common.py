"""What every rewards service shares: the default brand, the member's day, the staff rule,
and the one way a referral code is made."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from focusedroom.errors import Conflict
from rewards.models import LedgerEntry, ReferralCode

if TYPE_CHECKING:
    from accounts.models import Brand, User

Kind = LedgerEntry.Kind
Reason = LedgerEntry.Reason

STAFF_REFUSAL = (
    "Staff accounts are not loyalty members: they have no Insight Gems, ranks, referral codes or achievements."
)


def brand_default() -> Brand:
    """FocusedRoom itself: the brand of gems that no other brand gives."""
    return accounts_selectors.brand_default()


def local_date(user: User, *, now=None) -> date:
    """Today in the member's time zone (UTC when it is unknown)."""
    try:
        tz = zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return (now or timezone.now()).astimezone(tz).date()


def member_require(user: User) -> None:
    """The staff rule: staff never hold a wallet, gems, ranks, referral codes or achievements.

    The database says so too (a trigger refuses a staff person's wallet).
    """
    if user is None or user.pk is None:
        raise ValidationError({"user": ["A loyalty member is a saved person."]})
    if user.is_staff:
        raise ValidationError({"user": [STAFF_REFUSAL]})


def referral_code_insert(*, user: User) -> ReferralCode:
    """The member's active referral code, made if missing (64 random bits, unguessable).

    Concurrent calls race on the database's "one active code per person" index: the
    loser reads the winner's code.
    """
    code = ReferralCode.objects.filter(user=user, is_active=True).first()
    if code is not None:
        return code
    for _ in range(5):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=secrets.token_urlsafe(8))
        except IntegrityError:
            code = ReferralCode.objects.filter(user=user, is_active=True).first()
            if code is not None:
                return code
    raise Conflict("Could not create a referral code; try again.")
