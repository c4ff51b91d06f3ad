"""FocusedRoom URLs (the shell: the only URL module that knows every app).

Each app owns ``<app>/api/urls.py`` for its API, mounted under ``/api/v1/``, and apps
with pages own ``<app>/urls.py``.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from focusedroom import views

# Tried in this order: the experiments API first, as every page of a running experiment posts an exposure.
API_APPS = ["experiments", "accounts", "engagement", "rewards", "profiles", "integrations"]
PAGE_APPS = ["accounts", "engagement", "experiments", "rewards", "profiles"]

api_v1 = [path("", include(f"{app}.api.urls")) for app in API_APPS]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script from a URL: no inline script (Content-Security-Policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api_v1)),
    *[path("", include(f"{app}.urls")) for app in PAGE_APPS],
]

handler400 = "focusedroom.views.bad_request"
handler403 = "focusedroom.views.permission_denied"
handler404 = "focusedroom.views.page_not_found"
handler500 = "focusedroom.views.server_error"
