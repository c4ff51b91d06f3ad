"""Pages of this app."""

from django.urls import path

from rewards import views

urlpatterns = [
    path("r/<str:code>/", views.referral_landing, name="referral-landing"),
    path("account/gems/", views.history, name="rewards-history"),
    path("account/gems/daily/", views.daily_claim, name="rewards-daily"),
    path("account/gems/scan/", views.scan, name="rewards-scan"),
    path("account/gems/catalog/", views.catalog, name="rewards-catalog"),
    path("account/gems/redeem/", views.redeem, name="rewards-redeem"),
    path("account/gems/redeem/confirm/", views.redeem_confirm, name="rewards-redeem-confirm"),
    path("account/gems/wishlist/<int:product_id>/add/", views.wishlist_add, name="rewards-wishlist-add"),
    path("account/gems/wishlist/<int:item_id>/remove/", views.wishlist_remove, name="rewards-wishlist-remove"),
    path("account/gems/goals/new/", views.goal_new, name="rewards-goal-new"),
    path("account/gems/referral-code/", views.referral_code, name="rewards-referral-code"),
]
