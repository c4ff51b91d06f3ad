"""The consent rule: who marketing may reach. Written once, here; ``integrations.services`` re-exports it.

Rows are marketing (queued only for people who meet the rule, re-checked at delivery) or
transactional (always queued); see ``integrations.services``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

# The consent rule, the one place it is written, as data: the person's fields and the values
# marketing needs. Marketing reaches a person who opted in and is neither deleted nor deactivated;
# Kit, a mailing list, also needs a verified address. ``may_receive_marketing`` / ``may_join_kit``
# apply it to one person, ``marketing_consent_q`` / ``kit_consent_q`` to a query of people
# (audiences), so the two can never disagree (``integrations/tests/test_consent_rule.py``).
MARKETING_CONSENT: dict[str, Any] = {"marketing_opt_in": True, "deleted_at": None, "is_active": True}
KIT_CONSENT: dict[str, Any] = {**MARKETING_CONSENT, "is_email_verified": True}


def _meets(user, rule: dict[str, Any]) -> bool:
    return user is not None and all(getattr(user, name) == value for name, value in rule.items())


def _rule_q(rule: dict[str, Any], prefix: str) -> Q:
    return Q(**{f"{prefix}{name}": value for name, value in rule.items()})


def may_receive_marketing(user) -> bool:
    """The consent rule for one person (see ``MARKETING_CONSENT``)."""
    return _meets(user, MARKETING_CONSENT)


def may_join_kit(user) -> bool:
    return _meets(user, KIT_CONSENT)


def marketing_consent_q(prefix: str = "") -> Q:
    """The consent rule as a filter over people (``prefix`` reaches them through a relation, e.g. ``"user__"``)."""
    return _rule_q(MARKETING_CONSENT, prefix)


def kit_consent_q(prefix: str = "") -> Q:
    return _rule_q(KIT_CONSENT, prefix)
