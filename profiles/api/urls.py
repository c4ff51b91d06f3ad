from django.urls import path
from rest_framework.routers import SimpleRouter

from profiles.api import views

router = SimpleRouter()
router.register("customer-profiles", views.CustomerProfileViewSet, basename="customer-profile")
router.register("brand-guidelines", views.BrandGuidelinesViewSet, basename="brand-guidelines")
router.register("budgets", views.BudgetViewSet, basename="budget")
router.register("profile-containers", views.ContainerViewSet, basename="profile-container")
router.register("campaign-usages", views.UsageViewSet, basename="campaign-usage")

urlpatterns = [
    path(
        "accounts/<str:account_id>/profile-status/",
        views.AccountProfileStatusView.as_view(),
        name="account-profile-status",
    ),
    path("accounts/<str:account_id>/summary/", views.AccountProfileSummaryView.as_view(), name="account-summary"),
    *router.urls,
]
