"""GDPR: export all of a person's data, erase (pseudonymise) a person everywhere.

``person_export`` calls the ``export`` of every part registered in
``focusedroom.registries.gdpr_parts``; accounts registers its own part in
``AccountsConfig.ready``. ``person_erase`` runs in one transaction: every app's ``erase``
runs in the parts' order (the integrations part queues the Customer.io deletion and the
Kit unsubscription while the real identifiers are still there), and the accounts part
runs last: it pseudonymises the person's row, deletes their verification links, email links,
pending claims and email changes, custom field answers and sessions, and revokes their API
tokens. If any part fails, nothing
is erased.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from accounts import token_cache
from accounts.models import (
    AccountClaim,
    ActionToken,
    ApiToken,
    Customer,
    CustomFieldValue,
    EmailChange,
    EmailVerificationToken,
    PersonChange,
    Session,
    StaffUser,
    User,
    normalize_email,
)
from accounts.selectors import erased_email
from accounts.sessions import sessions_end
from focusedroom import registries
from focusedroom.errors import NotFound

EXPORT_FORMAT_VERSION = 1
ACCOUNTS_PART = "accounts"
PERSON_EXPORT_FIELDS = [
    "id",
    "email",
    "name",
    "first_name",
    "last_name",
    "phone_number",
    "age",
    "profession",
    "career_stage",
    "purpose",
    "channel_id",
    "country_code",
    "time_zone",
    "marketing_opt_in",
    "marketing_opt_in_at",
    "age_verified_at",
    "is_guest",
    "is_email_verified",
    "email_verified_at",
    "last_verification_email_sent_at",
    "email_bounced_at",
    "email_spam_reported_at",
    "kit_subscriber_id",
    "kit_state",
    "is_staff",
    "is_active",
    "last_login",
    "created_at",
    "updated_at",
]


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# ------------------------------------------------------------------- accounts part


def accounts_export(*, user: User) -> dict[str, Any]:
    """The person's row, verification links (metadata only), custom field answers, API tokens (prefix only)."""
    person = {field: _iso(getattr(user, field)) for field in PERSON_EXPORT_FIELDS}
    tokens = [
        {k: _iso(v) for k, v in row.items()}
        for row in EmailVerificationToken.objects.filter(user=user)
        .order_by("created_at")
        .values("email", "created_at", "expires_at", "is_used", "used_at")
    ]
    custom_fields = [
        {
            "brand": row["custom_field__brand__slug"],
            "field_key": row["custom_field__field_key"],
            "field_label": row["custom_field__field_label"],
            "value": row["field_value"],
            "updated_at": _iso(row["updated_at"]),
        }
        for row in CustomFieldValue.objects.filter(user=user)
        .order_by("custom_field__brand__slug", "custom_field__field_order", "custom_field_id")
        .values(
            "custom_field__brand__slug",
            "custom_field__field_key",
            "custom_field__field_label",
            "field_value",
            "updated_at",
        )
    ]
    api_tokens = [
        {k: _iso(v) for k, v in row.items()}
        for row in ApiToken.objects.filter(user=user)
        .order_by("created_at")
        .values("prefix", "name", "created_at", "last_used_at", "revoked_at")
    ]
    changes = [
        {k: _iso(v) for k, v in row.items()}
        for row in PersonChange.objects.filter(user=user)
        .order_by("created_at", "id")
        .values("created_at", "source", "fields", "marketing_opt_in", "reason")
    ]
    action_links = [
        {k: _iso(v) for k, v in row.items()}
        for row in ActionToken.objects.filter(user=user)
        .order_by("created_at")
        .values("purpose", "created_at", "expires_at", "used_at")
    ]
    email_changes = [
        {k: _iso(v) for k, v in row.items()}
        for row in EmailChange.objects.filter(user=user)
        .order_by("created_at")
        .values("new_email", "created_at", "expires_at", "used_at")
    ]
    sessions = [
        {"expires_at": _iso(expire)}
        for expire in Session.objects.filter(user=user).order_by("expire_date").values_list("expire_date", flat=True)
    ]
    return {
        "person": person,
        "changes": changes,
        "email_verification_links": tokens,
        "email_links": action_links,
        "email_changes": email_changes,
        "custom_fields": custom_fields,
        "api_tokens": api_tokens,
        "sessions": sessions,
    }


def accounts_erase(*, user: User) -> None:
    """Pseudonymise the person's row and delete or revoke what else accounts holds about them."""
    now = timezone.now()
    new_email = erased_email(user.pk)
    User.all_objects.filter(pk=user.pk).update(
        email=new_email,
        name="",
        first_name="",
        last_name="",
        phone_number="",
        age=None,
        profession="",
        purpose="",
        country_code="",
        password=make_password(None),
        marketing_opt_in=False,
        marketing_opt_in_at=None,
        kit_subscriber_id="",
        is_active=False,
        deleted_at=now,
        updated_at=now,
    )
    EmailVerificationToken.objects.filter(user=user).delete()
    AccountClaim.objects.filter(user=user).delete()
    CustomFieldValue.objects.filter(user=user).delete()
    ActionToken.objects.filter(user=user).delete()
    EmailChange.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    token_cache.forget(user_id=user.pk)
    sessions_end(user_id=user.pk)
    # The console's change history names the person by email.
    content_types = ContentType.objects.get_for_models(User, Customer, StaffUser, for_concrete_models=False)
    LogEntry.objects.filter(content_type__in=content_types.values(), object_id=str(user.pk)).update(
        object_repr=new_email
    )
    user.refresh_from_db()


# --------------------------------------------------------------------- services


def person_export(*, user: User) -> dict[str, Any]:
    """Everything FocusedRoom holds about the person, by part, as JSON-ready data."""
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "person_id": user.pk,
        "parts": {part.name: part.export(user=user) for part in registries.gdpr_parts.entries()},
    }


@transaction.atomic
def person_erase(*, user: User) -> User:
    """Pseudonymise the person everywhere, in one transaction. Erasing twice is a 404."""
    user = User.all_objects.select_for_update().filter(pk=user.pk, deleted_at__isnull=True).first()
    if user is None:
        raise NotFound("This person does not exist or was already erased.")
    # Other apps' parts first (they still see the person as they were), accounts' own row last.
    for part in sorted(registries.gdpr_parts.entries(), key=lambda p: p.order):
        if part.erase is not None:
            part.erase(user=user)
    return user


def person_by_email(*, email: str) -> User:
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        raise NotFound(f"No person with the email {email!r}.")
    return user
