from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("brands", views.BrandViewSet, basename="brand")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-auth-token"),
    path("auth/register/", views.RegisterView.as_view(), name="api-auth-register"),
    path("auth/verification/", views.VerificationRequestView.as_view(), name="api-auth-verification"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/custom-fields/", views.MeCustomFieldsView.as_view(), name="api-me-custom-fields"),
    path("me/email/", views.MeEmailView.as_view(), name="api-me-email"),
    path("me/export/", views.MeExportView.as_view(), name="api-me-export"),
    *router.urls,
]
