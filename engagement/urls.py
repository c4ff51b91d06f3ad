"""Pages of this app."""

from django.urls import path

from engagement import views

urlpatterns = [
    path("big-five/", views.bigfive, name="bigfive"),
    path("big-five/results/<str:public_id>/", views.bigfive_result, name="bigfive-result"),
    path("big-five/add/<str:token>/", views.bigfive_pending, name="bigfive-pending"),
    path("blog/", views.blog_index, name="blog-index"),
    path("blog/<slug:slug>/", views.blog_post, name="blog-post"),
    path("blog/<slug:slug>/engage/", views.blog_engage, name="blog-engage"),
]
