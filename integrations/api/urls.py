from django.urls import path

from integrations.api import webhooks

urlpatterns = [
    path("webhooks/customerio/", webhooks.customerio_webhook, name="webhook-customerio"),
    path("webhooks/kit/", webhooks.kit_webhook, name="webhook-kit"),
]
