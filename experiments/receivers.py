"""Signal receivers: identity stitching, built-in conversions and definition cache invalidation.

``person_identified`` and ``quiz_completed`` come from a worker (the Big Five submission announces
them through ``focusedroom.delivery``): those receivers raise on failure, so the job retries, and
need no savepoint. The receivers of signals sent inside a visitor's request (log-in, email
verification, goals) work in a savepoint and log on failure, so experiment bookkeeping never
breaks the visitor's journey.

No stitching for a visitor id made up in the same request (``RequestContext.visitor_id_is_new``):
nothing was recorded under it.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from experiments import services
from experiments.selectors import definition_invalidate
from focusedroom.context import RequestContext, valid_visitor_id

logger = logging.getLogger(__name__)


def _visitor(context) -> str:
    return getattr(context, "visitor_id", "") or ""


def _safely(action: str, fn, **kwargs) -> None:
    try:
        with transaction.atomic():
            fn(**kwargs)
    except Exception:
        logger.exception("experiments: %s failed", action)


def _known_visitor(anonymous_id: str, context) -> str:
    """The visitor id to stitch or convert: "" when it was born in this act's request, or is not a
    visitor id at all (nothing can have been recorded under either)."""
    if not valid_visitor_id(anonymous_id):
        return ""
    if getattr(context, "visitor_id_is_new", False) and anonymous_id == _visitor(context):
        return ""
    return anonymous_id


def on_person_identified(sender, *, user, anonymous_id="", context=None, **kwargs) -> None:
    anonymous_id = _known_visitor(anonymous_id or _visitor(context), context)
    if anonymous_id:
        services.identity_stitch(user=user, anonymous_id=anonymous_id)


def on_user_logged_in(sender, *, request, user, **kwargs) -> None:
    anonymous_id = _visitor(RequestContext.from_request(request)) if request is not None else ""
    if anonymous_id and not getattr(user, "is_staff", False):
        _safely("identity stitching", services.identity_stitch, user=user, anonymous_id=anonymous_id)


def _convert(conversion_type: str, *, user=None, anonymous_id: str = "", context=None) -> None:
    if user is not None and anonymous_id:
        _safely("identity stitching", services.identity_stitch, user=user, anonymous_id=anonymous_id)
    if user is None and not anonymous_id:
        return
    _safely(
        f"conversion {conversion_type}",
        services.conversion_record,
        conversion_type=conversion_type,
        user=user,
        anonymous_id="" if user is not None else anonymous_id,
        source="built_in",
        context=context if isinstance(context, RequestContext) else None,
    )


def on_quiz_completed(
    sender, *, result=None, user=None, anonymous_id="", context=None, identified: bool = False, **kwargs
) -> None:
    """In the worker. ``identified``: ``person_identified`` was announced for the same act and
    stitched this visitor already (no second stitching)."""
    anonymous_id = _known_visitor(anonymous_id or "", context)
    if user is None and not anonymous_id:
        return
    if user is not None and anonymous_id and not identified:
        services.identity_stitch(user=user, anonymous_id=anonymous_id)
    services.conversion_record(
        conversion_type="big_five_completed",
        user=user,
        anonymous_id="" if user is not None else anonymous_id,
        source="built_in",
        occurred_at=getattr(result, "created_at", None),
        context=context if isinstance(context, RequestContext) else None,
    )


def on_email_verified(sender, *, user, context=None, **kwargs) -> None:
    _convert("email_verified", user=user, anonymous_id=_visitor(context), context=context)


BUILT_IN_GOALS = ("referral_converted",)


def on_goal_reached(sender, *, user=None, goal: str = "", context=None, **kwargs) -> None:
    """A built-in goal another app announced (``focusedroom.signals.goal_reached``)."""
    if user is not None and goal in BUILT_IN_GOALS:
        _convert(goal, user=user, context=context)


def on_definition_changed(sender, instance, **kwargs) -> None:
    if hasattr(instance, "key"):
        key = instance.key
    else:
        try:
            key = instance.experiment.key
        except ObjectDoesNotExist:  # the experiment itself is being deleted and invalidates
            return
    definition_invalidate(key)  # bumps the shared version with the change (focusedroom.versions)
