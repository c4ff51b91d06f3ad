from __future__ import annotations

from rest_framework import serializers

from accounts import selectors as accounts_selectors
from focusedroom.api.serializers import StrictModelSerializer, StrictSerializer
from rewards import selectors
from rewards.models import (
    AchievementConfig,
    EngagementReward,
    Goal,
    LedgerEntry,
    PendingCredit,
    Product,
    ProductScan,
    Rank,
    Redemption,
    Referral,
    RewardItem,
    WishlistItem,
)

# ------------------------------------------------------------------------- catalogue
# Staff writes: these serializers only shape the input; the catalogue services validate
# (``services.catalogue_validate``) and save.


class ProductSerializer(StrictModelSerializer):
    brand = serializers.SlugRelatedField(slug_field="slug", queryset=accounts_selectors.brands(active_only=False))

    class Meta:
        model = Product
        fields = [
            "id",
            "brand",
            "sku",
            "name",
            "msrp",
            "points_award",
            "redemption_cost",
            "product_line",
            "product_form",
            "strain_name",
            "strain_type",
            "potency_thc_percent",
            "potency_cbd_percent",
            "dominant_terpene",
            "tags",
            "is_featured",
            "is_new",
            "is_limited",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []


class RewardItemSerializer(StrictModelSerializer):
    brand = serializers.SlugRelatedField(slug_field="slug", queryset=accounts_selectors.brands(active_only=False))

    class Meta:
        model = RewardItem
        fields = ["id", "brand", "key", "name", "description", "cost", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []


class RankSerializer(StrictModelSerializer):
    brand = serializers.SlugRelatedField(slug_field="slug", queryset=accounts_selectors.brands(active_only=False))

    class Meta:
        model = Rank
        fields = [
            "id",
            "brand",
            "key",
            "name",
            "points_required",
            "point_multiplier",
            "benefits",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []


class AchievementConfigSerializer(StrictModelSerializer):
    brand = serializers.SlugRelatedField(
        slug_field="slug", queryset=accounts_selectors.brands(active_only=False), allow_null=True, required=False
    )

    class Meta:
        model = AchievementConfig
        fields = [
            "id",
            "brand",
            "name",
            "description",
            "achievement_key",
            "achievement_type",
            "criteria",
            "rewards",
            "visibility",
            "metadata",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list = []


# ---------------------------------------------------------------------------- ledger


class RankLadderSerializer(serializers.Serializer):
    brand = serializers.CharField(source="brand.slug")
    rank = serializers.CharField(source="rank.key", allow_null=True, default=None)
    rank_name = serializers.CharField(source="rank.name", allow_null=True, default=None)
    multiplier = serializers.DecimalField(max_digits=3, decimal_places=2)
    next_rank = serializers.CharField(source="next_rank.key", allow_null=True, default=None)
    points_to_next = serializers.IntegerField()
    percent = serializers.IntegerField()


class ReferralSummarySerializer(serializers.Serializer):
    code = serializers.CharField(allow_null=True, help_text="Empty when the member has no code yet.")
    link = serializers.URLField(allow_null=True)
    pending = serializers.IntegerField()
    converted = serializers.IntegerField()
    expired = serializers.IntegerField()
    gems = serializers.IntegerField()


class ExpirySlotSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField()
    amount = serializers.IntegerField(help_text="Gems left that expire at this instant.")


class ExpiryScheduleSerializer(serializers.Serializer):
    schedule = ExpirySlotSerializer(many=True, help_text="Soonest first.")
    never_expire = serializers.IntegerField(help_text="Gems without an expiry date.")


class WalletSerializer(serializers.Serializer):
    balance = serializers.IntegerField(source="wallet.balance")
    available = serializers.IntegerField(help_text="Gems to spend now (the balance).")
    pending = serializers.IntegerField(help_text="Gems held pending: spendable once released.")
    next_expiry = ExpirySlotSerializer(allow_null=True, help_text="The next gems to expire, if any.")
    lifetime_earned = serializers.IntegerField(source="wallet.lifetime_earned")
    updated_at = serializers.DateTimeField(
        source="wallet.updated_at", allow_null=True, help_text="Empty while the member has no wallet yet."
    )
    ranks = RankLadderSerializer(many=True)
    referral = ReferralSummarySerializer()


class LedgerEntrySerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug")
    reason_display = serializers.CharField(source="get_reason_display")
    signed_amount = serializers.IntegerField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "amount",
            "signed_amount",
            "reason",
            "reason_display",
            "description",
            "brand",
            "source",
            "actor_kind",
            "reverses",
            "created_at",
        ]
        read_only_fields = fields


class DailyRewardSerializer(serializers.ModelSerializer):
    class Meta:
        model = EngagementReward
        fields = ["id", "reward_type", "reward_amount", "day", "streak", "created_at"]
        read_only_fields = fields


class MyAchievementSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug", allow_null=True, default=None)
    progress = serializers.DecimalField(source="my_progress", max_digits=14, decimal_places=2, default=0)
    completed = serializers.BooleanField(source="my_completed", default=False)
    completed_at = serializers.DateTimeField(source="my_completed_at", allow_null=True, default=None)
    points_rewarded = serializers.IntegerField(source="my_points", default=0)
    percent = serializers.SerializerMethodField()

    class Meta:
        model = AchievementConfig
        fields = [
            "id",
            "brand",
            "achievement_key",
            "name",
            "description",
            "achievement_type",
            "criteria",
            "rewards",
            "progress",
            "percent",
            "completed",
            "completed_at",
            "points_rewarded",
        ]
        read_only_fields = fields

    def get_percent(self, obj) -> int:
        return selectors.achievement_percent(obj)


class ProductBriefSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug")

    class Meta:
        model = Product
        fields = ["id", "brand", "sku", "name", "points_award", "redemption_cost"]
        read_only_fields = fields


class WishlistItemSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)

    class Meta:
        model = WishlistItem
        fields = ["id", "product", "added_at"]
        read_only_fields = fields


class WishlistAddSerializer(StrictSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.select_related("brand"))


class GoalSerializer(serializers.ModelSerializer):
    current_points = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = [
            "id",
            "goal_type",
            "goal_name",
            "product",
            "target_points",
            "current_points",
            "percent",
            "is_active",
            "started_at",
            "completed_at",
        ]
        read_only_fields = fields

    def _progress(self, goal):
        return selectors.goal_progress(goal, balance=self.context.get("balance", 0))

    def get_current_points(self, goal) -> int:
        return self._progress(goal)["current_points"]

    def get_percent(self, goal) -> int:
        return self._progress(goal)["percent"]


class GoalCreateSerializer(StrictSerializer):
    goal_type = serializers.ChoiceField(choices=Goal.Type.choices, default=Goal.Type.CUSTOM)
    goal_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    target_points = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False, allow_null=True)
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(is_active=True), required=False, allow_null=True
    )


class GoalUpdateSerializer(StrictSerializer):
    goal_name = serializers.CharField(max_length=255, required=False)
    target_points = serializers.IntegerField(min_value=1, max_value=100_000_000, required=False)
    is_active = serializers.BooleanField(required=False)


class ReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = ["id", "status", "created_at", "expires_at", "converted_at", "points_awarded_to_referrer"]
        read_only_fields = fields


class PendingCreditSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug")
    reason_display = serializers.CharField(source="get_reason_display")

    class Meta:
        model = PendingCredit
        fields = [
            "id",
            "amount",
            "reason",
            "reason_display",
            "description",
            "brand",
            "status",
            "release_at",
            "created_at",
        ]
        read_only_fields = fields


class PendingCreditStaffSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.slug")
    user_email = serializers.CharField(source="user.email")

    class Meta:
        model = PendingCredit
        fields = [
            "id",
            "user",
            "user_email",
            "brand",
            "amount",
            "reason",
            "source",
            "description",
            "status",
            "release_at",
            "released_at",
            "entry",
            "cancelled_at",
            "cancelled_by",
            "cancel_reason",
            "created_at",
        ]
        read_only_fields = fields


class CancelInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class ReferralStaffSerializer(serializers.ModelSerializer):
    referrer_email = serializers.CharField(source="referrer.email")
    brand = serializers.CharField(source="brand.slug")

    class Meta:
        model = Referral
        fields = [
            "id",
            "referrer",
            "referrer_email",
            "referee",
            "email",
            "brand",
            "status",
            "hold_reasons",
            "held_at",
            "ip_address",
            "visitor_id",
            "created_at",
            "expires_at",
            "converted_at",
            "points_awarded_to_referrer",
            "points_awarded_to_referee",
            "reviewed_at",
            "reviewed_by",
            "review_note",
        ]
        read_only_fields = fields


class ReviewInputSerializer(StrictSerializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RejectInputSerializer(StrictSerializer):
    note = serializers.CharField(max_length=500)


class ScanInputSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    brand = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    qr = serializers.CharField(max_length=400, required=False, allow_blank=True, default="")


class ScanSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)

    class Meta:
        model = ProductScan
        fields = ["id", "product", "day", "points_awarded", "multiplier", "created_at"]
        read_only_fields = fields


class RedemptionInputSerializer(StrictSerializer):
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.select_related("brand"), required=False, allow_null=True
    )
    reward_item = serializers.PrimaryKeyRelatedField(
        queryset=RewardItem.objects.select_related("brand"), required=False, allow_null=True
    )


class RedemptionSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    reward_item = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = Redemption
        fields = [
            "id",
            "product",
            "reward_item",
            "cost",
            "status",
            "entry",
            "reversal_entry",
            "reversal_reason",
            "reversed_at",
            "created_at",
        ]
        read_only_fields = fields


class ReverseInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)
