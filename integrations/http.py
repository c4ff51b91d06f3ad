"""What every outside-service client shares: timeouts and the classification of failures.

A delivery either succeeds (2xx) or raises ``DeliveryError``. ``retryable`` says whether
trying again later may help: 429, 5xx, timeouts and connection errors are retried;
any other answer (400, 401, 404, …) will not get better and fails the message at once.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings


def http_timeout() -> float:
    """Seconds to wait for connecting and for each read (``INTEGRATIONS_HTTP_TIMEOUT``)."""
    return settings.INTEGRATIONS_HTTP_TIMEOUT


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


def is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def send(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    """One HTTP call; a non-2xx answer or a network failure raises ``DeliveryError``."""
    try:
        response = session.request(method, url, timeout=http_timeout(), **kwargs)
    except requests.Timeout as exc:
        raise DeliveryError(f"{method} {url}: timed out ({exc.__class__.__name__})", retryable=True) from exc
    except requests.ConnectionError as exc:
        raise DeliveryError(f"{method} {url}: connection failed ({exc})", retryable=True) from exc
    except requests.RequestException as exc:
        raise DeliveryError(f"{method} {url}: {exc}", retryable=False) from exc
    if 200 <= response.status_code < 300:
        return response
    raise DeliveryError(
        f"{method} {url}: HTTP {response.status_code} {response.text[:500]}",
        retryable=is_retryable_status(response.status_code),
        status=response.status_code,
    )
