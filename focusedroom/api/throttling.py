"""API throttles on ``focusedroom.counters`` (one round trip per request, no count ever lost).

Every request runs one throttle of the default set, ``RateThrottle``: a person is counted under
the ``user`` rate by their id, an anonymous client under the ``anon`` rate by its address.
``ScopedRateThrottle`` adds a view's own scope (``throttle_scope``, e.g. ``auth``).

The client address is ``focusedroom.context.client_ip`` (the one rule): DRF's own throttles read
``X-Forwarded-For`` with their own logic; these use the same function as the rest of FocusedRoom,
so a client rotating that header never gets a fresh count unless a configured proxy wrote it.

A view whose work is one Redis script may carry the count in it (``count_owed``; the buffered
exposure's append): the throttle leaves it the count, the script counts before its work and does
none of it over the limit, and a count no script made is made when the view ends — one round trip
for the throttle and the work, every request still counted once.

Windows are fixed (``120/min`` allows 120 requests from :00 to :59): a client can at most double
its rate across a window boundary, and the counter is one integer instead of a list of timestamps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from rest_framework import exceptions, throttling
from rest_framework.settings import api_settings

from focusedroom import counters
from focusedroom.context import client_ip

T = TypeVar("T")
# The Django request's attribute that carries a count made in advance: (counter name, window, Hit).
_ADVANCE = "focusedroom_counted_in_advance"
# ... and the one that carries the default throttle's count left to the view (``counters.Owed``).
_OWED = "focusedroom_count_owed"


def _parse(rate: str | None) -> tuple[int, int] | None:
    if not rate:
        return None
    num, period = rate.split("/")
    return int(num), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


class CounterThrottle(throttling.BaseThrottle):
    """Allow ``num`` requests per fixed window for the key ``scope_and_ident`` returns (None: not throttled).

    A view whose work is one Redis script may count in that script (``count_owed``): when its
    ``counts_throttle_itself(request)`` says so, a throttle with ``may_leave_to_view`` leaves the
    count to it."""

    _wait: int | None = None
    may_leave_to_view = False

    def rate_for(self, scope: str) -> str | None:
        return getattr(self, f"{scope}_rate", None) or api_settings.DEFAULT_THROTTLE_RATES.get(scope)

    def scope_and_ident(self, request, view) -> tuple[str, str] | None:
        raise NotImplementedError

    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request, view) -> bool:
        found = self.scope_and_ident(request, view)
        if found is None:
            return True
        scope, ident = found
        parsed = _parse(self.rate_for(scope))
        if parsed is None:
            return True
        limit, window = parsed
        name = counters.digest(f"throttle-{scope}", ident)
        django_request = getattr(request, "_request", request)
        advance = getattr(django_request, _ADVANCE, None)
        if advance is not None and advance[:2] == (name, window):
            delattr(django_request, _ADVANCE)  # counted while the person was read (count_person_while)
            counted = advance[2]
        elif self.may_leave_to_view and getattr(view, "counts_throttle_itself", lambda _request: False)(request):
            setattr(django_request, _OWED, counters.Owed(name, window=window, limit=limit))
            return True
        else:
            counted = counters.hit(name, window=window)
        if counted.count <= limit:
            return True
        self._wait = counted.reset_in
        return False

    def wait(self) -> int | None:
        return self._wait


class RateThrottle(CounterThrottle):
    """The default throttle: ``user`` rate per person, ``anon`` rate per client address — one per request."""

    may_leave_to_view = True
    anon_rate: str | None = None  # overrides of DEFAULT_THROTTLE_RATES (tests)
    user_rate: str | None = None

    def scope_and_ident(self, request, view):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return "user", str(user.pk)
        return "anon", self.get_ident(request)


class ScopedRateThrottle(CounterThrottle):
    """A view's ``throttle_scope`` rate, per person or client address, on top of the default throttle."""

    def scope_and_ident(self, request, view):
        scope = getattr(view, "throttle_scope", None)
        if not scope:
            return None
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return scope, ident


@contextlib.contextmanager
def count_owed(request) -> Iterator[counters.Owed | None]:
    """The default throttle's count left to this view (``counts_throttle_itself``), or None: the view
    hands it to the Redis script that does its work (one round trip for both). Whatever path the
    view takes, the request is counted once: a count no script made is made on the way out. Over the
    limit the answer is 429, as if the throttle had refused it — and a script that carried the count
    did none of its work (``counters.LimitReached``)."""
    owed = getattr(getattr(request, "_request", request), _OWED, None)
    try:
        yield owed
    finally:  # also after counters.LimitReached: the count is over the limit
        if owed is not None:
            counted = owed.settle()
            if counted.count > owed.limit:
                raise exceptions.Throttled(wait=counted.reset_in)


def count_person_while(request, *, user_id: int, work: Callable[[], T]) -> T:
    """Run ``work`` (the authentication that reads the person) while the default throttle's count
    for person ``user_id`` travels to Redis (``counters.hit_during``): the throttle then uses that
    count instead of counting again, and the request waits for one round trip instead of two.

    Only when the view throttles with ``RateThrottle`` and counts this person under its ``user``
    rate. The count is made before the view's permissions are checked (DRF checks them before its
    throttles): a refused request of a known token counts too.
    """
    django_request = getattr(request, "_request", request)
    view = (getattr(request, "parser_context", None) or {}).get("view")
    throttle_class = next(
        (c for c in getattr(view, "throttle_classes", ()) if isinstance(c, type) and issubclass(c, RateThrottle)),
        None,
    )
    parsed = _parse(throttle_class().rate_for("user")) if throttle_class is not None else None
    if parsed is None:
        return work()
    _, window = parsed
    name = counters.digest("throttle-user", str(user_id))
    result, counted = counters.hit_during(name, window=window, work=work)
    setattr(django_request, _ADVANCE, (name, window, counted))
    return result
