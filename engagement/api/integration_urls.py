"""URLs of the event log API and the inbound webhooks (included by ``engagement/api/urls.py``)."""

from django.urls import path

from engagement.api import events, webhooks

urlpatterns = [
    path("events/", events.EventListCreateView.as_view(), name="events"),
    path("webhooks/customerio/", webhooks.customerio_webhook, name="webhook-customerio"),
    path("webhooks/kit/", webhooks.kit_webhook, name="webhook-kit"),
]
