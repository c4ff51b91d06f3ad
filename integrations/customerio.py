"""A thin client of Customer.io's Track API (v1).

identify  ``PUT  {CUSTOMERIO_TRACK_URL}/customers/{id}``          attributes as JSON
event     ``POST {CUSTOMERIO_TRACK_URL}/customers/{id}/events``   ``{"name": …, "data": {…}}``
anonymous ``POST {CUSTOMERIO_TRACK_URL}/events``                  ``{"name": …, "data": {…}}``
delete    ``DELETE {CUSTOMERIO_TRACK_URL}/customers/{id}``

Authentication is HTTP basic with the brand's site id and API key. The customer id is
FocusedRoom's person id, so it never changes, even when a person changes email or is
erased. Each call may carry the outbox message's idempotency key: the ``Idempotency-Key``
header, and for events the event ``id`` Customer.io deduplicates on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from integrations.http import send


class CustomerIOClient:
    def __init__(self, *, site_id: str, api_key: str, base_url: str | None = None, session=None):
        self.base_url = (base_url or settings.CUSTOMERIO_TRACK_URL).rstrip("/")
        self.session = session or requests.Session()
        self.auth = (site_id, api_key)

    def _customer_url(self, customer_id: str) -> str:
        return f"{self.base_url}/customers/{quote(str(customer_id), safe='')}"

    @staticmethod
    def _headers(key: str) -> dict[str, str]:
        return {"Idempotency-Key": key} if key else {}

    def identify(self, *, customer_id: str, attributes: dict[str, Any], idempotency_key: str = "") -> None:
        send(
            self.session,
            "PUT",
            self._customer_url(customer_id),
            json=attributes,
            auth=self.auth,
            headers=self._headers(idempotency_key),
        )

    def track(self, *, customer_id: str, name: str, data: dict[str, Any], idempotency_key: str = "") -> None:
        body: dict[str, Any] = {"name": name, "data": data}
        if idempotency_key:
            body["id"] = idempotency_key
        url = self._customer_url(customer_id) + "/events"
        send(self.session, "POST", url, json=body, auth=self.auth, headers=self._headers(idempotency_key))

    def track_anonymous(self, *, name: str, data: dict[str, Any], idempotency_key: str = "") -> None:
        body: dict[str, Any] = {"name": name, "data": data}
        if idempotency_key:
            body["id"] = idempotency_key
        url = f"{self.base_url}/events"
        send(self.session, "POST", url, json=body, auth=self.auth, headers=self._headers(idempotency_key))

    def delete(self, *, customer_id: str, idempotency_key: str = "") -> None:
        send(
            self.session,
            "DELETE",
            self._customer_url(customer_id),
            auth=self.auth,
            headers=self._headers(idempotency_key),
        )
