"""The engagement part of GDPR export and erasure: the event log.

Export: the person's events. Erasure: events keep their type, time and points but lose
IP, user agent, URL, metadata and ids.
"""

from __future__ import annotations

from typing import Any

from engagement import event_log


def export(*, user) -> dict[str, Any]:
    return {"events": event_log.events_export(user=user)}


def erase(*, user) -> None:
    event_log.events_erase(user=user)
