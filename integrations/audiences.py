"""Audiences: who a target customer profile reaches among FocusedRoom's customers, and its sync.

Why here: the audience joins three apps' knowledge — the profile's criteria (``profiles``), each
customer's latest Big Five result (``engagement``'s materialised view) and the consent rule
(``integrations.services``) — and ``profiles`` and ``engagement`` are siblings that may not import
each other. ``integrations`` sits above both, owns the consent rule and the outbox the sync writes
to, so the audience is computed here, through the lower apps' selectors only
(docs/architecture.md, "Audiences").

Reads (``audience_people``, ``audience_report``) never write. Writes (``audience_snapshot_record``,
``audience_sync_configure``, ``audience_sync``, ``audience_person_leave_all``, ``audiences_refresh``)
are services: keyword-only, one transaction each. ``integrations.selectors`` and
``integrations.services`` re-export them for other apps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from accounts import selectors as accounts_selectors
from engagement import selectors as engagement_selectors
from engagement import services as engagement_services
from focusedroom import tasks
from integrations.consent import kit_consent_q, marketing_consent_q
from integrations.models import AudienceMember, AudienceSnapshot, AudienceSync, OutboxMessage
from profiles import selectors as profiles_selectors

if TYPE_CHECKING:
    from accounts.models import User
    from profiles.models import TargetCustomerProfile

Action = OutboxMessage.Action
Destination = OutboxMessage.Destination

TRAIT_LABELS = {
    "O": "Openness",
    "C": "Conscientiousness",
    "E": "Extraversion",
    "A": "Agreeableness",
    "N": "Neuroticism",
}
# Age bands of the composition: (label, first age, last age); ages are 13–120.
AGE_BANDS: list[tuple[str, int, int]] = [
    ("13–17", 13, 17),
    ("18–24", 18, 24),
    ("25–34", 25, 34),
    ("35–44", 35, 44),
    ("45–54", 45, 54),
    ("55–64", 55, 64),
    ("65+", 65, 200),
]
# Percentile bins of the trait histograms: 0–9, 10–19, …, 90–100.
TRAIT_BINS = [(f"{low}–{low + 9 if low < 90 else 100}", low) for low in range(0, 100, 10)]
BATCH = 2000


# ------------------------------------------------------------------------------------ reads


def audience_people(*, profile: TargetCustomerProfile, kit: bool = False, live: bool = False) -> QuerySet:
    """The profile's audience, as rows of the ``big_five_latest`` view (``pk`` is the person's id):
    consented customers who match its demographics and, on their latest Big Five result, its trait
    ranges. ``kit`` adds what Kit needs (a verified address).

    The view holds each customer's consent and demographics as of its last refresh (hourly, and soon
    after any consent change or erasure), so counting is one scan of one narrow table. ``live`` also
    checks the consent rule on the person's row now — what the sync uses, so nobody enters an
    audience on a consent they withdrew since the refresh.
    """
    criteria = profiles_selectors.audience_criteria(profile=profile)
    columns = engagement_selectors.BIG_FIVE_LATEST_COLUMNS
    consent = kit_consent_q if kit else marketing_consent_q
    condition = consent()
    if criteria.age_min is not None:
        condition &= Q(age__gte=criteria.age_min)
    if criteria.age_max is not None:
        condition &= Q(age__lte=criteria.age_max)
    if criteria.countries:
        condition &= Q(country_code__in=criteria.countries)
    if criteria.sexes:
        condition &= Q(sex__in=criteria.sexes)
    for code, (low, high) in criteria.traits.items():
        if low is not None:
            condition &= Q(**{f"{columns[code]}__gte": low})
        if high is not None:
            condition &= Q(**{f"{columns[code]}__lte": high})
    people = engagement_selectors.big_five_latest().filter(condition)
    if live:
        people = people.filter(Exists(accounts_selectors.customers().filter(consent(), pk=OuterRef("pk"))))
    return people


_COMPOSITION_SQL = """
SELECT GROUPING(channel_id, career_stage, age_band, o, c, e, a, n) AS grouping_bits,
       channel_id, career_stage, age_band, o, c, e, a, n, count(*)
  FROM (SELECT channel_id, career_stage,
               CASE {age_bands} END AS age_band,
               {bins}
          FROM ({people}) AS p (channel_id, career_stage, age, o, c, e, a, n)) AS s
 GROUP BY GROUPING SETS ((), (channel_id), (career_stage), (age_band), (o), (c), (e), (a), (n))
"""
_DIMENSIONS = ["channel", "career_stage", "age_band", "O", "C", "E", "A", "N"]


# A large audience's composition is measured on a sample of the view's pages (``TABLESAMPLE SYSTEM``)
# of about this many of its people, and scaled to its exact size; its size is always counted exactly.
SAMPLE_ABOVE = 100_000
SAMPLE_PEOPLE = 50_000


def _composition_rows(people: QuerySet, *, sample_percent: float | None = None) -> list[tuple]:
    columns = engagement_selectors.BIG_FIVE_LATEST_COLUMNS
    selected = people.values_list("channel_id", "career_stage", "age", *(columns[code] for code in "OCEAN")).order_by()
    sql, params = selected.query.sql_with_params()
    if sample_percent is not None:
        table = f'FROM "{engagement_selectors.BIG_FIVE_LATEST_VIEW}"'
        assert sql.count(table) == 1, sql
        # REPEATABLE: the same sample on every read of unchanged data (a page does not flicker).
        sql = sql.replace(table, f"{table} TABLESAMPLE SYSTEM ({float(sample_percent):.4f}) REPEATABLE (42)")
    bands = " ".join(f"WHEN age BETWEEN {first} AND {last} THEN {i}" for i, (_, first, last) in enumerate(AGE_BANDS))
    with connection.cursor() as cursor:
        # Ten bins of ten percentiles (100 joins 90–99); NULL (no result) stays NULL, unlike LEAST's.
        bins = ", ".join(f"CASE WHEN {t} >= 90 THEN 9 ELSE {t} / 10 END AS {t}" for t in "ocean")
        cursor.execute(_COMPOSITION_SQL.format(age_bands=bands, bins=bins, people=sql), params)
        return cursor.fetchall()


def _looks_large(people: QuerySet) -> bool:
    """Whether the planner expects more than ``SAMPLE_ABOVE`` people (no query: an estimate from statistics)."""
    sql, params = people.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan[0]["Plan"] if isinstance(plan, list) else plan
    return plan.get("Plan Rows", 0) > SAMPLE_ABOVE / 2


def audience_composition(*, profile: TargetCustomerProfile) -> dict[str, Any]:
    """Size and composition of the profile's audience: by channel, career stage, age band and, per trait,
    ten percentile bins — one SQL pass (``GROUPING SETS``) over the latest-results view, plus the channel
    names. An audience over ``SAMPLE_ABOVE`` people is counted exactly (one more query) and its
    composition measured on a page sample of about ``SAMPLE_PEOPLE`` of them, scaled to the exact size
    (``sampled`` says so)."""
    people = audience_people(profile=profile)
    exact = people.count() if _looks_large(people) else None
    sample = None
    if exact is not None and exact > SAMPLE_ABOVE:
        sample = min(100.0, 100.0 * SAMPLE_PEOPLE / exact)
    rows = _composition_rows(people, sample_percent=sample)
    full = (1 << len(_DIMENSIONS)) - 1
    counts: dict[str, dict[Any, int]] = {name: {} for name in _DIMENSIONS}
    size = 0
    for row in rows:
        bits, values, count = row[0], row[1:-1], row[-1]
        if bits == full:
            size = count
            continue
        index = next(i for i in range(len(_DIMENSIONS)) if not bits & (1 << (len(_DIMENSIONS) - 1 - i)))
        counts[_DIMENSIONS[index]][values[index]] = count
    if sample is not None:
        scale = exact / size if size else 0
        counts = {name: {k: round(v * scale) for k, v in groups.items()} for name, groups in counts.items()}
        size = exact
    channel_names = dict(accounts_selectors.channels().values_list("pk", "name"))
    stage_names = dict(accounts_selectors.CareerStage.choices)
    criteria = profiles_selectors.audience_criteria(profile=profile)

    def listed(mapping: dict[Any, int], names: dict[Any, str], unknown: str) -> list[dict[str, Any]]:
        entries = [
            {"key": key, "label": names.get(key, str(key)) if key not in (None, "") else unknown, "count": count}
            for key, count in mapping.items()
        ]
        return sorted(entries, key=lambda e: (-e["count"], str(e["label"])))

    traits = {}
    for code in "OCEAN":
        bins = counts[code]
        low, high = criteria.traits.get(code, (None, None))
        traits[code] = {
            "label": TRAIT_LABELS[code],
            "range": {"min": low, "max": high},
            "bins": [
                {"label": label, "from": start, "count": bins.get(i, 0)} for i, (label, start) in enumerate(TRAIT_BINS)
            ],
            "without_result": bins.get(None, 0),
        }
    return {
        "size": size,
        "sampled": sample is not None,
        "sample_percent": round(sample, 2) if sample is not None else None,
        "channel": listed(counts["channel"], channel_names, "unknown"),
        "career_stage": listed(counts["career_stage"], stage_names, "not given"),
        "age_band": [
            {"label": label, "count": counts["age_band"].get(i, 0)} for i, (label, _, _) in enumerate(AGE_BANDS)
        ]
        + [{"label": "not given", "count": counts["age_band"].get(None, 0)}],
        "traits": traits,
    }


def audience_change(*, profile: TargetCustomerProfile, size: int, today: date | None = None) -> dict[str, Any] | None:
    """How the size changed since last week: against the latest snapshot at least 7 days old."""
    today = today or timezone.localdate()
    then = AudienceSnapshot.objects.filter(profile=profile, day__lte=today - timedelta(days=7)).order_by("-day").first()
    if then is None:
        return None
    return {"since": then.day, "size_then": then.size, "difference": size - then.size}


def audience_sync_state(*, profile: TargetCustomerProfile) -> dict[str, Any]:
    """Where the audience is synced, the last sync's counts, and the delivery errors of its messages."""
    sync = AudienceSync.objects.filter(profile=profile).first()
    if sync is None:
        return {
            "enabled": False,
            "key": "",
            "to_customerio": False,
            "to_kit": False,
            "last_synced_at": None,
            "last_entered": 0,
            "last_left": 0,
            "members_customerio": 0,
            "members_kit": 0,
            "last_error": "",
            "failed_messages": 0,
        }
    failed = (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED, event_name__startswith="audience_")
        .filter(event_data__profile_id=str(profile.pk))
        .count()
    )
    return {
        "enabled": sync.to_customerio or sync.to_kit,
        "key": sync.key,
        "to_customerio": sync.to_customerio,
        "to_kit": sync.to_kit,
        "last_synced_at": sync.last_synced_at,
        "last_entered": sync.last_entered,
        "last_left": sync.last_left,
        "members_customerio": sync.members_customerio,
        "members_kit": sync.members_kit,
        "last_error": sync.last_error,
        "failed_messages": failed,
    }


def audience_report(*, profile: TargetCustomerProfile) -> dict[str, Any]:
    """Everything the console and ``GET /api/v1/customer-profiles/<id>/audience/`` show. Writes nothing."""
    criteria = profiles_selectors.audience_criteria(profile=profile)
    composition = audience_composition(profile=profile)
    return {
        "profile_id": profile.pk,
        "measured_at": timezone.now(),
        "size": composition["size"],
        "criteria": {
            "age_min": criteria.age_min,
            "age_max": criteria.age_max,
            "countries": list(criteria.countries),
            "sexes": list(criteria.sexes),
            "traits": {code: {"min": low, "max": high} for code, (low, high) in criteria.traits.items()},
            "not_applied": list(criteria.not_applied),
        },
        "composition": {
            k: composition[k] for k in ("channel", "career_stage", "age_band", "traits", "sampled", "sample_percent")
        },
        "change_since_last_week": audience_change(profile=profile, size=composition["size"]),
        "sync": audience_sync_state(profile=profile),
    }


# ----------------------------------------------------------------------------------- writes


@transaction.atomic
def audience_snapshot_record(*, profile: TargetCustomerProfile, day: date | None = None) -> AudienceSnapshot:
    """Record today's audience size (one row per profile and day; a second run that day updates it)."""
    size = audience_people(profile=profile).count()
    snapshot, _ = AudienceSnapshot.objects.update_or_create(
        profile=profile, day=day or timezone.localdate(), defaults={"size": size}
    )
    return snapshot


_KEY = re.compile(r"^[a-z][a-z0-9_]{2,63}$")


def audience_key_for(profile: TargetCustomerProfile) -> str:
    """A stable provider-side name: ``audience_<profile name>_<short id>`` (lower case, underscores)."""
    name = slugify(profile.name).replace("-", "_")[:40].strip("_") or "profile"
    return f"audience_{name}_{profile.pk.hex[:8]}"


def audience_sync_check(*, profile: TargetCustomerProfile, key: str = "") -> None:
    """What ``audience_sync_configure`` refuses, checked first (forms show it by its field)."""
    errors: dict[str, list[str]] = {}
    if profile.deleted_at is not None:
        errors["profile"] = ["This profile is deleted; restore it first."]
    current = AudienceSync.objects.filter(profile=profile).values_list("key", flat=True).first()
    if key and not _KEY.match(key):
        errors["key"] = ["Use 3–64 lower-case letters, digits and underscores, starting with a letter."]
    elif current and key and key != current:
        errors["key"] = ["The name at the providers cannot change once chosen."]
    elif not current and AudienceSync.objects.filter(key=key or audience_key_for(profile)).exists():
        errors["key"] = [f"Another profile's audience is already named {key or audience_key_for(profile)!r}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def audience_sync_configure(
    *, profile: TargetCustomerProfile, to_customerio: bool, to_kit: bool, key: str = ""
) -> AudienceSync:
    """Choose where the profile's audience is synced. Turning a destination off makes everyone leave
    it at the next sync (their attribute or tag is removed). The key is chosen once and then kept."""
    audience_sync_check(profile=profile, key=key)
    sync = AudienceSync.objects.select_for_update().filter(profile=profile).first()
    if sync is None:
        return AudienceSync.objects.create(
            profile=profile, key=key or audience_key_for(profile), to_customerio=to_customerio, to_kit=to_kit
        )
    sync.to_customerio, sync.to_kit = to_customerio, to_kit
    sync.save(update_fields=["to_customerio", "to_kit", "updated_at"])
    return sync


@dataclass
class SyncResult:
    entered_customerio: int = 0
    left_customerio: int = 0
    entered_kit: int = 0
    left_kit: int = 0
    members_customerio: int = 0
    members_kit: int = 0

    @property
    def entered(self) -> int:
        return self.entered_customerio + self.entered_kit

    @property
    def left(self) -> int:
        return self.left_customerio + self.left_kit


def _messages(*, sync: AudienceSync, destination: str, entered: bool, user_ids: list[int]) -> list[OutboxMessage]:
    """Outbox rows telling a provider who entered (marketing: consented people only, re-checked at
    delivery) or left (transactional: the attribute or tag is removed whatever the consent)."""
    data = {"audience": sync.key, "profile_id": str(sync.profile_id)}
    if destination == Destination.CUSTOMERIO:
        action = Action.IDENTIFY
        data["attributes"] = {sync.key: True if entered else None}
    else:
        action = Action.TAG_ADD if entered else Action.TAG_REMOVE
    return [
        OutboxMessage(
            user_id=user_id,
            destination=destination,
            action=action,
            event_name="audience_entered" if entered else "audience_left",
            event_data=data,
            is_marketing=entered,
            priority=30,
        )
        for user_id in user_ids
    ]


def _chunks(ids: list[int]):
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _diff(*, sync: AudienceSync, flag: str, destination: str, people: QuerySet | None, now) -> tuple[int, int, int]:
    """Compare the members told ``flag`` with the audience now; record and announce only the changes.

    Both differences are anti-joins (``NOT EXISTS``), which PostgreSQL runs as hash anti-joins
    whatever the sizes; rows are written in batches."""
    profile = sync.profile
    told = AudienceMember.objects.filter(profile=profile, **{flag: True})
    if people is None:  # destination turned off: everyone leaves it
        entered_ids: list[int] = []
        left_ids = list(told.values_list("user_id", flat=True))
    else:
        entered_ids = list(
            people.filter(~Exists(told.filter(user_id=OuterRef("pk")))).order_by("pk").values_list("pk", flat=True)
        )
        left_ids = list(
            told.filter(~Exists(people.filter(pk=OuterRef("user_id"))))
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
    other = "in_kit" if flag == "in_customerio" else "in_customerio"
    for chunk in _chunks(left_ids):
        leaving = AudienceMember.objects.filter(profile=profile, user_id__in=chunk)
        leaving.filter(**{other: True}).update(**{flag: False, "synced_at": now})
        leaving.filter(**{other: False}).delete()  # in no audience anywhere now: the row goes
        # The erased are deleted at the providers by the GDPR erasure: nothing to tell about them.
        still_here = list(accounts_selectors.people().filter(pk__in=chunk).values_list("pk", flat=True))
        OutboxMessage.objects.bulk_create(
            _messages(sync=sync, destination=destination, entered=False, user_ids=still_here)
        )
    for chunk in _chunks(entered_ids):
        AudienceMember.objects.bulk_create(
            [
                AudienceMember(profile=profile, user_id=pk, **{flag: True}, entered_at=now, synced_at=now)
                for pk in chunk
            ],
            update_conflicts=True,
            unique_fields=["profile", "user"],
            update_fields=[flag, "synced_at"],
        )
        OutboxMessage.objects.bulk_create(_messages(sync=sync, destination=destination, entered=True, user_ids=chunk))
    return len(entered_ids), len(left_ids), told.count()


@transaction.atomic
def audience_sync(*, profile: TargetCustomerProfile) -> SyncResult:
    """Sync the profile's audience to the providers chosen for it: diffs only.

    Who entered since the last sync gets the Customer.io attribute ``<key>: true`` (an identify)
    and/or the Kit tag ``<key>``; who left — no longer matching, consent withdrawn, deactivated —
    gets the attribute removed (``null``) and/or the tag removed. People already told are not
    told again. The membership rows and the outbox rows commit together; two syncs of one profile
    queue behind the sync row's lock.
    """
    sync = AudienceSync.objects.select_for_update().select_related("profile").filter(profile=profile).first()
    if sync is None:
        return SyncResult()
    now = timezone.now()
    result = SyncResult()
    live = sync.profile.deleted_at is None and sync.profile.is_active
    cio = audience_people(profile=sync.profile, live=True) if (sync.to_customerio and live) else None
    kit = audience_people(profile=sync.profile, kit=True, live=True) if (sync.to_kit and live) else None
    result.entered_customerio, result.left_customerio, result.members_customerio = _diff(
        sync=sync, flag="in_customerio", destination=Destination.CUSTOMERIO, people=cio, now=now
    )
    result.entered_kit, result.left_kit, result.members_kit = _diff(
        sync=sync, flag="in_kit", destination=Destination.KIT, people=kit, now=now
    )
    sync.last_synced_at = now
    sync.last_entered, sync.last_left = result.entered, result.left
    sync.members_customerio, sync.members_kit = result.members_customerio, result.members_kit
    sync.last_error = ""
    sync.save()
    return result


@transaction.atomic
def audience_person_leave_all(*, user: User) -> int:
    """The person leaves every audience at once (consent withdrawn): each provider that was told they
    were in is told they left, and their membership rows go. Returns how many audiences they left."""
    memberships = list(
        AudienceMember.objects.select_for_update(of=("self",))
        .filter(user=user)
        .select_related("profile__audience_sync")
    )
    for member in memberships:
        sync = getattr(member.profile, "audience_sync", None)
        if sync is None or user.deleted_at is not None:
            continue
        messages = []
        if member.in_customerio:
            messages += _messages(sync=sync, destination=Destination.CUSTOMERIO, entered=False, user_ids=[user.pk])
        if member.in_kit:
            messages += _messages(sync=sync, destination=Destination.KIT, entered=False, user_ids=[user.pk])
        OutboxMessage.objects.bulk_create(messages)
    AudienceMember.objects.filter(pk__in=[m.pk for m in memberships]).delete()
    return len(memberships)


def audience_results_refresh_soon() -> None:
    """Queue a refresh of the latest-results view (after a consent change or an erasure), so audience counts
    follow within a minute instead of the hour. At most one refresh waits (a queueing lock)."""
    tasks.defer_once("engagement.big_five_latest_refresh", queueing_lock="big_five_latest_refresh")


def audiences_refresh(*, sync: bool = True, log=lambda message: None) -> dict[str, int]:
    """The periodic job: refresh the latest-results view, record each active profile's size for today,
    and sync the audiences that have a destination. Each profile is its own transaction: one failure
    is recorded on its sync row (``last_error``) and does not stop the others."""
    rows = engagement_services.big_five_latest_refresh()
    log(f"latest Big Five results: {rows} customers")
    counts = {"results": rows, "profiles": 0, "synced": 0, "failed": 0}
    for profile in profiles_selectors.customer_profiles_for_audiences():
        snapshot = audience_snapshot_record(profile=profile)
        counts["profiles"] += 1
        if (
            not sync
            or not AudienceSync.objects.filter(profile=profile).filter(Q(to_customerio=True) | Q(to_kit=True)).exists()
        ):
            log(f"{profile.name}: {snapshot.size} people")
            continue
        try:
            result = audience_sync(profile=profile)
        except Exception as exc:  # recorded on the profile, the others go on
            AudienceSync.objects.filter(profile=profile).update(last_error=str(exc)[:2000], updated_at=timezone.now())
            counts["failed"] += 1
            log(f"{profile.name}: sync failed: {exc}")
            continue
        counts["synced"] += 1
        log(f"{profile.name}: {snapshot.size} people, {result.entered} entered, {result.left} left")
    # Profiles deleted or deactivated since: their audiences leave every provider.
    for stale in AudienceSync.objects.filter(Q(profile__deleted_at__isnull=False) | Q(profile__is_active=False)).filter(
        Q(members_customerio__gt=0) | Q(members_kit__gt=0)
    ):
        audience_sync(profile=stale.profile)
    return counts
