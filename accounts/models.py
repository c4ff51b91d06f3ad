"""People, channels, brands and API tokens.

One person, one row: customers (people who took the test or signed up) and staff are
the same ``User`` model. ``Customer`` is a proxy for non-staff people and ``Subscriber``
an alias of it. Seed 000's ``customer`` table is a view over ``accounts_user`` and
``channel_details`` is the ``Channel`` table itself (see migration 0002).
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Lower, Now, Trim
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from focusedroom import registries
from focusedroom.fields import EncryptedTextField

BIG_FIVE_TEST_CHANNEL_ID = 1
EBOOK_CHANNEL_ID = 2
MOBILE_APP_CHANNEL_ID = 3
DEFAULT_BRAND_SLUG = "focusedroom"
SHA256_HEX = r"^[0-9a-f]{64}$"  # the stored form of every token: the SHA-256 of the clear token, in hex


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
            # Staff (a few dozen among millions of people): the console's staff list and its count.
            models.Index(
                fields=["-created_at", "-id"],
                name="accounts_user_staff",
                condition=Q(is_staff=True, deleted_at__isnull=True),
            ),
            # The "email bounces" guardrail of every experiment's results reads the bounces since its start.
            models.Index(
                fields=["email_bounced_at"], name="accounts_user_bounced", condition=Q(email_bounced_at__isnull=False)
            ),
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

    def save(self, *args, **kwargs) -> None:
        """Settings are validated on every save (console, API, code) by the apps that own their parts."""
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        for validate in registries.brand_settings.entries():  # each app checks the keys it owns
            validate(self.settings)

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


class ActionToken(models.Model):
    """A one-click link in an email: log in, or unsubscribe (separate tokens, separate lifetimes).

    Only the SHA-256 of the token is stored; the clear token exists only in the emailed link.
    A log-in token works once (``used_at``); an unsubscribe token keeps working until it expires
    (unsubscribing twice changes nothing). Never shown in the console or the API.
    """

    class Purpose(models.TextChoices):
        LOGIN = "login", "Log in"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="action_tokens")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_action_token"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=["login", "unsubscribe"]), name="action_token_purpose_valid"
            ),
            models.CheckConstraint(condition=Q(token_hash__regex=SHA256_HEX), name="action_token_hash_sha256"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="action_token_expiry"),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(purpose="login"), name="action_token_only_login_is_used_up"
            ),
        ]
        indexes = [models.Index(fields=["user", "purpose"], name="action_token_user_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose} link ({self.created_at:%Y-%m-%d %H:%M})"


class EmailChange(models.Model):
    """A change of email address waiting for the link sent to the new address.

    The address changes only when that link is followed (proof that the person owns it); the
    old address is told. Only the SHA-256 of the token is stored.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_changes")
    new_email = models.CharField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_email_change"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(new_email=Lower(Trim("new_email"))) & ~Q(new_email=""), name="email_change_normalised"
            ),
            models.CheckConstraint(condition=Q(token_hash__regex=SHA256_HEX), name="email_change_hash_sha256"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="email_change_expiry"),
        ]

    def __str__(self) -> str:
        return f"email change of {self.user_id} ({self.created_at:%Y-%m-%d %H:%M})"


class Session(AbstractBaseSession):
    """A browser session (Django's database sessions) that knows whose it is.

    ``user`` is set from the session's log-in data when it is saved, so every session of a
    person can be ended at once: erasure, soft deletion and a password change do.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        db_table = "accounts_session"
        indexes = [models.Index(fields=["user"], name="accounts_session_user")]

    @classmethod
    def get_session_store_class(cls):
        from accounts.sessions import SessionStore

        return SessionStore


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


class EmailVerificationToken(models.Model):
    """A link sent to prove an email address (seed 002 ``email_verification_tokens``).

    ``token`` holds the SHA-256 (hex) of 32 random bytes; the clear token exists only in
    the emailed link. A token is bound to the address it was sent to and may carry the
    ids of the experiment, variant and impression the person was in when it was issued.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="verification_tokens", db_column="user_profile_id"
    )
    token = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token in the link (hex).")
    email = models.CharField(max_length=254, help_text="The address the link was sent to.")
    expires_at = models.DateTimeField()
    is_used = models.BooleanField(default=False, db_default=False)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    # Seed 002 keeps the experiment context as plain UUIDs; attribution lives in ``experiments``.
    experiment_id = models.UUIDField(null=True, blank=True)
    variant_id = models.UUIDField(null=True, blank=True)
    impression_id = models.UUIDField(null=True, blank=True)

    class Meta:
        db_table = "email_verification_tokens"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_used=True, used_at__isnull=False) | Q(is_used=False, used_at__isnull=True),
                name="email_verification_used_at_iff_used",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="email_verification_expires_after_created"
            ),
            models.CheckConstraint(
                condition=Q(token__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 - a hash format, not a password
                name="email_verification_token_sha256",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="email_verification_user_time")]

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%Y-%m-%d %H:%M})"


class PersonChange(models.Model):
    """Who changed a person's profile, consent or status, when and through which door.

    Written by ``accounts.services`` for every change of a person's own data (their own
    act, staff in the console, a provider webhook, a command). Holds field names and the
    consent flag's new value, never the personal values themselves. Append-only.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="changes")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(max_length=20, help_text="page, api, console, command, task, webhook, system, link")
    fields = models.JSONField(default=list, help_text="Names of the fields that changed.")
    marketing_opt_in = models.BooleanField(null=True, blank=True, help_text="Consent after the change, if it changed.")
    reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "person_change_log"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="person_change_user_time"),
            # The "unsubscribes" guardrail of every experiment's results reads the opt-outs since its start.
            models.Index(fields=["created_at"], name="person_change_opt_out_time", condition=Q(marketing_opt_in=False)),
        ]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.source}: {', '.join(self.fields)} ({self.created_at:%Y-%m-%d %H:%M})"


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    SELECT = "select", "Select"
    CHECKBOX = "checkbox", "Checkbox"
    RADIO = "radio", "Radio buttons"


CUSTOM_FIELD_TYPES_WITH_OPTIONS = (CustomFieldType.SELECT, CustomFieldType.RADIO)
CUSTOM_FIELD_TEXT_MAX_LENGTH = 1000


class CustomField(models.Model):
    """A brand's extra profile question (seed 004 ``custom_fields``).

    ``field_options`` is the list of allowed values (strings) of select and radio fields
    and NULL for the other types.
    """

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="custom_fields")
    field_key = models.CharField(max_length=100, help_text="Stable identifier: lower-case letters, digits, _.")
    field_label = models.CharField(max_length=255)
    field_type = models.CharField(max_length=10, choices=CustomFieldType.choices)
    field_options = models.JSONField(
        null=True, blank=True, help_text='Select and radio: the allowed values, e.g. ["Morning", "Evening"].'
    )
    is_required = models.BooleanField(default=False, db_default=False)
    field_order = models.IntegerField(default=0, db_default=0)
    is_active = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        db_table = "custom_fields"
        ordering = ["brand", "field_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["field_key", "brand"], name="custom_fields_key_brand_unique"),
            models.CheckConstraint(condition=Q(field_type__in=CustomFieldType.values), name="custom_fields_type_valid"),
            models.CheckConstraint(condition=Q(field_key__regex=r"^[a-z][a-z0-9_]*$"), name="custom_fields_key_format"),
            models.CheckConstraint(
                condition=Q(field_type__in=CUSTOM_FIELD_TYPES_WITH_OPTIONS, field_options__isnull=False)
                | (~Q(field_type__in=CUSTOM_FIELD_TYPES_WITH_OPTIONS) & Q(field_options__isnull=True)),
                name="custom_fields_options_iff_choice_type",
            ),
        ]
        indexes = [models.Index(fields=["brand", "is_active", "field_order"], name="custom_fields_brand_order")]

    def __str__(self) -> str:
        return f"{self.field_label} ({self.field_key})"


class CustomFieldValue(models.Model):
    """A person's answer to a custom field (seed 004 ``user_custom_field_values``).

    Checkbox values are stored as ``true``/``false``; select and radio values must be
    one of the field's options (a database trigger checks both).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="custom_field_values")
    custom_field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    field_value = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        db_table = "user_custom_field_values"
        constraints = [
            models.UniqueConstraint(fields=["user", "custom_field"], name="custom_field_values_user_field_unique"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("field_value"), CUSTOM_FIELD_TEXT_MAX_LENGTH),
                name="custom_field_values_length",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="value_matches_type",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                declare=[("ftype", "text"), ("fopts", "jsonb")],
                func="""
                    SELECT field_type, field_options INTO ftype, fopts
                      FROM custom_fields WHERE id = NEW.custom_field_id;
                    IF ftype IN ('select', 'radio') AND NOT (fopts ? NEW.field_value) THEN
                        RAISE EXCEPTION 'custom field value % is not one of the options', NEW.field_value
                            USING ERRCODE = 'check_violation';
                    ELSIF ftype = 'checkbox' AND NEW.field_value NOT IN ('true', 'false') THEN
                        RAISE EXCEPTION 'checkbox value must be true or false, not %', NEW.field_value
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                """,
            )
        ]

    def __str__(self) -> str:
        return f"{self.custom_field.field_key}={self.field_value}"
