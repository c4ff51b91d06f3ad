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
    *router.urls,
]
