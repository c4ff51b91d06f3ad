from django.urls import path

from integrations.api import audiences, webhooks

urlpatterns = [
    path("webhooks/customerio/", webhooks.customerio_webhook, name="webhook-customerio"),
    path("webhooks/kit/", webhooks.kit_webhook, name="webhook-kit"),
    path(
        "customer-profiles/<uuid:pk>/audience/",
        audiences.CustomerProfileAudienceView.as_view(),
        name="customer-profile-audience",
    ),
]
