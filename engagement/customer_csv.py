"""Customer CSV import and export (``manage.py import_customers`` / ``export_customers``, admin export).

The CSV uses seed 000's column names (``customer_id, email_id, name, age, profession,
career_stage, purpose, channel_id, create_dt, opt_in``) plus ``tests`` (number of Big
Five tests). Import accepts those names or the model's (``email``,
``marketing_opt_in``, ``channel``); ``customer_id``, ``create_dt`` and ``tests`` are
read-only and ignored. Career stages may be given as values (``early_career``) or labels
(``Early Career``).

Import is an idempotent upsert by normalised email through
``accounts.services.person_identify``: a blank cell never erases a stored value,
consent is only ever granted (never withdrawn) by an import, the acquisition channel
is only set for new customers, and a row that changes nothing is reported
``unchanged`` without touching the database. Each row is its own transaction: a bad
row is rejected with its reason and the others go through.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import selectors as accounts_selectors
from accounts.selectors import BIG_FIVE_TEST_CHANNEL_ID
from accounts.services import career_stage_value, clean_email, clean_profile, person_identify
from engagement.selectors import with_test_counts

EXPORT_COLUMNS = (
    "customer_id",
    "email_id",
    "name",
    "age",
    "profession",
    "career_stage",
    "purpose",
    "channel_id",
    "create_dt",
    "opt_in",
    "tests",
)
_ALIASES = {
    "email": "email_id",
    "marketing_opt_in": "opt_in",
    "channel": "channel_id",
    "created_at": "create_dt",
}
_IGNORED = {"customer_id", "create_dt", "tests"}
_PROFILE = ("name", "age", "profession", "career_stage", "purpose")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


class DryRunRollback(Exception):
    pass


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, email, reason)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.rejected)} rejected"
        )


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _parse_row(raw: dict[str, Any], channel_ids: set[int]) -> tuple[str, dict[str, Any], bool | None, int | None]:
    row = {}
    for key, value in raw.items():
        if key is None:
            raise ValidationError("The row has more cells than the header.")
        name = _ALIASES.get(key.strip().lower(), key.strip().lower())
        row[name] = (value or "").strip()
    errors: dict[str, list[str]] = {}
    email = ""
    try:
        email = clean_email(row.get("email_id", ""))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    profile_in = {k: row.get(k, "") for k in _PROFILE if k in row}
    stage = profile_in.get("career_stage", "")
    if stage:
        profile_in["career_stage"] = career_stage_value(stage) or stage
    profile: dict[str, Any] = {}
    try:
        profile = clean_profile(profile_in)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    opt_in: bool | None = None
    if "opt_in" in row:
        value = row["opt_in"].lower()
        if value in _TRUE:
            opt_in = True
        elif value in _FALSE:
            opt_in = False
        else:
            errors["opt_in"] = ["Use true/false, yes/no or 1/0."]
    channel_id: int | None = None
    if row.get("channel_id"):
        try:
            channel_id = int(row["channel_id"])
        except ValueError:
            errors["channel_id"] = ["Enter a channel number."]
        else:
            if channel_id not in channel_ids:
                errors["channel_id"] = [f"Unknown channel {channel_id}."]
    unknown = sorted(set(row) - {"email_id", "opt_in", "channel_id", *_PROFILE, *_IGNORED})
    if unknown:
        errors["columns"] = [f"Unknown column(s): {', '.join(unknown)}."]
    if errors:
        raise ValidationError(errors)
    return email, profile, opt_in, channel_id


def _import_row(email: str, profile: dict, opt_in: bool | None, channel_id: int | None) -> str:
    existing = accounts_selectors.people(include_deleted=True).filter(email=email).first()
    if existing is not None:
        if existing.is_staff:
            raise ValidationError({"email_id": ["This email belongs to a staff account."]})
        if existing.deleted_at is not None:
            raise ValidationError({"email_id": ["This email address cannot be used (deleted customer)."]})
        changes = [f for f, v in profile.items() if getattr(existing, f) != v]
        if opt_in and not existing.marketing_opt_in:
            changes.append("opt_in")
        if not changes:
            return "unchanged"
    person_identify(
        email=email,
        profile=profile,
        marketing_opt_in=opt_in,
        channel_id=channel_id or BIG_FIVE_TEST_CHANNEL_ID,  # only used when the customer is new
    )
    return "created" if existing is None else "updated"


def customers_import(*, rows: Iterable[dict[str, Any]], dry_run: bool = False) -> ImportReport:
    """Upsert customers from CSV rows (dicts from ``csv.DictReader``); line numbers count the header as 1."""
    report = ImportReport()
    seen: dict[str, int] = {}
    channel_ids = set(accounts_selectors.channels().values_list("id", flat=True))
    try:
        with transaction.atomic():
            for line, raw in enumerate(rows, start=2):
                email = (raw.get("email_id") or raw.get("email") or "").strip().lower()
                try:
                    email, profile, opt_in, channel_id = _parse_row(raw, channel_ids)
                    if email in seen:
                        raise ValidationError({"email_id": [f"Same email as line {seen[email]}."]})
                    seen[email] = line
                    with transaction.atomic():
                        outcome = _import_row(email, profile, opt_in, channel_id)
                except ValidationError as exc:
                    report.rejected.append((line, email, _messages(exc)))
                    continue
                getattr(report, outcome).append(email)
            if dry_run:
                raise DryRunRollback
    except DryRunRollback:
        pass
    return report


def customers_import_file(*, stream: IO[str], dry_run: bool = False) -> ImportReport:
    reader = csv.DictReader(stream)
    header = {_ALIASES.get(f.strip().lower(), f.strip().lower()) for f in reader.fieldnames or []}
    problem = ""
    if "email_id" not in header:
        problem = "The header must have an email_id (or email) column."
    elif unknown := sorted(header - {"email_id", "opt_in", "channel_id", *_PROFILE, *_IGNORED}):
        problem = f"Unknown column(s) in the header: {', '.join(unknown)}."
    if problem:
        report = ImportReport()
        report.rejected.append((1, "", problem))
        return report
    return customers_import(rows=reader, dry_run=dry_run)


def _safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection): prefix =, +, -, @ with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def customers_export_rows(queryset=None) -> Iterator[list[Any]]:
    """Header then one row per customer (not staff, not deleted), in id order, streamed."""
    queryset = queryset if queryset is not None else accounts_selectors.customers()
    queryset = with_test_counts(queryset.order_by("id"))
    yield list(EXPORT_COLUMNS)
    for c in queryset.iterator(chunk_size=2000):
        yield [
            c.pk,
            c.email,
            _safe(c.name),
            c.age if c.age is not None else "",
            _safe(c.profession),
            c.career_stage,
            _safe(c.purpose),
            c.channel_id or "",
            c.created_at.isoformat(),
            "true" if c.marketing_opt_in else "false",
            c.tests_count,
        ]


def customers_export(*, stream: IO[str], queryset=None) -> int:
    writer = csv.writer(stream)
    count = -1
    for row in customers_export_rows(queryset):
        writer.writerow(row)
        count += 1
    return count


def customers_export_text(queryset=None) -> str:
    buffer = io.StringIO()
    customers_export(stream=buffer, queryset=queryset)
    return buffer.getvalue()
