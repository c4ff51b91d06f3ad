"""A thin client of Kit's (ConvertKit) API v4.

upsert      ``POST {KIT_API_URL}/v4/subscribers``                    creates or updates by email
unsubscribe ``POST {KIT_API_URL}/v4/subscribers/{id}/unsubscribe``

tag         ``POST {KIT_API_URL}/v4/tags`` (find or create by name), then
            ``POST {KIT_API_URL}/v4/tags/{tag_id}/subscribers`` (by email)
untag       ``DELETE {KIT_API_URL}/v4/tags/{tag_id}/subscribers`` (by email)

Authentication is the account's API key in the ``X-Kit-Api-Key`` header.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings

from integrations.http import DeliveryError, send


class KitClient:
    def __init__(self, *, api_key: str | None = None, base_url: str | None = None, session=None):
        self.base_url = (base_url or settings.KIT_API_URL).rstrip("/")
        self.session = session or requests.Session()
        self.headers = {"X-Kit-Api-Key": api_key if api_key is not None else settings.KIT_API_KEY}

    def _with_key(self, key: str) -> dict[str, str]:
        return {**self.headers, "Idempotency-Key": key} if key else self.headers

    def upsert_subscriber(
        self, *, email: str, first_name: str = "", fields: dict[str, Any] | None = None, idempotency_key: str = ""
    ) -> str:
        """Create or update the subscriber; returns Kit's subscriber id."""
        body: dict[str, Any] = {"email_address": email, "state": "active"}
        if first_name:
            body["first_name"] = first_name
        if fields:
            body["fields"] = fields
        response = send(
            self.session, "POST", f"{self.base_url}/v4/subscribers", json=body, headers=self._with_key(idempotency_key)
        )
        try:
            return str(response.json()["subscriber"]["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(
                f"Kit answered without a subscriber id: {response.text[:200]}", retryable=False
            ) from exc

    def unsubscribe(self, *, subscriber_id: str, idempotency_key: str = "") -> None:
        url = f"{self.base_url}/v4/subscribers/{subscriber_id}/unsubscribe"
        send(self.session, "POST", url, headers=self._with_key(idempotency_key))

    def tag_id(self, *, name: str) -> str:
        """The id of the tag called ``name``, created if Kit has none (Kit answers 200 with the existing one)."""
        response = send(self.session, "POST", f"{self.base_url}/v4/tags", json={"name": name}, headers=self.headers)
        try:
            return str(response.json()["tag"]["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(f"Kit answered without a tag id: {response.text[:200]}", retryable=False) from exc

    def tag_subscriber(self, *, tag_id: str, email: str) -> None:
        url = f"{self.base_url}/v4/tags/{tag_id}/subscribers"
        send(self.session, "POST", url, json={"email_address": email}, headers=self.headers)

    def untag_subscriber(self, *, tag_id: str, email: str) -> None:
        url = f"{self.base_url}/v4/tags/{tag_id}/subscribers"
        send(self.session, "DELETE", url, json={"email_address": email}, headers=self.headers)
