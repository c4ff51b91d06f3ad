"""People, channels, brands and API tokens.

One person, one row: customers (people who took the test or signed up) and staff are
the same ``User`` model. ``Customer`` is a proxy for non-staff people and ``Subscriber``
an alias of it. Seed 000's ``customer`` table is a view over ``accounts_user`` and
``channel_details`` is the ``Channel`` table itself (see migration 0002).
"""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now, Trim
from django.utils import timezone

from focusedroom.fields import EncryptedTextField

BIG_FIVE_TEST_CHANNEL_ID = 1
EBOOK_CHANNEL_ID = 2
MOBILE_APP_CHANNEL_ID = 3
DEFAULT_BRAND_SLUG = "focusedroom"


def normalize_email(email: str) -> str:
    """Emails are stored trimmed and lower-cased; the database checks it."""
    return (email or "").strip().lower()


class Channel(models.Model):
    """Acquisition channel (seed 000 ``channel_details``; rows 1–3 come from a migration)."""

    id = models.PositiveSmallIntegerField(primary_key=True, db_column="channel_id")
    name = models.CharField(max_length=100, unique=True, db_column="channel_name")
    description = models.TextField(blank=True, default="")

    class Meta:
        db_table = "channel_details"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class CareerStage(models.TextChoices):
    STUDENT = "student", "Student"
    EARLY_CAREER = "early_career", "Early Career"
    MID_CAREER = "mid_career", "Mid Career"
    SENIOR = "senior", "Senior / Lead"
    EXECUTIVE = "executive", "Executive"
    CAREER_CHANGE = "career_change", "Changing careers"
    ENTREPRENEUR = "entrepreneur", "Founder / Self-employed"
    RETIRED = "retired", "Retired"
    OTHER = "other", "Other"


class KitState(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    INACTIVE = "inactive", "Inactive"


class UserManager(BaseUserManager):
    """Every person, including soft-deleted ones (``User.all_objects``)."""

    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> User:
        email = normalize_email(email)
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str) -> User:
        return self.get(email=normalize_email(username))


class ActiveUserManager(UserManager):
    """People who are not soft-deleted: the default everywhere (login included)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: staff member, member or customer (seeds 000 ``customer``, 002 ``user_profiles``, 004 ``users``)."""

    email = models.CharField("email", max_length=254, unique=True)
    name = models.CharField(max_length=255, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    phone_number = models.CharField(max_length=20, blank=True, default="")
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    profession = models.CharField(max_length=255, blank=True, default="")
    career_stage = models.CharField(max_length=100, blank=True, default="", choices=CareerStage.choices)
    purpose = models.TextField(blank=True, default="", help_text="Primary goal, in the person's words.")
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
        help_text="Acquisition channel.",
    )
    country_code = models.CharField(max_length=2, blank=True, default="")
    time_zone = models.CharField(max_length=63, default="UTC", help_text="IANA time zone, e.g. Europe/Paris.")

    marketing_opt_in = models.BooleanField(
        "marketing opt-in",
        default=False,
        help_text="GDPR consent to marketing email (seed opt_in / marketing_consent).",
    )
    marketing_opt_in_at = models.DateTimeField(null=True, blank=True)
    age_verified_at = models.DateTimeField(null=True, blank=True)
    is_guest = models.BooleanField(default=False)

    is_email_verified = models.BooleanField(default=False)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    last_verification_email_sent_at = models.DateTimeField(null=True, blank=True)
    email_bounced_at = models.DateTimeField(null=True, blank=True)
    email_spam_reported_at = models.DateTimeField(null=True, blank=True)
    action_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    kit_subscriber_id = models.CharField(max_length=64, blank=True, default="")
    kit_state = models.CharField(max_length=20, choices=KitState.choices, default=KitState.UNCONFIRMED)

    is_staff = models.BooleanField(default=False, help_text="Can log into the operator console.")
    is_active = models.BooleanField(default=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Soft deletion: hidden everywhere when set.")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    objects = ActiveUserManager()
    all_objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "person"
        verbose_name_plural = "people"
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(email=Lower(Trim("email"))) & ~Q(email=""), name="accounts_user_email_normalised"
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=13, age__lte=120), name="accounts_user_age_13_120"
            ),
            models.CheckConstraint(
                condition=Q(career_stage__in=["", *CareerStage.values]), name="accounts_user_career_stage_valid"
            ),
            models.CheckConstraint(condition=Q(kit_state__in=KitState.values), name="accounts_user_kit_state_valid"),
        ]
        indexes = [
            models.Index(fields=["channel", "created_at"], name="accounts_user_channel_created"),
            models.Index(fields=["deleted_at"], name="accounts_user_deleted", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.name or " ".join(p for p in (self.first_name, self.last_name) if p) or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        if self.first_name:
            return self.first_name
        return self.name.split(" ")[0] if self.name else self.email


class CustomerManager(ActiveUserManager):
    def get_queryset(self):
        return super().get_queryset().filter(is_staff=False)


class Customer(User):
    """A non-staff person (the operator console's "Customers" section)."""

    objects = CustomerManager()

    class Meta:
        proxy = True
        verbose_name = "customer"
        verbose_name_plural = "customers"


Subscriber = Customer  # seed 001: backward-compatible alias


class StaffManager(ActiveUserManager):
    def get_queryset(self):
        return super().get_queryset().filter(is_staff=True)


class StaffUser(User):
    """A staff member of the operator console."""

    objects = StaffManager()

    class Meta:
        proxy = True
        verbose_name = "staff user"
        verbose_name_plural = "staff users"


class Brand(models.Model):
    """Tenant of a loyalty programme (seed 004 ``brands``). FocusedRoom is the default brand."""

    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    customer_io_site_id = models.CharField(max_length=100, blank=True, default="")
    customer_io_api_key = EncryptedTextField(blank=True, default="", help_text="Stored encrypted; never shown.")
    settings = models.JSONField(default=dict, blank=True, help_text="Brand-specific settings (reward amounts, …).")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_customer_io_credentials(self) -> bool:
        return bool(self.customer_io_site_id and self.customer_io_api_key)


class ApiToken(models.Model):
    """An API token. Only the SHA-256 of the token is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise a token.")
    name = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_token_user_active")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AccountClaim(models.Model):
    """A pending sign-up for an email that already belongs to a customer record.

    The chosen password waits here (hashed) until the person follows the link sent to
    that email, which proves they own it; the existing record then gets the password.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_claims")
    token_hash = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=128)
    referral_code = models.CharField(max_length=50, blank=True, default="")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
