from django.urls import path
from rest_framework.routers import SimpleRouter

from experiments.api import views

router = SimpleRouter()
router.register("experiments", views.ExperimentViewSet, basename="experiment")

urlpatterns = [
    path("conversions/", views.ConversionView.as_view(), name="api-conversions"),
    *router.urls,
]
