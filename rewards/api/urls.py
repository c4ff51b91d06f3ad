from django.urls import path
from rest_framework.routers import SimpleRouter

from rewards.api import views

router = SimpleRouter()
router.register("me/wishlist", views.WishlistViewSet, basename="my-wishlist")
router.register("me/goals", views.GoalViewSet, basename="my-goal")
router.register("scans", views.ScanViewSet, basename="scan")
router.register("redemptions", views.RedemptionViewSet, basename="redemption")
router.register("products", views.ProductViewSet, basename="product")
router.register("reward-items", views.RewardItemViewSet, basename="reward-item")
router.register("ranks", views.RankViewSet, basename="rank")
router.register("achievement-configs", views.AchievementConfigViewSet, basename="achievement-config")
router.register("pending-credits", views.PendingCreditViewSet, basename="pending-credit")
router.register("referrals", views.ReferralReviewViewSet, basename="referral")

urlpatterns = [
    path("me/wallet/", views.WalletView.as_view(), name="my-wallet"),
    path("me/gems/expiry/", views.ExpiryScheduleView.as_view(), name="my-gems-expiry"),
    path("me/pending-gems/", views.PendingGemsView.as_view(), name="my-pending-gems"),
    path("me/transactions/", views.TransactionsView.as_view(), name="my-transactions"),
    path("me/daily-reward/", views.DailyRewardView.as_view(), name="my-daily-reward"),
    path("me/achievements/", views.MyAchievementsView.as_view(), name="my-achievements"),
    path("me/referrals/", views.ReferralsView.as_view(), name="my-referrals"),
    path("me/referral-code/", views.ReferralCodeView.as_view(), name="my-referral-code"),
    *router.urls,
]
