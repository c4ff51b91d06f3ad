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
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
