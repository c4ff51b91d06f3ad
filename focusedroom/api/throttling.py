"""API throttles whose client address is ``focusedroom.context.client_ip`` (the one rule).

DRF's own throttles read ``X-Forwarded-For`` with their own logic; these use the same
function as the rest of FocusedRoom, so a client rotating that header never gets a fresh
history unless a configured proxy wrote it.
"""

from __future__ import annotations

from rest_framework import throttling

from focusedroom.context import client_ip


class ClientAddressMixin:
    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientAddressMixin, throttling.ScopedRateThrottle):
    pass
