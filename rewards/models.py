"""Insight Gems: the ledger, wallets and the loyalty programme of each brand.

One currency (Insight Gems), one wallet per person. Every change of a balance is an
immutable ``LedgerEntry`` tagged with the brand it concerns; ``Wallet`` caches the
balance and the lifetime earned, updated in the same transaction under a row lock, and
the database keeps the balance non-negative. Ranks, achievements, products and reward
items are configured per brand.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from accounts.selectors import PEOPLE_TABLE
from rewards.schemas import ACHIEVEMENT_REWARDS_SCHEMA, CRITERIA_SCHEMA, check_criteria, validate_json


class Product(models.Model):
    """A product a member can scan, wish for or redeem (seed 004 ``products``)."""

    class StrainType(models.TextChoices):
        SATIVA = "Sativa"
        INDICA = "Indica"
        HYBRID = "Hybrid"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="products")
    sku = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    msrp = models.DecimalField("MSRP", max_digits=10, decimal_places=2)
    points_award = models.PositiveIntegerField(
        help_text="Insight Gems awarded for a scan (before the rank multiplier)."
    )
    redemption_cost = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Insight Gems a member spends to redeem this product; empty when it cannot be redeemed.",
    )
    product_line = models.CharField(max_length=100, blank=True, default="")
    product_form = models.CharField(max_length=100, blank=True, default="", help_text="e.g. Book, Course, Journal.")
    strain_name = models.CharField(max_length=100, blank=True, default="")
    strain_type = models.CharField(max_length=10, blank=True, default="", choices=StrainType.choices)
    potency_thc_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    potency_cbd_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    dominant_terpene = models.CharField(max_length=100, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    is_featured = models.BooleanField(default=False)
    is_new = models.BooleanField(default=False)
    is_limited = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["brand", "name"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "brand"], name="rewards_product_sku_brand_unique"),
            models.CheckConstraint(condition=Q(msrp__gte=0), name="rewards_product_msrp_gte_0"),
            models.CheckConstraint(
                condition=Q(strain_type__in=["", "Sativa", "Indica", "Hybrid"]),
                name="rewards_product_strain_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(redemption_cost__isnull=True) | Q(redemption_cost__gt=0),
                name="rewards_product_redemption_cost_gt_0",
            ),
        ]
        indexes = [models.Index(fields=["sku"], name="rewards_product_sku")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def clean(self) -> None:
        if not isinstance(self.tags, list) or not all(isinstance(t, str) and len(t) <= 100 for t in self.tags):
            raise ValidationError(
                {"tags": ['Tags are a list of short strings (up to 100 characters), e.g. ["focus", "new"].']}
            )


class RewardItem(models.Model):
    """Something that is not a product that a member can spend gems on (a session, a discount)."""

    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="reward_items")
    key = models.SlugField(max_length=100)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    cost = models.PositiveIntegerField(help_text="Insight Gems spent to redeem it.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["brand", "cost", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "key"], name="rewards_rewarditem_brand_key_unique"),
            models.CheckConstraint(condition=Q(cost__gt=0), name="rewards_rewarditem_cost_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cost} gems)"


# --------------------------------------------------------------------------- ledger


class Wallet(models.Model):
    """A member's gems: the balance and the lifetime earned, derived from the ledger.

    Only loyalty members hold one: a database trigger refuses a wallet for a staff account.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet")
    balance = models.IntegerField(default=0)
    lifetime_earned = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        # No index holds a column a ledger write changes (balance, lifetime_earned, updated_at), so the
        # wallet update of every write is a HOT update (the table keeps 10 % of each page free for it,
        # migration 0005); the console lists wallets newest first on the primary key.
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="rewards_wallet_balance_gte_0"),
            models.CheckConstraint(condition=Q(lifetime_earned__gte=0), name="rewards_wallet_lifetime_gte_0"),
        ]
        permissions = [("adjust_wallet", "Can adjust a wallet's balance (through a ledger entry)")]
        triggers = [
            # Staff are not loyalty members: no wallet (so no gems, ranks or achievements) for them.
            pgtrigger.Trigger(
                name="members_only",
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("user_id"),
                when=pgtrigger.Before,
                func=f"""
                    IF EXISTS (SELECT 1 FROM {PEOPLE_TABLE} WHERE id = NEW.user_id AND is_staff) THEN
                        RAISE EXCEPTION 'person % is staff: staff accounts hold no wallet', NEW.user_id
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                """,  # noqa: S608 (the people table's name is a constant)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.balance} gems"


class LedgerEntry(models.Model):
    """One immutable change of a wallet (seed 002 ``gem_transactions``).

    Never updated nor deleted: a database trigger refuses it. A mistake is corrected by
    a reversal, a new entry of the opposite kind that references the one it reverses.
    """

    class Kind(models.TextChoices):
        CREDIT = "CREDIT", "Credit"
        DEBIT = "DEBIT", "Debit"

    class Reason(models.TextChoices):
        WELCOME = "welcome", "Welcome gift"
        DAILY_LOGIN = "daily_login", "Daily login reward"
        QUIZ_COMPLETED = "quiz_completed", "Big Five test completed"
        EMAIL_VERIFIED = "email_verified", "Email address verified"
        PRODUCT_SCAN = "product_scan", "Product scanned"
        REFERRAL_REFERRER = "referral_referrer", "A friend you referred joined"
        REFERRAL_REFEREE = "referral_referee", "Joined through a friend's referral"
        ACHIEVEMENT = "achievement", "Achievement unlocked"
        REDEMPTION = "redemption", "Redeemed"
        REVERSAL = "reversal", "Correction (reversal)"
        ADJUSTMENT = "adjustment", "Adjustment by our support team"
        EXPIRY = "expiry", "Gems expired"

    class ActorKind(models.TextChoices):
        PERSON = "person", "The member"
        STAFF = "staff", "Staff member"
        SYSTEM = "system", "System"

    # Indexed by ``rewards_ledger_wallet_time`` (wallet first): no separate index on the foreign key.
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries", db_index=False)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=100, blank=True, default="", help_text="What caused it, e.g. scan:42.")
    description = models.CharField(max_length=500, blank=True, default="")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255)  # unique: rewards_ledger_idempotency_key_unique
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="A credit (a lot): when its gems expire under the brand's rule; empty: never."
    )
    lot = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expiry_entry",
        help_text="An expiry entry: the lot (credit) whose remaining gems it expires.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="rewards_ledger_amount_gt_0"),
            models.CheckConstraint(condition=Q(kind__in=["CREDIT", "DEBIT"]), name="rewards_ledger_kind_valid"),
            models.CheckConstraint(
                condition=(Q(reason="reversal") & Q(reverses__isnull=False))
                | (~Q(reason="reversal") & Q(reverses__isnull=True)),
                name="rewards_ledger_reversal_has_target",
            ),
            models.CheckConstraint(
                condition=(Q(actor_kind="system") & Q(actor__isnull=True))
                | (~Q(actor_kind="system") & Q(actor__isnull=False)),
                name="rewards_ledger_actor_matches_kind",
            ),
            models.CheckConstraint(condition=~Q(reverses=F("id")), name="rewards_ledger_not_self_reversal"),
            # A constraint rather than ``unique=True``: the same guarantee (and ON CONFLICT target)
            # without the second, pattern-matching index Django adds to a unique CharField.
            models.UniqueConstraint(fields=["idempotency_key"], name="rewards_ledger_idempotency_key_unique"),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(kind="CREDIT"), name="rewards_ledger_expiry_on_credits"
            ),
            models.CheckConstraint(
                condition=(Q(reason="expiry") & Q(kind="DEBIT") & Q(lot__isnull=False))
                | (~Q(reason="expiry") & Q(lot__isnull=True)),
                name="rewards_ledger_expiry_names_lot",
            ),
        ]
        indexes = [
            models.Index(fields=["wallet", "-created_at", "-id"], name="rewards_ledger_wallet_time"),
            models.Index(
                fields=["expires_at"], name="rewards_ledger_lot_expiry", condition=Q(expires_at__isnull=False)
            ),
            models.Index(fields=["reason", "-created_at"], name="rewards_ledger_reason_time"),
            models.Index(fields=["-created_at", "-id"], name="rewards_ledger_time"),
        ]
        triggers = [
            pgtrigger.Protect(name="immutable", operation=pgtrigger.Update | pgtrigger.Delete),
            # An expiry entry expires a lot of its own wallet, once its date has come.
            pgtrigger.Trigger(
                name="expiry_of_due_lot",
                operation=pgtrigger.Insert,
                when=pgtrigger.Before,
                condition=pgtrigger.Q(new__lot__isnull=False),
                func="""
                    IF NOT EXISTS (SELECT 1 FROM rewards_ledgerentry l
                                    WHERE l.id = NEW.lot_id AND l.wallet_id = NEW.wallet_id AND l.kind = 'CREDIT'
                                      AND l.expires_at IS NOT NULL AND l.expires_at <= NEW.created_at) THEN
                        RAISE EXCEPTION 'entry % is not a due lot of wallet %', NEW.lot_id, NEW.wallet_id
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]
        permissions = [("reverse_ledgerentry", "Can reverse a ledger entry")]

    def __str__(self) -> str:
        sign = "+" if self.kind == self.Kind.CREDIT else "−"
        return f"{sign}{self.amount} {self.get_reason_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValidationError("Ledger entries are immutable; record a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Ledger entries are immutable; record a reversal instead.")

    @property
    def signed_amount(self) -> int:
        return self.amount if self.kind == self.Kind.CREDIT else -self.amount


class AuditRun(models.Model):
    """The result of one ``manage.py rewards_audit`` (visible to ops in the console)."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    wallets_checked = models.PositiveIntegerField(default=0)
    entries_checked = models.PositiveBigIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    lots_checked = models.PositiveBigIntegerField(default=0)
    lot_differences = models.PositiveIntegerField(
        default=0, help_text="Wallets whose lots (replayed from the ledger) disagree with their balance."
    )
    details = models.JSONField(default=list, blank=True, help_text="The first wallets that differ.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return (
            f"Audit {self.started_at:%Y-%m-%d %H:%M}: {'clean' if self.is_clean else f'{self.differences} differences'}"
        )

    @property
    def is_clean(self) -> bool:
        return self.differences == 0 and self.lot_differences == 0


class LotState(models.Model):
    """What the expiry job did with a lot (a credit with an expiry date): warned once, closed once.

    The ledger stays append-only: the lot is the credit entry, its expiry is an ``expiry``
    entry naming it. This row only remembers that the member was warned (14 days before)
    and that the lot needs no more work (expired, or fully spent before its date).
    """

    lot = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, primary_key=True, related_name="lot_state")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    warned_at = models.DateTimeField(null=True, blank=True, help_text="When the member was told it would expire.")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When the job expired it (or found it spent).")
    expired_amount = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=False) | Q(expired_amount=0), name="rewards_lotstate_expired_when_closed"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="closed_is_final", operation=pgtrigger.Update, condition=pgtrigger.Q(old__closed_at__isnull=False)
            ),
            pgtrigger.Protect(
                name="warned_once",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__warned_at__isnull=False, new__warned_at__df=pgtrigger.F("old__warned_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"lot {self.lot_id} ({'closed' if self.closed_at else 'warned' if self.warned_at else 'open'})"


class PendingCredit(models.Model):
    """A credit the brand holds for some days before it becomes spendable (not a ledger entry yet).

    Released by the release job as a normal credit (its idempotency key becomes the entry's),
    or cancelled by staff within the window with a reason. Released and cancelled are final.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RELEASED = "released", "Released"
        CANCELLED = "cancelled", "Cancelled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pending_credits")
    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=32, choices=LedgerEntry.Reason.choices)
    source = models.CharField(max_length=100, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    release_at = models.DateTimeField(help_text="When it becomes spendable unless cancelled before.")
    released_at = models.DateTimeField(null=True, blank=True)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="rewards_pending_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(reason__in=["product_scan", "referral_referrer", "referral_referee"]),
                name="rewards_pending_reason_holdable",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="pending")
                    & Q(entry__isnull=True, released_at__isnull=True, cancelled_at__isnull=True)
                    & Q(cancelled_by__isnull=True, cancel_reason="")
                )
                | (
                    Q(status="released")
                    & Q(entry__isnull=False, released_at__isnull=False, cancelled_at__isnull=True)
                    & Q(cancelled_by__isnull=True, cancel_reason="")
                )
                | (
                    Q(status="cancelled")
                    & Q(entry__isnull=True, released_at__isnull=True, cancelled_at__isnull=False)
                    & Q(cancelled_by__isnull=False)
                    & ~Q(cancel_reason="")
                ),
                name="rewards_pending_status_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["release_at"], name="rewards_pending_due", condition=Q(status="pending")),
            models.Index(fields=["user", "status"], name="rewards_pending_user"),
            models.Index(fields=["-created_at", "-id"], name="rewards_pending_time"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="final_states",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__status__in=["released", "cancelled"]),
            ),
        ]
        permissions = [("cancel_pendingcredit", "Can cancel a pending credit")]

    def __str__(self) -> str:
        return f"{self.user}: +{self.amount} {self.get_reason_display()} ({self.status})"


# ----------------------------------------------------------------- earning rules


class EngagementReward(models.Model):
    """A non-transactional engagement rewarded with gems (seed 002 ``engagement_rewards``)."""

    class Type(models.TextChoices):
        DAILY_LOGIN = "daily_login", "Daily login"
        QUIZ_COMPLETED = "quiz_completed", "Quiz completed"
        EMAIL_VERIFIED = "email_verified", "Email verified"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="engagement_rewards")
    reward_type = models.CharField(max_length=32, choices=Type.choices)
    reward_amount = models.PositiveIntegerField()
    day = models.DateField(help_text="Calendar day in the member's time zone.")
    streak = models.PositiveIntegerField(default=1, help_text="Consecutive days (daily login).")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "reward_type", "day"],
                condition=Q(reward_type="daily_login"),
                name="rewards_engagement_daily_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "reward_type"],
                condition=Q(reward_type="email_verified"),
                name="rewards_engagement_email_verified_once",
            ),
            models.CheckConstraint(condition=Q(streak__gte=1), name="rewards_engagement_streak_gte_1"),
        ]
        indexes = [models.Index(fields=["user", "reward_type", "-day"], name="rewards_engagement_user_day")]

    def __str__(self) -> str:
        return f"{self.get_reward_type_display()} {self.day} (+{self.reward_amount})"


class ProductScan(models.Model):
    """A member scanned a product: one award per member, product and day (seed 004)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="product_scans")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="scans")
    day = models.DateField(help_text="Calendar day in the member's time zone.")
    points_awarded = models.PositiveIntegerField(default=0)
    multiplier = models.DecimalField(max_digits=4, decimal_places=2, default=1)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product", "day"], name="rewards_scan_once_per_day"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="rewards_scan_user_time")]

    def __str__(self) -> str:
        return f"{self.user} scanned {self.product} on {self.day}"


class Redemption(models.Model):
    """Gems spent on a product or a reward item; staff may reverse it with a reason."""

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        REVERSED = "reversed", "Reversed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="redemptions")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reward_item = models.ForeignKey(RewardItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cost = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="redemption")
    reversal_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reversal_reason = models.CharField(max_length=500, blank=True, default="")
    reversed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(product__isnull=False) & Q(reward_item__isnull=True))
                | (Q(product__isnull=True) & Q(reward_item__isnull=False)),
                name="rewards_redemption_one_target",
            ),
            models.CheckConstraint(condition=Q(cost__gt=0), name="rewards_redemption_cost_gt_0"),
            models.CheckConstraint(
                condition=(Q(status="completed") & Q(reversal_entry__isnull=True) & Q(reversed_at__isnull=True))
                | (Q(status="reversed") & Q(reversal_entry__isnull=False) & Q(reversed_at__isnull=False)),
                name="rewards_redemption_status_consistent",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="rewards_redemption_user_time")]
        permissions = [("reverse_redemption", "Can reverse a redemption (refund the gems)")]

    def __str__(self) -> str:
        return f"{self.user}: {self.target_name} ({self.cost} gems, {self.status})"

    @property
    def target_name(self) -> str:
        target = self.product or self.reward_item
        return target.name if target else ""


# ------------------------------------------------------------------------ referrals


class ReferralCode(models.Model):
    """A member's unguessable referral code (seed 004 ``referral_codes``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral_codes")
    code = models.CharField(max_length=50, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_active=True), name="rewards_referralcode_one_active_per_user"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """A new person who arrived with a member's code (seeds 002 and 004 ``referrals``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONVERTED = "converted", "Converted"
        EXPIRED = "expired", "Expired"
        HELD = "held", "Held for review"
        REJECTED = "rejected", "Rejected"

    class HoldReason(models.TextChoices):
        SAME_EMAIL = "same_email", "Same mailbox as the referrer (dots or tags aside)"
        SAME_DEVICE = "same_device", "Same browser (visitor id) as the referrer or another of their referrals"
        SAME_IP = "same_ip", "Same IP address as the referrer or another of their referrals, within the window"
        DAILY_LIMIT = "daily_limit", "More conversions in a day than the brand allows per referrer"

    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made")
    referee = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral")
    referral_code = models.CharField(max_length=50)
    email = models.CharField(max_length=254, help_text="The new person's email when they arrived.")
    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    converted_at = models.DateTimeField(null=True, blank=True)
    points_awarded_to_referrer = models.PositiveIntegerField(default=0)
    points_awarded_to_referee = models.PositiveIntegerField(default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True, help_text="Where the new person arrived from.")
    visitor_id = models.CharField(
        max_length=64, blank=True, default="", db_default="", help_text="The new person's browser id."
    )
    hold_reasons = ArrayField(
        models.CharField(max_length=20, choices=HoldReason.choices), default=list, db_default=[], blank=True, size=4
    )
    held_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("review_referral", "Can approve or reject a referral held for review")]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=F("referee")), name="rewards_referral_not_self"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "converted", "expired", "held", "rejected"]),
                name="rewards_referral_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(hold_reasons__contained_by=["same_email", "same_device", "same_ip", "daily_limit"]),
                name="rewards_referral_hold_reasons_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | (Q(hold_reasons__len__gt=0) & Q(held_at__isnull=False)),
                name="rewards_referral_held_has_reasons",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected")
                | (Q(reviewed_at__isnull=False) & Q(reviewed_by__isnull=False) & ~Q(review_note="")),
                name="rewards_referral_rejected_reviewed",
            ),
            models.CheckConstraint(
                condition=(Q(status="converted") & Q(converted_at__isnull=False))
                | (~Q(status="converted") & Q(converted_at__isnull=True)),
                name="rewards_referral_converted_at_iff_converted",
            ),
        ]
        indexes = [
            models.Index(fields=["referrer", "status"], name="rewards_referral_referrer"),
            models.Index(fields=["-created_at", "-id"], name="rewards_referral_time"),
            models.Index(fields=["expires_at"], name="rewards_referral_pending_exp", condition=Q(status="pending")),
            models.Index(fields=["referrer", "-created_at"], name="rewards_referral_referrer_time"),
            models.Index(fields=["-created_at", "-id"], name="rewards_referral_held", condition=Q(status="held")),
        ]

    def __str__(self) -> str:
        return f"{self.referrer} → {self.email} ({self.status})"


# ---------------------------------------------------------------------------- ranks


class Rank(models.Model):
    """A level of a brand's programme, reached on lifetime earned gems (seed 004 ``ranks``)."""

    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="ranks")
    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    points_required = models.PositiveIntegerField(help_text="Lifetime earned gems needed (not the balance).")
    point_multiplier = models.DecimalField(max_digits=3, decimal_places=2, default=1)
    benefits = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["brand", "points_required"]
        constraints = [
            models.UniqueConstraint(fields=["key", "brand"], name="rewards_rank_key_brand_unique"),
            models.UniqueConstraint(
                fields=["brand", "points_required"],
                condition=Q(is_active=True),
                name="rewards_rank_threshold_unique",
            ),
            models.CheckConstraint(
                condition=Q(point_multiplier__gte=1) & Q(point_multiplier__lte=5),
                name="rewards_rank_multiplier_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class MemberRank(models.Model):
    """A member's current rank in a brand's programme (seed 004 ``users.current_rank_key``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ranks")
    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="+")
    rank = models.ForeignKey(Rank, on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="rewards_memberrank_user_brand")]

    def __str__(self) -> str:
        return f"{self.user} — {self.rank or 'no rank'}"


# --------------------------------------------------------------------- achievements


class AchievementConfig(models.Model):
    """An achievement of a brand's programme, or a global one (seed 004 ``achievement_configs``)."""

    class Type(models.TextChoices):
        SCAN_COUNT = "scan_count", "Scan count"
        PURCHASE_AMOUNT = "purchase_amount", "Purchase amount"
        REFERRAL_COUNT = "referral_count", "Referral count"
        WISHLIST_ITEMS = "wishlist_items", "Wishlist items"
        ACHIEVEMENT_UNLOCKED = "achievement_unlocked", "Achievements unlocked"
        CUSTOM = "custom", "Custom (event count)"

    brand = models.ForeignKey(
        "accounts.Brand",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="achievement_configs",
        help_text="Empty for a global achievement.",
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    achievement_key = models.SlugField(max_length=100)
    achievement_type = models.CharField(max_length=32, choices=Type.choices)
    criteria = models.JSONField(
        help_text='{"metric": "scan_count", "operator": ">=", "value": 5, "timeframe": "all_time"}'
    )
    rewards = models.JSONField(default=dict, blank=True, help_text='{"points": 50, "badge": "first-scan"}')
    visibility = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["brand", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["achievement_key", "brand"], name="rewards_achievement_key_brand", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=Q(
                    achievement_type__in=[
                        "scan_count",
                        "purchase_amount",
                        "referral_count",
                        "wishlist_items",
                        "achievement_unlocked",
                        "custom",
                    ]
                ),
                name="rewards_achievement_type_valid",
            ),
        ]
        indexes = [models.Index(fields=["achievement_type"], name="rewards_achcfg_type", condition=Q(is_active=True))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        try:
            validate_json(self.criteria, CRITERIA_SCHEMA, field="criteria")
            check_criteria(achievement_type=self.achievement_type, criteria=self.criteria)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            validate_json(self.rewards, ACHIEVEMENT_REWARDS_SCHEMA, field="rewards")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    @property
    def points(self) -> int:
        return int((self.rewards or {}).get("points", 0))


class UserAchievement(models.Model):
    """A member's progress on an achievement (seed 004 ``user_achievements``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="achievements")
    config = models.ForeignKey(AchievementConfig, on_delete=models.PROTECT, related_name="progress_rows")
    progress = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    points_rewarded = models.PositiveIntegerField(default=0)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "config"], name="rewards_userachievement_unique"),
            models.CheckConstraint(
                condition=(Q(completed=True) & Q(completed_at__isnull=False))
                | (Q(completed=False) & Q(completed_at__isnull=True)),
                name="rewards_userachievement_completed_at",
            ),
            models.CheckConstraint(condition=Q(progress__gte=0), name="rewards_userachievement_progress_gte_0"),
        ]
        indexes = [models.Index(fields=["user", "completed"], name="rewards_userach_user_done")]
        triggers = [
            # Completion is awarded once and never taken back.
            pgtrigger.Protect(
                name="completion_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__completed=True, new__completed=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.config} ({'done' if self.completed else self.progress})"


# ---------------------------------------------------------------- wishlists, goals


class WishlistItem(models.Model):
    """A product a member wishes for (seed 004 ``wishlists``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="rewards_wishlist_user_product")]

    def __str__(self) -> str:
        return f"{self.user} wishes for {self.product}"


class Goal(models.Model):
    """A savings goal in gems (seed 004 ``user_goals``); progress is the current balance."""

    class Type(models.TextChoices):
        WISHLIST_ITEM = "wishlist_item", "A product"
        ACHIEVEMENT = "achievement", "An achievement"
        CUSTOM = "custom", "My own goal"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="goals")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    goal_type = models.CharField(max_length=20, choices=Type.choices, default=Type.CUSTOM)
    goal_name = models.CharField(max_length=255)
    target_points = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)
    started_at = models.DateTimeField(default=timezone.now, db_default=Now())
    completed_at = models.DateTimeField(null=True, blank=True, help_text="Set once, when the balance first reached it.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(target_points__gt=0), name="rewards_goal_target_gt_0"),
            models.CheckConstraint(
                condition=~Q(goal_type="wishlist_item") | Q(product__isnull=False),
                name="rewards_goal_product_for_wishlist_item",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "target_points"],
                name="rewards_goal_open",
                condition=Q(is_active=True, completed_at__isnull=True),
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="completed_at_set_once",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(
                    old__completed_at__isnull=False, new__completed_at__df=pgtrigger.F("old__completed_at")
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.goal_name


# --------------------------------------------------------------- API idempotency


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header, per person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="rewards_idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="rewards_idempotency_created")]
