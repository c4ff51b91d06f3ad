from django.urls import path
from rest_framework.routers import SimpleRouter

from engagement.api import events, views

router = SimpleRouter()
router.register("assessments/results", views.QuizResultViewSet, basename="quiz-result")

urlpatterns = [
    path("assessments/big-five/inventory/", views.BigFiveInventoryView.as_view(), name="api-bigfive-inventory"),
    path("assessments/big-five/", views.BigFiveSubmitView.as_view(), name="api-bigfive-submit"),
    path("assessments/big-five/<str:public_id>/", views.BigFiveResultView.as_view(), name="api-bigfive-result"),
    path("blog-engagements/", views.BlogEngagementView.as_view(), name="api-blog-engagements"),
    path("blog-engagements/summary/", views.BlogEngagementSummaryView.as_view(), name="api-blog-engagement-summary"),
    path("events/", events.EventListCreateView.as_view(), name="events"),
    path("me/reports/", views.MyReportsView.as_view(), name="api-my-reports"),
    path("me/compare-links/", views.CompareLinksView.as_view(), name="api-compare-links"),
    path("me/compare-links/join/", views.CompareLinkJoinView.as_view(), name="api-compare-link-join"),
    path("me/compare-links/<str:public_id>/", views.CompareLinkDetailView.as_view(), name="api-compare-link"),
    path(
        "me/compare-links/<str:public_id>/revoke/",
        views.CompareLinkRevokeView.as_view(),
        name="api-compare-link-revoke",
    ),
    *router.urls,
]
