"""Pages of this app."""

from django.urls import path

from engagement import views

urlpatterns = [
    path("big-five/", views.bigfive, name="bigfive"),
    path("big-five/results/<str:public_id>/", views.bigfive_result, name="bigfive-result"),
    path("big-five/results/<str:public_id>/compare/", views.compare_create, name="bigfive-compare-create"),
    path("big-five/add/<str:token>/", views.bigfive_pending, name="bigfive-pending"),
    path("big-five/compare/<str:public_id>/", views.compare_detail, name="bigfive-compare"),
    path("big-five/compare/<str:public_id>/revoke/", views.compare_revoke, name="bigfive-compare-revoke"),
    path("big-five/compare/<str:public_id>/<str:signature>/", views.compare_invite, name="bigfive-compare-invite"),
    path("account/reports/", views.my_reports, name="my-reports"),
    path("blog/", views.blog_index, name="blog-index"),
    path("blog/<slug:slug>/", views.blog_post, name="blog-post"),
    path("blog/<slug:slug>/engage/", views.blog_engage, name="blog-engage"),
]
